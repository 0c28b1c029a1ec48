"""The current folder, checked before anything imports PyTorch: a folder deleted under the shell
(``git checkout``, ``rm -rf build``, a CI clean-up) makes ``import torch`` end the process with exit code 2
(oneMKL's "FATAL ERROR: Cannot load libtorch_cpu.so"), which would otherwise read as the workload's fault."""

from __future__ import annotations

import os

from advisor.errors import ConfigError


def check_current_folder() -> None:
    """ConfigError when the current folder no longer exists; nothing otherwise."""
    try:
        os.getcwd()
    except FileNotFoundError:
        raise ConfigError("The current folder no longer exists (deleted?): PyTorch cannot load from it.",
                          hint="Fix: cd to an existing folder, then run advisor again.") from None
