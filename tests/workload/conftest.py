"""Puts this folder on sys.path so the workload tests share workload_helpers (pytest's importlib mode does not)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
