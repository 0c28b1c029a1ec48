"""The channels-first batch-norm constants shipped in ``advisor.predictor.calibration`` are the ones the stored H200
kernel trace gives (``bench/kernel_trace_h200.py``), and the trace's kernels are counted once."""

from __future__ import annotations

import json
import statistics

import pytest
from bench_scripts import bench_modules

from advisor.hardware.specs import resolve_gpu
from advisor.predictor.calibration import BN_PLANE_BLOCKS_PER_SM, BN_PLANE_SECONDS
from advisor.predictor.optable import PLANE_SM_CLOCK_HZ, sm_clock_flops

# gpu_rows and per_op_profile too: kernel_trace_h200 imports them by bare name when it prices a job.
kt, _, _ = bench_modules("kernel_trace_h200", "gpu_rows", "per_op_profile")


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in kt.DATA.read_text().splitlines() if line.strip()]


def test_kernels_under_cuptis_own_events_are_not_counted_twice(rows):
    for r in rows:
        launched = sum(k["us"] for k in kt._launched(r))
        assert launched <= r["device_us_total"] * 1.001
        assert launched >= r["device_us_total"] * 0.95, r["label"]
    doubled = next(r for r in rows if r["label"] == "ResNet-50 NCHW" and r["precision"] == "bf16")
    assert sum(k["us"] for k in doubled["kernels"]) > 1.05 * doubled["device_us_total"]


def test_shipped_batch_norm_paces_are_the_traces_medians(rows):
    calls = kt.plane_calls(rows)
    assert set(calls) == {("native", "forward"), ("native", "backward"), ("cudnn", "forward"), ("cudnn", "backward")}
    sm_equivalents = sm_clock_flops(resolve_gpu("H200")) / (128.0 * PLANE_SM_CLOCK_HZ)
    pooled = []
    for (library, direction), found in calls.items():
        per_element = statistics.median(s / e for c, e, s in found if c <= 128)
        assert BN_PLANE_SECONDS[f"{library}.{direction}"] == pytest.approx(per_element, rel=0.01)
        pooled += [c * per_element * e / (s * sm_equivalents) for c, e, s in found if c > 2 * sm_equivalents]
    assert BN_PLANE_BLOCKS_PER_SM == pytest.approx(statistics.median(pooled), rel=0.01)


def test_checks_are_not_used_for_the_constants(rows):
    check_rows = [r for r in rows if f"{r['label']} {r['precision']}" in kt.CHECK_LABELS]
    assert len(check_rows) == len(kt.CHECKS)
    assert kt.plane_calls(rows) == kt.plane_calls([r for r in rows if r not in check_rows])


def test_gemm_tile_reads_each_librarys_kernel_names():
    assert kt.gemm_tile("sm90_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize128x128x32_warpgroupsize1x1x1_execute") \
        == "128x128"
    assert kt.gemm_tile("nvjet_sm90_tst_192x192_64x4_2x1_v_bz_coopB_bias_TNN") == "192x192"
    assert kt.gemm_tile("void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_bf16_256x128_64x3_nn_align2>") \
        == "256x128"
    assert kt.gemm_tile("void at::native::batch_norm_backward_kernel<c10::BFloat16, float, float, int>") is None


def test_tf32_pointwise_convolutions_ran_128_tiles_above_the_staging_cap(rows):
    """The fact bench/README.md states ("TF32 tiles in the H200 trace"): ResNet-50's TF32 pointwise convolutions on
    the H200 ran tiles no larger than 128 x 128 (the roofline's TF32 tile) and, where K and N are 512 or more,
    exactly 128 x 128 at more than 300 TFLOP/s."""
    from advisor.predictor.gemm import TILE_FULL

    tf32 = next(r for r in rows if r["label"] == "ResNet-50 NCHW" and r["precision"] == "tf32")
    calls = kt.pointwise_forwards(tf32)
    assert len(calls) >= 8
    assert all(n != 2 * k for _, n, k in calls)  # the strided projection shortcuts are left out
    for (m, n, k), (tile, seconds) in calls.items():
        edges = sorted(int(x) for x in tile.split("x"))
        assert edges[0] <= TILE_FULL[1] and edges[0] * edges[1] <= TILE_FULL[0] * TILE_FULL[1]
        if k >= 512 and min(m, n) >= 512:
            assert tile == "128x128"
            assert 2 * m * n * k / seconds > 300e12


def test_pointwise_convolutions_priced_as_bench_readme_states(rows):
    """bench/README.md ("TF32 tiles in the H200 trace"): ResNet-50's 16-bit pointwise convolutions, priced without
    their layout passes and index work, are priced right (bf16 median 0.95), the TF32 ones at 0.67 of that price,
    and the largest TF32 ones at about half. A pricing change that moves these must update that text."""
    import statistics

    from advisor.predictor.calibration import load_calibration

    cal = load_calibration()
    medians = {}
    for r in rows:
        if r["label"] != "ResNet-50 NCHW" or r["precision"] not in ("bf16", "tf32"):
            continue
        priced = kt.priced_forwards(kt.step_model(r, cal), r["batch_size"])
        ratios = {shape: seconds / priced[shape][2] for shape, (_, seconds) in kt.pointwise_forwards(r).items()}
        medians[r["precision"]] = statistics.median(ratios.values())
        if r["precision"] == "tf32":
            large = [v for (m, n, k), v in ratios.items() if k >= 512 and min(m, n) >= 512]
            assert len(large) == 3 and all(0.4 < v < 0.55 for v in large)
    assert medians["bf16"] == pytest.approx(0.95, abs=0.01)
    assert medians["tf32"] == pytest.approx(0.67, abs=0.01)
    readme = (kt.REPO / "bench" / "README.md").read_text(encoding="utf-8")
    for precision, median in medians.items():
        assert f"| {precision} | | median | | | | | | **{median:.2f}** |" in readme
