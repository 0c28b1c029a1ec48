"""What README "Python API" says of an in-memory workload that does not pickle (a lambda, a closure, a function
defined in ``__main__``): it is probed in a fork of the caller, and where the caller already ran a PyTorch CPU
operation, the fork's CPU probe runs on one thread, with a ProbeNote saying so. A fresh interpreter keeps the
test's own torch state out of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys, warnings
sys.path.insert(0, {repo!r})
import torch, advisor
torch.set_num_threads(2)
torch.randn(256, 256) @ torch.randn(256, 256)  # a notebook cell that already ran torch
wl = advisor.Workload(model=lambda: torch.nn.Linear(8, 2),
                      make_batch=lambda b: (torch.randn(b, 8), torch.randint(0, 2, (b,))))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    prof = advisor.profile(wl, devices=["cpu"], probe_seconds=1, batch_sizes=[8, 16])
notes = [str(w.message) for w in caught if isinstance(w.message, advisor.ProbeNote)]
print(json.dumps({{"threads": prof.devices[0].threads, "notes": notes}}))
"""


def test_a_lambda_workload_after_a_torch_operation_is_probed_in_a_fork_on_one_thread():
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO))], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["threads"] == 1
    assert any(n.startswith("cpu: this process had already used PyTorch's CPU thread pool, which a forked probe "
                            "cannot reuse, so the CPU probe ran on 1 thread") and "importable module" in n
               for n in got["notes"]), got["notes"]
