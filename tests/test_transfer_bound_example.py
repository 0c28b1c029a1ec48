"""The seed scenario of issue 13, end to end: a small model on very wide rows (examples/wide_features.py), where
copying each batch to a GPU eats the GPU's advantage and a CPU instance wins. A real probe on this machine, the
real catalog, the real ranking."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "wide_features.py"


@pytest.mark.slow
def test_wide_rows_the_copy_eats_the_gpus_advantage_and_a_cpu_wins(tmp_path):
    from advisor.hardware.specs import load_gpu_specs
    from advisor.predictor.input_bound import PAGEABLE_LINK_FRACTION
    from advisor.settings import Settings

    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'history.db'}")
    rec = advisor.recommend(str(EXAMPLE), probe_seconds=6, save=False, providers="aws,gcp,azure", settings=settings)
    assert rec.chosen.tier == "cpu", rec.verdict.recommendation
    duel = rec.verdict.cpu_vs_gpu
    assert duel is not None and duel.winner == "cpu"
    gpu = duel.gpu
    # The GPU's step is set by the copy, not its compute: one GPU's share of the batch (a row of 65,536 float32
    # features and its float32 target each) over its host link from pageable memory.
    assert gpu.bound == "transfer" and gpu.gpu_utilization < 0.5 and "transfer-bound" in gpu.reason
    per_gpu = -(-rec.batch_size // gpu.gpu_count)
    link = load_gpu_specs()[gpu.gpu].host_link_gbs * 1e9 * PAGEABLE_LINK_FRACTION
    assert gpu.transfer_seconds == pytest.approx((65_536 * 4 + 4) * per_gpu / link, rel=1e-6)
    # More than half of the GPU's job is the copy (gpu_utilization < 0.5 above), and the CPU wins. Whether the GPU's
    # compute alone would have cost less than the CPU's job is not asserted: the CPU instance is priced from this
    # machine's probe, so the answer depends on the machine and its hour. On session 47's Intel Xeon VM (AVX-512 and
    # AMX) it held in one CI run, then failed in the next and in three runs after it: the CPU's job came out at
    # 26-28 s, 0.00050 USD, against 0.00067 for the GPU's compute alone. A fast enough CPU wins without the copy.
