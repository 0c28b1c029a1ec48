"""A model too big for this machine's memory is a result, not an error: ``recommend`` answers from the analysis.

The model below has 6.7 billion parameters (107 GB of weights, gradients and AdamW state in fp32): one real
step would never fit this machine. The analysis traces it on fake tensors (nothing allocated), sees that, and
the probe skips the real step; the CPU is priced from the analysis over this CPU's op rates.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

pytestmark = pytest.mark.slow

HUGE = textwrap.dedent("""
    import torch
    from torch import nn

    def build_model():
        return nn.Sequential(*[nn.Linear(8192, 8192) for _ in range(100)])

    def make_batch(batch_size):
        return torch.randn(batch_size, 8192), torch.randn(batch_size, 8192)

    DATASET_SIZE = 100_000
    EPOCHS = 1
    BATCH_SIZE = 16
""")


def test_recommend_answers_for_a_model_one_step_of_which_does_not_fit_this_machine(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text(HUGE)
    result = CliRunner().invoke(build_app(), ["recommend", str(path), "--no-save", "--probe-seconds", "5",
                                              "--top", "500", "--json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout)
    assert rec["chosen"]["gpu"] is not None
    assert any("does not fit this machine's" in n and "nothing was timed here" in n for n in rec["notes"])
    assert rec["measured_devices"] == []  # no step of the model was timed on this CPU
    cpus = [c for c in rec["candidates"] if c["gpu"] is None]
    assert cpus and all(c["method"] == "scaled" for c in cpus)
