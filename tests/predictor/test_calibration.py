"""Calibration: the packaged constants load; a bad file is an error."""

from __future__ import annotations

import json
import math

import pytest

from advisor.errors import PredictionError
from advisor.predictor import calibration as C


def test_packaged_calibration_loads_with_provenance():
    cal = C.load_calibration()
    for key in C.EFFICIENCY_KEYS:
        assert 0 < cal.compute_efficiency[key] <= 1
    assert 0 < cal.memory_efficiency <= 1
    assert cal.operand_reuse > 0 and cal.gemm_k_fill >= 0 and cal.conv_layout_passes >= 0
    assert 0.1 <= cal.rel_sigma < 1 and 0.05 <= cal.ratio_sigma < 1
    prov = cal.provenance
    assert prov["fitted_on"] and prov["rows_used"] > 40 and "reference_benchmarks.csv" in " ".join(prov["data"])
    # Fitted on every source; the leave-one-source-out error is reported, not bounded here (bench/README.md).
    assert 0 < prov["loso_median_abs_log_error"] < 1
    low, high = cal.interval(100.0)
    assert low < 100.0 < high and math.isclose(low * high, 100.0**2)
    assert cal.interval(100.0, from_probe=True) == pytest.approx(
        (100 * math.exp(-cal.ratio_sigma), 100 * math.exp(cal.ratio_sigma)))


def test_bad_calibration_file(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text("{not json")
    with pytest.raises(PredictionError, match="Fix:") as err:
        C.load_calibration(bad)
    assert "--force-reinstall" in str(err.value) and 'README "How the time is predicted"' in str(err.value)
    with pytest.raises(PredictionError):
        C.load_calibration(tmp_path / "missing.json")
    good = tmp_path / "ok.json"
    good.write_text(json.dumps({"memory_efficiency": 0.5, "unknown_key": 1}))
    assert C.load_calibration(good).memory_efficiency == 0.5


def _analysis(conv_flops: float, mm_flops: float):
    from advisor.schemas import Analysis, OpRecord

    ops = [OpRecord(op="aten.convolution.default", kind="conv", phase="forward", flops=(conv_flops, 2 * conv_flops),
                    bytes=(1e6, 2e6)),
           OpRecord(op="aten.mm.default", kind="matmul", phase="forward", count=2, flops=(mm_flops, 2 * mm_flops),
                    bytes=(1e6, 2e6))]
    return Analysis(batch_sizes=(1, 2), ops=ops, flops_per_sample=conv_flops + mm_flops, param_count=1,
                    trainable_param_count=1, param_bytes=4, gradient_bytes=4, optimizer="SGD",
                    optimizer_state_bytes=0)


def test_interval_width_follows_the_kind_of_job():
    """A convolution-dominated step (by FLOPs x count) gets the conv rows' width, others the matmul rows'; on a
    tensor-heavy GPU (16-bit tensor rate >= 10x FP32) that kind's tensor-heavy rows'; a calibration without a
    kind's figure, the global one."""
    from advisor.hardware.specs import resolve_gpu

    assert C.dominant_kind(_analysis(3e9, 1e9)) == "conv"  # 3e9 vs 2 x 1e9
    assert C.dominant_kind(_analysis(1e9, 1e9)) == "matmul"  # 1e9 vs 2 x 1e9: the count counts
    assert C.dominant_kind(_analysis(0.0, 0.0)) == "matmul"
    kept = _analysis(3e9, 1e9)
    assert C.dominant_kind(kept) == "conv" and C.dominant_kind(kept) == "conv"  # the second from the cache
    kept.ops = _analysis(1e9, 1e9).ops  # other ops: the kept kind is not theirs
    assert C.dominant_kind(kept) == "matmul"
    h100, rtx, v100 = resolve_gpu("H100-SXM"), resolve_gpu("RTX4090"), resolve_gpu("V100-16GB")
    conv, mm = _analysis(3e9, 1e9), _analysis(1e9, 1e9)
    assert C.workload_kind(conv, h100) == "conv/tensor-heavy" and C.workload_kind(mm, h100) == "matmul/tensor-heavy"
    assert C.workload_kind(conv, rtx) == "conv" and C.workload_kind(conv, v100) == "conv"  # 2x and 8x
    assert C.workload_kind(conv) == "conv"
    cal = C.Calibration(rel_sigma=0.3, ratio_sigma=0.2, sigma_by_kind={
        "conv": {"rel_sigma": 0.4, "ratio_sigma": None, "bias": -0.15},
        "conv/tensor-heavy": {"rel_sigma": 0.9, "ratio_sigma": 0.7, "bias": 0.3},
        "matmul": {"rel_sigma": 0.2}})
    assert cal.sigma(conv, h100) == 0.9 and cal.sigma(conv, rtx) == 0.4 and cal.sigma(conv) == 0.4
    assert cal.sigma(mm, rtx) == 0.2 and cal.sigma(mm, h100) == 0.3 and cal.sigma(None) == 0.3
    assert cal.sigma(conv, h100, from_probe=True) == 0.7
    assert cal.sigma(conv, rtx, from_probe=True) == 0.2  # no conv ratio figure: the global one
    assert cal.kind_bias(conv, h100) == ("conv/tensor-heavy", 0.3) and cal.kind_bias(mm, rtx) is None
    assert cal.interval(100.0, analysis=conv, spec=h100) == pytest.approx((100 * math.exp(-0.9), 100 * math.exp(0.9)))
    assert C.Calibration(rel_sigma=0.3).sigma(conv, h100) == 0.3


def test_a_kind_split_by_precision_class_is_looked_up_first_and_the_kind_alone_after():
    """A job's figures are its kind's at its precision class where the calibration has them (16-bit: bf16, fp16;
    32-bit: fp32, tf32), else its kind's: a calibration without the split, or a split with too few rows."""
    from advisor.hardware.specs import resolve_gpu

    h100, rtx = resolve_gpu("H100-SXM"), resolve_gpu("RTX4090")
    conv = _analysis(3e9, 1e9)
    assert C.workload_kind(conv, h100, "bf16") == C.workload_kind(conv, h100, "fp16") == "conv/tensor-heavy/16-bit"
    assert C.workload_kind(conv, h100, "tf32") == C.workload_kind(conv, h100, "fp32") == "conv/tensor-heavy/32-bit"
    assert C.workload_kind(conv, rtx, "fp16") == "conv/16-bit" and C.workload_kind(conv, None, "fp32") == "conv/32-bit"
    cal = C.Calibration(rel_sigma=0.3, ratio_sigma=0.2, sigma_by_kind={
        "conv/tensor-heavy": {"rel_sigma": 0.4, "ratio_sigma": 0.35, "bias": 0.2},
        "conv/tensor-heavy/16-bit": {"rel_sigma": 0.6, "ratio_sigma": 0.35, "bias": 0.3},
        "conv": {"rel_sigma": 0.25, "bias": -0.05}})
    assert cal.sigma(conv, h100, precision="fp16") == 0.6 and cal.kind_bias(conv, h100, "bf16") == (
        "conv/tensor-heavy/16-bit", 0.3)
    # no 32-bit split: the kind's figures, and the kind named as the one they are for
    assert cal.sigma(conv, h100, precision="tf32") == 0.4 and cal.kind_bias(conv, h100, "fp32") == (
        "conv/tensor-heavy", 0.2)
    assert cal.sigma(conv, h100) == 0.4  # no precision: the kind alone
    assert cal.sigma(conv, rtx, precision="fp16") == 0.25 and cal.kind_bias(conv, rtx, "fp16") == ("conv", -0.05)
    assert cal.interval(100.0, analysis=conv, spec=h100, precision="bf16") == pytest.approx(
        (100 * math.exp(-0.6), 100 * math.exp(0.6)))
    bare = C.Calibration(rel_sigma=0.3)
    assert bare.sigma(conv, h100, precision="bf16") == 0.3 and bare.kind_bias(conv, h100, "bf16") is None


def test_a_split_on_the_gpus_architecture_is_looked_up_before_the_split():
    """A job on a GPU whose architecture has its own figure at the job's precision class takes that one; another
    architecture of the same class, or another precision, takes the class's."""
    from advisor.hardware.specs import resolve_gpu

    rtx3090, titan = resolve_gpu("RTX3090"), resolve_gpu("Titan RTX")
    assert (rtx3090.architecture, titan.architecture) == ("Ampere-GA10x", "Turing")
    conv = _analysis(3e9, 1e9)
    cal = C.Calibration(rel_sigma=0.3, ratio_sigma=0.2, sigma_by_kind={
        "conv": {"rel_sigma": 0.25, "bias": -0.05},
        "conv/16-bit": {"rel_sigma": 0.4, "ratio_sigma": 0.35, "bias": -0.05},
        "conv/16-bit@Ampere-GA10x": {"rel_sigma": 0.45, "ratio_sigma": 0.35, "bias": -0.27}})
    assert cal.sigma(conv, rtx3090, precision="fp16") == 0.45
    assert cal.kind_bias(conv, rtx3090, "bf16") == ("conv/16-bit@Ampere-GA10x", -0.27)
    assert cal.kind_bias(conv, titan, "fp16") == ("conv/16-bit", -0.05)
    assert cal.sigma(conv, titan, precision="fp16") == 0.4
    assert cal.kind_bias(conv, rtx3090, "fp32") == ("conv", -0.05) and cal.kind_bias(conv, rtx3090) == ("conv", -0.05)


def test_the_lean_note_names_the_architecture_whose_rows_it_is():
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.bias_notes import kind_bias_note

    rtx3090 = resolve_gpu("RTX3090")
    conv = _analysis(3e9, 1e9)
    cal = C.Calibration(rel_sigma=0.3, ratio_sigma=0.2, sigma_by_kind={
        "conv/16-bit": {"rel_sigma": 0.4, "bias": -0.2},
        "conv/16-bit@Ampere-GA10x": {"rel_sigma": 0.45, "bias": -0.27}})
    (note,) = kind_bias_note(cal, conv, rtx3090, "fp16")
    assert note.startswith(f"convolution-heavy jobs in 16-bit precision on Ampere-GA10x GPUs like the {rtx3090.name} "
                           "took a median 24% less time than this model predicts")
    (pooled,) = kind_bias_note(cal, conv, resolve_gpu("Titan RTX"), "fp16")  # Turing: the class's figure and words
    assert "on GPUs like the" in pooled and "(16-bit tensor rate < 10x FP32)" in pooled and "18% less time" in pooled


def test_packaged_calibration_widths_and_leans_by_kind():
    """The shipped per-kind figures come from the validation rows: CNNs on tensor-heavy GPUs lean the slow way
    (they ran slower than predicted), and CNNs elsewhere (the GeForce cards' 16-bit lean) are less certain than
    the whole; every fitted row is in one kind. Until the channels-first batch norms were priced (2026-12-04,
    bench/README.md "Where the H200's steps go"), tensor-heavy CNNs were the least certain (rel_sigma 0.42), and
    their 16-bit rows leaned furthest."""
    cal = C.load_calibration()
    every = cal.sigma_by_kind
    coarse = {"conv", "conv/tensor-heavy", "matmul", "matmul/tensor-heavy"}
    kinds = {k: v for k, v in every.items() if k in coarse}
    assert set(kinds) == coarse
    heavy = kinds["conv/tensor-heavy"]
    # CNNs off tensor-heavy GPUs (the GeForce cards' 16-bit lean) are wider than the whole; since GeForce 16-bit
    # memory-bound kernels are priced at fp32's bandwidth fraction (2026-12-06) they are no longer the widest kind
    assert kinds["conv"]["rel_sigma"] > cal.rel_sigma
    assert max(kinds, key=lambda k: kinds[k]["rel_sigma"]) == "matmul/tensor-heavy"
    assert heavy["bias"] > 0.1 > kinds["conv"]["bias"]
    assert all(k["rel_sigma"] >= 0.15 for k in every.values())
    assert sum(k["rows"] for k in kinds.values()) == cal.provenance["rows_used"]
    # each kind's precision splits (those written) hold some of its rows; on tensor-heavy GPUs both CNN splits lean
    # the slow way, 32-bit CNNs (A100 TF32, the H200's FP32 row) further than 16-bit ones now
    splits = {k: v for k, v in every.items() if k not in coarse and "@" not in k}
    assert splits and all(k.rsplit("/", 1)[0] in coarse and k.endswith(("/16-bit", "/32-bit")) for k in splits)
    for kind, figures in kinds.items():
        assert sum(v["rows"] for k, v in splits.items() if k.rsplit("/", 1)[0] == kind) <= figures["rows"]
    assert all(v["rows"] >= 10 for v in splits.values())
    half_cnn, full_cnn = every["conv/tensor-heavy/16-bit"], every["conv/tensor-heavy/32-bit"]
    assert 0 < half_cnn["bias"] < full_cnn["bias"] and half_cnn["rows"] + full_cnn["rows"] == heavy["rows"]
    # and each split's architectures with 10+ rows: a part of the split's rows; GA10x cards' 16-bit rows (RTX 3090,
    # A6000: Lambda, timm) ran faster than predicted where the class they share with Turing and Volta says less
    archs = {k: v for k, v in every.items() if "@" in k}
    assert archs and all(k.split("@")[0] in splits and v["rows"] >= 10 for k, v in archs.items())
    for split, figures in splits.items():
        assert sum(v["rows"] for k, v in archs.items() if k.split("@")[0] == split) <= figures["rows"]
    for kind in ("conv", "matmul"):
        assert every[f"{kind}/16-bit@Ampere-GA10x"]["bias"] < -0.1 < every[f"{kind}/16-bit"]["bias"]


def test_the_fits_bounds_keep_fractions_of_a_peak_at_most_one_and_the_overlap_exponent_at_least_one():
    from advisor.predictor.calibration import BOUNDS, EFFICIENCY_KEYS, PRIORS, bounds

    for name in (*EFFICIENCY_KEYS, "memory_efficiency", "half_memory_efficiency"):
        assert bounds(name) == (1e-3, 1.0)
    assert bounds("host_overlap_exponent") == (1.0, 1e6)
    assert bounds("operand_reuse") == bounds("arch.Hopper.half") == (1e-8, 1e6)
    assert set(BOUNDS) <= set(PRIORS)


def test_a_gpu_whose_architecture_has_no_rows_gets_a_wider_interval_and_a_note():
    """The shipped calibration has no Blackwell row: a B200 (or RTX 5090) job's interval is its split's widest
    per-architecture figure widened by ARCH_PRIOR (``Calibration.unseen_arch_sigma``), wider than an H100's for
    the same job, and a note says so; a GPU of an architecture with rows keeps its figure and gets no such note."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.bias_notes import kind_bias_note

    cal = C.load_calibration()
    mm = _analysis(0.0, 1e12)
    h100, b200, rtx5090, a100 = (resolve_gpu(g) for g in ("H100-SXM", "B200", "RTX5090", "A100-80GB"))
    assert cal.has_rows(h100) and cal.has_rows(a100) and not cal.has_rows(b200) and not cal.has_rows(rtx5090)
    every = cal.sigma_by_kind
    hopper = every["matmul/tensor-heavy/16-bit@Hopper"]["rel_sigma"]
    assert cal.sigma(mm, h100, precision="bf16") == hopper  # unchanged: Hopper's own figure
    assert cal.sigma(mm, a100, precision="bf16") == every["matmul/tensor-heavy/16-bit@Ampere-GA100"]["rel_sigma"]
    widest = max(f["rel_sigma"] for k, f in every.items() if k.startswith("matmul/tensor-heavy/16-bit"))
    wide = cal.sigma(mm, b200, precision="bf16")
    assert wide == pytest.approx(math.hypot(widest, C.UNSEEN_ARCH_Z80 * C.ARCH_PRIOR[1]))
    assert wide > hopper + 0.05
    assert cal.sigma(mm, b200, from_probe=True, precision="bf16") > cal.sigma(mm, h100, from_probe=True,
                                                                              precision="bf16")
    notes = kind_bias_note(cal, mm, b200, "bf16")
    assert any(n.startswith("no published or measured rows of Blackwell-GB100 GPUs in the calibration")
               and f"{math.exp(wide):.2f}" in n for n in notes)
    assert any("Blackwell-GB20x" in n for n in kind_bias_note(cal, mm, rtx5090, "bf16"))
    # The way a B200's 16-bit estimate leans, from published rows (judged, never fitted): said at 16 bits only,
    # and not of the consumer Blackwell parts the B200's GEMM grid says nothing of.
    assert any("likely takes less time than predicted" in n for n in notes)
    assert not any("likely takes less time" in n for n in kind_bias_note(cal, mm, b200, "fp32"))
    assert not any("likely takes less time" in n for n in kind_bias_note(cal, mm, rtx5090, "bf16"))
    assert not any("no published or measured rows" in n for n in kind_bias_note(cal, mm, h100, "bf16"))
