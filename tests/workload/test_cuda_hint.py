"""A training script's habit of putting the model or the batch on CUDA, on a machine without one: the fix says to
create them on the CPU (advisor moves them), not "make build_model() run on its own"."""

from __future__ import annotations

import pytest
import torch
from workload_helpers import GOOD_BATCH, GOOD_MODEL, assert_message, write

from advisor.errors import WorkloadError
from advisor.workload import check_workload, load_workload

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def test_a_model_put_on_cuda_gets_the_cpu_advice(tmp_path):
    path = write(tmp_path, "def build_model():\n    return nn.Linear(64, 10).cuda()\n" + GOOD_BATCH)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, f"{path}:6", "build_model() raised")
    assert err.value.hint.startswith("Fix: create the model on the CPU in build_model(): drop .cuda()")
    assert "advisor moves it to each device it probes" in err.value.hint


def test_a_batch_made_on_cuda_gets_the_cpu_advice(tmp_path):
    batch = ("def make_batch(batch_size):\n"
             "    return torch.randn(batch_size, 64, device='cuda'), torch.randint(0, 10, (batch_size,))\n")
    path = write(tmp_path, GOOD_MODEL + batch)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert_message(err, "make_batch(2) raised")
    assert err.value.hint.startswith("Fix: create the batch on the CPU in make_batch: drop .cuda()")


def test_an_optimizer_error_keeps_its_own_fix(tmp_path):
    opt = "def configure_optimizer(params):\n    raise AssertionError('Torch not compiled with CUDA enabled')\n"
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + opt)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    assert "create the model" not in err.value.hint
