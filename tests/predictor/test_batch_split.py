"""How a global batch is split over K data-parallel GPUs: the busiest GPU takes the batch over K rounded up, and
its memory is what must fit; fewer samples than GPUs is refused. The mutation audit found both untested at their
edges (an uneven batch sized by its smallest share, a batch one short of the GPU count estimated)."""

from __future__ import annotations

import pytest

from advisor.errors import PredictionError
from tests.predictor.test_ddp_memory_note import _predict


def test_an_uneven_batch_is_sized_by_the_gpu_that_takes_the_most():
    # 10 over 4 GPUs: up to 3 a GPU, so the memory of 12 over 4, not of 8 over 4 (2 a GPU)
    eight, ten, twelve = (_predict(4, batch) for batch in (8, 10, 12))
    assert (eight.per_device_batch_size, ten.per_device_batch_size) == (2, 3)
    assert ten.peak_memory_gib == twelve.peak_memory_gib == pytest.approx(5.1189, abs=1e-4)
    assert eight.peak_memory_gib == pytest.approx(4.5144, abs=1e-4)
    assert "global batch 10 does not split evenly over 4 GPUs; each GPU gets up to 3." in ten.notes


def test_one_sample_over_what_a_full_copy_fits_is_priced_sharded():
    # 504 over 4 H100s: 126 a GPU, 79.5 GiB with a full copy (DDP). 505: up to 127 a GPU, and a full copy needs
    # 80.1 GiB of the 80: priced sharded, at 77.8 GiB a GPU.
    ddp, over = _predict(4, 504), _predict(4, 505)
    assert (ddp.sharded, ddp.per_device_batch_size, round(ddp.peak_memory_gib, 1)) == (False, 126, 79.5)
    assert (over.sharded, over.per_device_batch_size, round(over.peak_memory_gib, 1)) == (True, 127, 77.8)
    assert any(n.startswith("priced as sharded data parallel (FSDP FULL_SHARD / ZeRO-3) over 4 GPUs: a full copy "
                            "per GPU (DDP) needs 80.1 GiB, more than 80.0 GiB") for n in over.notes)


def test_a_batch_one_short_of_the_gpu_count_is_refused():
    with pytest.raises(PredictionError) as err:
        _predict(8, 7)
    assert err.value.cli_message == ("batch size 7 cannot be split over 8 GPUs: each GPU needs at least one sample "
                                     "per step.")
    assert _predict(8, 8).per_device_batch_size == 1  # one each: estimated
