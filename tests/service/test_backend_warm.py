"""A worker's warm-up loads what a ranking imports, so the first request does not pay for it while the
requests behind it wait (scikit-learn alone took 1.3 s of a worker's first ranking here)."""

from __future__ import annotations

import json
import subprocess
import sys

from service_helpers import PROFILE_FILE, REPO

_SCRIPT = """
import json, sys
from advisor.service.backend import Backend
from advisor.service.config import ServiceConfig
from advisor.service.wire import RecommendationRequest
from advisor.settings import Settings

backend = Backend(ServiceConfig(settings=Settings.from_env({}, database_url=sys.argv[2])))
backend.warm()
import gc
thresholds = gc.get_threshold()
before = set(sys.modules)
raw = json.dumps({"profile": json.load(open(sys.argv[1])), "dataset_size": 20000, "epochs": 2}).encode()
rec, body = backend.recommend(RecommendationRequest.model_validate_json(raw), raw)
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("sklearn", "scipy", "torch"))
print(json.dumps({"id": rec.id, "chosen": rec.chosen.instance_type, "new": new, "gc": thresholds}))
"""


def test_the_first_ranking_after_the_warm_up_imports_no_numeric_library(tmp_path):
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(PROFILE_FILE), f"sqlite:///{tmp_path / 'h.db'}"],
                         cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["id"] == 1 and result["chosen"]
    assert result["new"] == []
    # a worker collects garbage less often than Python's default (700, 10, 10): see Backend.warm
    assert result["gc"][0] >= 10_000
