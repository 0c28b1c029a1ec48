"""A model that trains in float64: priced at each GPU's FP64 rate (profiles/gpus.csv), labelled "fp64", noted."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import api
from advisor.hardware.specs import load_gpu_specs, resolve_gpu
from advisor.predictor.calibration import Calibration, load_calibration
from advisor.predictor.estimate import EstimateContext, estimate
from advisor.predictor.fp64 import float64_share, fp64_note, priced_precision
from advisor.predictor.roofline import predict_step
from advisor.schemas import Analysis, GpuSpec, JobSpec, OpRecord, Target

TABULAR = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
CAL = load_calibration()
# a GPU whose FP64 rate is 1/64 of its FP32, with no latency, host time or staging in the way of the FLOPs
SPEC = GpuSpec(name="Test-GPU", memory_gib=24, memory_bandwidth_gbs=1e6, fp32_tflops=64.0, tf32_tflops=64.0,
               fp16_bf16_tflops=128.0, fp64_tflops=1.0, bf16_supported=True)
BARE = Calibration(compute_efficiency={"matmul.fp32": 0.5, "conv.fp32": 0.4, "matmul.tf32": 0.9},
                   memory_efficiency=1.0, kernel_latency_seconds=0.0, host_seconds_per_op=0.0,
                   step_overhead_seconds=0.0, operand_reuse=1e12, gemm_k_fill=0.0, conv_index_ops=0.0)


def _one_op(kind: str, dtype: str, flops: float = 1e12) -> Analysis:
    gemm = (4096.0, 4096.0, 4096.0)
    op = OpRecord(op="aten.mm.default" if kind == "matmul" else "aten.convolution.default", kind=kind,
                  phase="forward", flops=(flops, flops), bytes=(1e6, 1e6), dtype=dtype, gemm=(gemm, gemm))
    return Analysis(batch_sizes=(1, 2), ops=[op], flops_per_sample=0.0, param_count=1, trainable_param_count=1,
                    param_bytes=8, gradient_bytes=8, optimizer="SGD", optimizer_state_bytes=0)


@pytest.mark.parametrize("kind", ["matmul", "conv"])
def test_float64_work_runs_at_the_fp64_rate_with_the_fp32_efficiency(kind):
    eff = BARE.compute_eff(kind, "fp32")
    for precision in ("fp32", "tf32", "bf16"):  # autocast and TF32 leave float64 alone
        step = predict_step(_one_op(kind, "float64"), SPEC, 1, precision, BARE)
        assert step.seconds == pytest.approx(1e12 / (1e12 * eff), rel=1e-6)  # 1 TFLOPS x the FP32 efficiency
    fp32 = predict_step(_one_op(kind, "float32"), SPEC, 1, "fp32", BARE)
    assert fp32.seconds < step.seconds / 40  # the same FLOPs in float32: at least 40x faster on this GPU


def test_a_float64_matmul_uses_the_fp64_tensor_cores_where_faster_and_a_convolution_does_not():
    tensor = SPEC.model_copy(update={"fp64_tflops": 1.0, "fp64_tensor_tflops": 2.0})
    mm = predict_step(_one_op("matmul", "float64"), tensor, 1, "fp32", BARE).seconds
    conv = predict_step(_one_op("conv", "float64"), tensor, 1, "fp32", BARE).seconds
    assert mm == pytest.approx(0.5 / BARE.compute_eff("matmul", "fp32"), rel=1e-6)  # 1 TFLOP at 2 TFLOPS
    assert conv == pytest.approx(1.0 / BARE.compute_eff("conv", "fp32"), rel=1e-6)  # at 1 TFLOPS


def test_a_gpu_without_an_fp64_figure_is_refused_for_a_float64_model_only():
    from advisor.errors import PredictionError

    bare = SPEC.model_copy(update={"fp64_tflops": None})
    assert predict_step(_one_op("matmul", "float32"), bare, 1, "fp32", BARE).seconds > 0
    with pytest.raises(PredictionError) as info:
        predict_step(_one_op("matmul", "float64"), bare, 1, "fp32", BARE)
    assert "trains in float64" in info.value.cli_message and "no FP64 figure" in info.value.cli_message
    assert "profiles" in info.value.cli_hint and "gpus.csv" in info.value.cli_hint


def _float64_profile():
    """The tabular profile (a CPU probe and an fp32 MLP's analysis) with every op in float64 (bytes doubled)."""
    prof = api.load_profile(TABULAR)
    ops = [o.model_copy(update={"dtype": "float64", "bytes": tuple(2 * b for b in o.bytes)})
           if o.dtype == "float32" else o for o in prof.analysis.ops]
    return prof, prof.model_copy(update={"analysis": prof.analysis.model_copy(update={"ops": ops})})


def test_a_float64_job_is_labelled_fp64_priced_slower_on_a_geforce_card_and_noted():
    f32, f64 = _float64_profile()
    assert float64_share(f32.analysis) == 0.0 and float64_share(f64.analysis) == 1.0
    job, ctx = JobSpec(200_000, 1, 4096), EstimateContext.load()  # a context is one profile's
    est32 = estimate(f32, job, Target.gpu("RTX4090"), context=EstimateContext.load())
    est64 = estimate(f64, job, Target.gpu("RTX4090"), context=ctx)
    assert (est32.precision, est64.precision) == ("fp32", "fp64")
    assert est64.step_seconds > 1.5 * est32.step_seconds
    (note,) = [n for n in est64.notes if n.startswith("fp64:")]
    assert "RTX4090 runs at 1.29 TFLOPS, 1/64 of its FP32 82.6" in note
    assert not any(n.startswith("fp64:") for n in est32.notes)
    assert est64.mfu_peak == "fp64" and est64.mfu is not None
    # asked for bf16, a float64 model still runs (and is labelled) in float64: autocast leaves it alone
    bf16 = estimate(f64, job, Target.gpu("RTX4090"), precision="bf16", context=ctx)
    assert bf16.precision == "fp64"
    assert not any("approximated" in n for n in bf16.notes)


def test_the_cpu_estimate_of_a_float64_job_is_its_measured_time_labelled_fp64():
    f32, f64 = _float64_profile()
    job = JobSpec(200_000, 1, 256)
    cpu32 = estimate(f32, job, Target.cpu(), context=EstimateContext.load())
    cpu64 = estimate(f64, job, Target.cpu(), context=EstimateContext.load())
    assert (cpu32.method, cpu32.precision, cpu64.precision) == ("measured", "fp32", "fp64")
    assert cpu64.seconds == cpu32.seconds  # the probe timed the job as it runs; only the label differs


def test_fp64_note_gives_a_datacentre_gpus_tensor_rate_and_no_note_for_float32():
    specs = load_gpu_specs()
    _, f64 = _float64_profile()
    note = fp64_note(f64.analysis, resolve_gpu("H100-SXM", specs))
    assert "H100-SXM runs at 67 TFLOPS (its FP64 tensor cores' rate for matmuls)" in note
    assert fp64_note(api.load_profile(TABULAR).analysis, resolve_gpu("H100-SXM", specs)) is None
    assert priced_precision(f64.analysis, "bf16") == "fp64"
    assert priced_precision(api.load_profile(TABULAR).analysis, "bf16") == "bf16"


def test_recommend_prices_a_float64_job_and_notes_its_chosen_gpu(tmp_path):
    """The chosen GPU's notes re-ran its step at the candidate's precision, "fp64", which no step takes: every
    recommend of a float64 model failed with "unknown precision 'fp64'"."""
    import advisor

    _, f64 = _float64_profile()
    rec = advisor.recommend(f64, dataset_size=20_000_000, epochs=10, batch_size=256, save=False, top=3)
    assert rec.chosen is not None and rec.chosen.gpu is not None
    assert rec.chosen.precision == "fp64"
    assert all(c.precision == "fp64" for c in rec.candidates)
    (note,) = [n for n in rec.notes if "fp64: the model trains in float64" in n]
    assert note.startswith(f"the chosen {rec.chosen.gpu}: fp64:")


def test_the_gpu_count_grid_of_a_float64_job_says_why_it_has_one_row_per_count():
    from advisor.scaling import predict_grid

    _, f64 = _float64_profile()
    grid = predict_grid(f64, gpu="A100-80GB", counts=[1, 2], precisions=["bf16", "fp32"], dataset_size=2_000_000,
                        epochs=1, batch_size=256)
    assert [(r.count, r.precision) for r in grid.rows] == [(1, "fp64"), (2, "fp64")]
    assert ("The model trains in float64, which runs as float64 at bf16, fp32 alike (autocast and TF32 leave "
            "float64 work alone): one row per GPU count.") in grid.notes
    assert not any(" as fp64" in n for n in grid.notes)
