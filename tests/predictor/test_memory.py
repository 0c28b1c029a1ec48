"""The memory-fit model: arithmetic against hand-computed GiB, largest batch, precision, probe fits."""

from __future__ import annotations

import re

import pytest

from advisor.errors import PredictionError
from advisor.predictor.memory import (
    GIB,
    HALF_ACTIVATION_FACTOR,
    memory_fit,
    memory_from_analysis,
    memory_from_probe,
    optimizer_state_multiplier,
    traced_precision,
)
from advisor.schemas import Analysis, DeviceProfile, Measurement, OpRecord
from advisor.schemas.base import MAX_COUNT

# 1 GiB of weights, 1 GiB of gradients, 2 GiB of Adam state, 0.5 GiB of activations per sample.
BASE = dict(param_bytes=1 * GIB, gradient_bytes=1 * GIB, optimizer_state_bytes=2 * GIB,
            activation_bytes_per_sample=0.5 * GIB, workspace_fraction=0.1, cuda_context_gib=0.5)


def test_peak_hand_computed():
    fit = memory_fit(**BASE, per_device_batch=8, device_memory_gib=16)
    # 0.5 context + 1.1 x (1 + 1 + 2 + 8 x 0.5)
    assert fit.peak_memory_gib == pytest.approx(0.5 + 1.1 * 8.0)  # 9.3 GiB
    assert fit.capacity_gib == 16
    assert fit.fits_memory
    # largest batch: 0.5 + 1.1 (4 + 0.5 b) <= 16  ->  b <= 20.18
    assert fit.max_batch_per_device == 20
    assert fit.breakdown["weights"] == pytest.approx(1.0)
    assert fit.breakdown["gradients"] == pytest.approx(1.0)
    assert fit.breakdown["optimizer_state"] == pytest.approx(2.0)
    assert fit.breakdown["activations"] == pytest.approx(4.0)
    assert fit.breakdown["workspace"] == pytest.approx(0.8)
    assert fit.breakdown["cuda_context"] == pytest.approx(0.5)
    assert sum(fit.breakdown.values()) == pytest.approx(fit.peak_memory_gib)


@pytest.mark.parametrize("per_sample_bytes", [1e-30, 1e-200, 1e-308, 5e-324])
def test_a_vanishing_per_sample_size_ends_with_a_capped_largest_batch(per_sample_bytes):
    """A profile is data from anyone: at a per-sample size this small, peak(b + 1) == peak(b) in floating point,
    and the nudging loops never ended (1e-30 hung a server worker); 1e-308 overflowed the closed form."""
    fit = memory_fit(**{**BASE, "activation_bytes_per_sample": per_sample_bytes}, per_device_batch=8,
                     device_memory_gib=16)
    assert fit.fits_memory and fit.max_batch_per_device in (MAX_COUNT, None)  # None: 5e-324 / GiB is 0, no limit


def test_fits_flips_exactly_after_the_max_batch():
    at_max = memory_fit(**BASE, per_device_batch=20, device_memory_gib=16)
    over = memory_fit(**BASE, per_device_batch=21, device_memory_gib=16)
    assert at_max.fits_memory and at_max.peak_memory_gib == pytest.approx(15.9)
    assert not over.fits_memory and over.peak_memory_gib == pytest.approx(16.45)
    assert over.max_batch_per_device == 20
    assert any("largest batch per device that fits is 20" in n for n in over.notes)


def test_max_batch_monotone():
    by_memory = [memory_fit(**BASE, per_device_batch=1, device_memory_gib=m).max_batch_per_device
                 for m in (6, 8, 16, 24, 40, 80)]
    assert by_memory == sorted(by_memory)
    per_sample = [memory_fit(**{**BASE, "activation_bytes_per_sample": a * GIB}, per_device_batch=1,
                             device_memory_gib=24).max_batch_per_device for a in (0.1, 0.25, 0.5, 1.0)]
    assert per_sample == sorted(per_sample, reverse=True)
    # and every batch up to the max fits, the next one does not
    for memory in (8, 16, 24):
        best = memory_fit(**BASE, per_device_batch=1, device_memory_gib=memory).max_batch_per_device
        for b in range(1, best + 1):
            assert memory_fit(**BASE, per_device_batch=b, device_memory_gib=memory).fits_memory
        assert not memory_fit(**BASE, per_device_batch=best + 1, device_memory_gib=memory).fits_memory


def test_the_largest_batch_said_fits_where_rounding_puts_the_exact_fit_a_hair_over():
    # 0.3 + 1.1 x (4 + 30 x 0.1) is 8 GiB exactly, but 8.000000000000002 in floating point: the fit is judged to a
    # billionth (schemas.base.within_capacity), so batch 30 fits; the largest batch said must be one that is judged
    # to fit, and the next one not
    kw = {**BASE, "activation_bytes_per_sample": 0.1 * GIB, "cuda_context_gib": 0.3}
    largest = memory_fit(**kw, per_device_batch=1, device_memory_gib=8).max_batch_per_device
    assert largest == 30
    assert memory_fit(**kw, per_device_batch=largest, device_memory_gib=8).fits_memory
    assert not memory_fit(**kw, per_device_batch=largest + 1, device_memory_gib=8).fits_memory


def test_nothing_fits_gives_zero():
    fit = memory_fit(**BASE, per_device_batch=1, device_memory_gib=4)  # 0.5 + 1.1 x 4.5 = 5.45 > 4
    assert not fit.fits_memory
    assert fit.max_batch_per_device == 0
    assert any("even at batch 1" in n for n in fit.notes)


def test_a_peak_just_over_the_memory_gets_the_digits_that_tell_them_apart():
    peak = memory_fit(**BASE, per_device_batch=8, device_memory_gib=80).peak_memory_gib
    for capacity in (peak - 0.01, peak - 0.001, peak - 0.5):
        fit = memory_fit(**BASE, per_device_batch=8, device_memory_gib=capacity)
        (note,) = [n for n in fit.notes if n.startswith("Needs")]
        need, has = re.match(r"Needs ([\d.]+) GiB at batch 8 per device, ([\d.]+) GiB available", note).groups()
        assert need != has and float(need) == pytest.approx(peak, abs=0.0006), note
        assert float(has) == pytest.approx(capacity, abs=0.0006) and len(need) == len(has)


def test_precision_factor_and_half_weight_copies():
    fp32 = memory_fit(**BASE, per_device_batch=8, device_memory_gib=80, precision="fp32")
    bf16 = memory_fit(**BASE, per_device_batch=8, device_memory_gib=80, precision="bf16")
    assert bf16.breakdown["activations"] == pytest.approx(HALF_ACTIVATION_FACTOR * fp32.breakdown["activations"])
    assert bf16.breakdown["half_weight_copies"] == pytest.approx(0.5)  # 16-bit copy of 1 GiB of fp32 weights
    assert "half_weight_copies" not in fp32.breakdown
    # weights, gradients and optimizer state stay fp32
    for key in ("weights", "gradients", "optimizer_state"):
        assert bf16.breakdown[key] == fp32.breakdown[key]
    expected = 0.5 + 1.1 * (1 + 1 + 2 + 0.5 + 8 * 0.5 * HALF_ACTIVATION_FACTOR)
    assert bf16.peak_memory_gib == pytest.approx(expected)
    assert bf16.max_batch_per_device > fp32.max_batch_per_device
    # tf32 changes nothing; activations already measured at bf16 are not scaled again
    tf32 = memory_fit(**BASE, per_device_batch=8, device_memory_gib=80, precision="tf32")
    assert tf32.peak_memory_gib == pytest.approx(fp32.peak_memory_gib)
    same = memory_fit(**BASE, per_device_batch=8, device_memory_gib=80, precision="bf16", activation_precision="bf16")
    assert same.breakdown["activations"] == pytest.approx(4.0)
    # ...and bf16 measurements predicted at fp32 grow back
    up = memory_fit(**BASE, per_device_batch=8, device_memory_gib=80, precision="fp32", activation_precision="bf16")
    assert up.breakdown["activations"] == pytest.approx(4.0 / HALF_ACTIVATION_FACTOR)


def test_data_parallel_adds_gradient_buckets():
    single = memory_fit(**BASE, per_device_batch=8, device_memory_gib=24)
    ddp = memory_fit(**BASE, per_device_batch=8, device_memory_gib=24, data_parallel=True)
    assert ddp.breakdown["ddp_buckets"] == pytest.approx(1.0)
    assert ddp.peak_memory_gib == pytest.approx(single.peak_memory_gib + 1.1)


def test_cpu_target_without_context_and_workspace():
    fit = memory_fit(**{**BASE, "cuda_context_gib": 0.0, "workspace_fraction": 0.0}, per_device_batch=4,
                     device_memory_gib=64)
    assert fit.peak_memory_gib == pytest.approx(1 + 1 + 2 + 2)


@pytest.mark.parametrize("kwargs", [{"per_device_batch": 0}, {"device_memory_gib": 0}, {"precision": "int8"},
                                    {"param_bytes": -1.0}, {"activation_bytes_per_sample": float("nan")}])
def test_invalid_inputs(kwargs):
    args = {**BASE, "per_device_batch": 8, "device_memory_gib": 16, **kwargs}
    with pytest.raises(PredictionError):
        memory_fit(**args)


def test_optimizer_state_multiplier():
    assert optimizer_state_multiplier("AdamW") == 2.0
    assert optimizer_state_multiplier("SGD") == 1.0
    assert optimizer_state_multiplier("Adagrad") == 1.0
    assert optimizer_state_multiplier("SomethingNew") == 2.0


# --------------------------------------------------------------------------------------- analysis


def _analysis(dtype: str = "float32", per_sample: float = 0.5 * GIB, fixed: float = 0.0) -> Analysis:
    op = OpRecord(op="aten.mm.default", kind="matmul", phase="forward", flops=(1.0, 4.0), bytes=(1.0, 4.0),
                  dtype=dtype)
    return Analysis(batch_sizes=(2, 8), ops=[op], flops_per_sample=1e9, param_count=268_435_456,
                    trainable_param_count=268_435_456, param_bytes=GIB, gradient_bytes=GIB, optimizer="AdamW",
                    optimizer_state_bytes=2 * GIB, activation_bytes_per_sample=per_sample,
                    activation_bytes_fixed=fixed)


def test_memory_from_analysis_matches_memory_fit():
    a = _analysis(fixed=0.25 * GIB)
    fit = memory_from_analysis(a, 8, 16, "fp32")
    assert fit.source == "analysis"
    assert fit.peak_memory_gib == pytest.approx(0.5 + 1.1 * (4 + 0.25 + 4))
    assert fit.breakdown["activations_fixed"] == pytest.approx(0.25)
    ddp = memory_from_analysis(a, 8, 16, "fp32", gpu_count=4)
    assert ddp.breakdown["ddp_buckets"] == pytest.approx(1.0)


def test_analysis_traced_at_bf16_is_not_rescaled():
    assert traced_precision(_analysis("bfloat16")) == "bf16"
    assert traced_precision(_analysis("float16")) == "fp16"
    assert traced_precision(_analysis()) == "fp32"
    traced = memory_from_analysis(_analysis("bfloat16"), 8, 80, "bf16")
    assert traced.breakdown["activations"] == pytest.approx(4.0)  # 0.5 GiB/sample as traced
    fp16 = memory_from_analysis(_analysis("bfloat16"), 8, 80, "fp16")  # same size family
    assert fp16.breakdown["activations"] == pytest.approx(4.0)
    scaled = memory_from_analysis(_analysis("float32"), 8, 80, "bf16")
    assert scaled.breakdown["activations"] == pytest.approx(4.0 * HALF_ACTIVATION_FACTOR)


def test_analysis_without_activations_is_flagged():
    a = _analysis()
    a = a.model_copy(update={"activation_bytes_per_sample": None})
    fit = memory_from_analysis(a, 8, 16)
    assert fit.max_batch_per_device is None  # not bounded by anything known
    assert any("optimistic" in n for n in fit.notes)


# ------------------------------------------------------------------------------------------ probe


def _gpu_probe(points, *, precision="fp32", oom=None, memory=16.0) -> DeviceProfile:
    return DeviceProfile(device="cuda:0", kind="gpu", name="Tesla V100-SXM2-16GB", memory_gib=memory,
                         precision=precision, oom_batch_size=oom,
                         measurements=[Measurement(device="cuda:0", batch_size=b, compute_seconds=0.1,
                                                   peak_memory_gib=m, precision=precision) for b, m in points])


def test_probe_linear_fit_hand_computed():
    probe = _gpu_probe([(8, 2 + 0.25 * 8), (16, 2 + 0.25 * 16), (32, 2 + 0.25 * 32)])
    fit = memory_from_probe(probe, 40, 24.0)
    assert fit.source == "probe"
    assert fit.breakdown["measured_fixed"] == pytest.approx(2.0)
    assert fit.breakdown["activations"] == pytest.approx(10.0)
    assert fit.peak_memory_gib == pytest.approx(0.5 + 1.1 * 12.0)  # 13.7 GiB
    # 0.5 + 1.1 (2 + 0.25 b) <= 24 -> b <= 77.45
    assert fit.max_batch_per_device == 77
    assert any("probe on cuda:0" in n for n in fit.notes)


def test_probe_oom_bounds_the_largest_batch_on_the_same_device():
    probe = _gpu_probe([(8, 4.0), (16, 6.0)], oom=32)  # the linear fit alone would allow 42
    fit = memory_from_probe(probe, 16, 16.0)
    assert fit.max_batch_per_device == 31
    other = memory_from_probe(probe, 16, 80.0)  # another device: the OOM says nothing about it
    assert other.max_batch_per_device > 31


def test_an_oom_on_a_shared_gpu_bounds_only_gpus_no_bigger_than_its_free_memory():
    """Other processes held 10 of the 16 GiB: the OOM at 32 says nothing of a free 16 GiB card (it capped every
    GPU of that size), and still bounds one with no more than the 6 GiB that was free."""
    points = [(8, 1.0), (16, 1.1)]  # the linear fit alone allows batch 328 in 6 GiB
    shared = _gpu_probe(points, oom=32).model_copy(update={"free_memory_gib": 6.0})
    assert memory_from_probe(shared, 16, 16.0).max_batch_per_device > 1000
    assert memory_from_probe(shared, 16, 6.0).max_batch_per_device == 31
    own_context = _gpu_probe(points, oom=32).model_copy(update={"free_memory_gib": 15.4})
    assert memory_from_probe(own_context, 16, 16.0).max_batch_per_device == 31  # the probe's own context: free


def test_probe_precision_change_and_ddp_need_the_analysis_for_sizes():
    probe = _gpu_probe([(8, 4.0), (16, 6.0)])
    bf16 = memory_from_probe(probe, 16, 80.0, _analysis(), precision="bf16", gpu_count=2)
    assert bf16.breakdown["activations"] == pytest.approx(16 * 0.25 * HALF_ACTIVATION_FACTOR)
    assert bf16.breakdown["half_weight_copies"] == pytest.approx(0.5)
    assert bf16.breakdown["ddp_buckets"] == pytest.approx(1.0)
    alone = memory_from_probe(probe, 16, 80.0, None, gpu_count=2)
    assert "ddp_buckets" not in alone.breakdown
    assert any("buckets are not counted" in n for n in alone.notes)


def test_cpu_probe_defers_to_the_analysis_for_a_gpu_target():
    cpu = DeviceProfile(device="cpu", kind="cpu", name="Xeon", measurements=[
        Measurement(device="cpu", batch_size=b, compute_seconds=1.0, peak_memory_gib=1 + 0.1 * b) for b in (4, 8)])
    fit = memory_from_probe(cpu, 8, 16.0, _analysis())
    assert fit.source == "analysis"
    assert any("CPU" in n and "analysis was used" in n for n in fit.notes)
    rough = memory_from_probe(cpu, 8, 16.0, None)
    assert rough.source == "probe"
    assert any("rough" in n for n in rough.notes)
    on_cpu = memory_from_probe(cpu, 8, 64.0, _analysis(), cpu_target=True)
    assert on_cpu.source == "probe" and on_cpu.breakdown["cuda_context"] == 0.0


def test_single_probe_point_uses_analysis_slope_or_proportional():
    one = _gpu_probe([(16, 10.0)])
    with_analysis = memory_from_probe(one, 16, 24.0, _analysis())
    assert with_analysis.breakdown["activations"] == pytest.approx(16 * 0.5)
    # the probe's fixed part, 2 GiB, split in the analysis's shares of its 4 GiB of weights, gradients and AdamW
    # state (``probe_parts``), so that it can be sharded
    parts = {k: with_analysis.breakdown[k] for k in ("weights", "gradients", "optimizer_state", "measured_fixed")}
    assert parts == pytest.approx({"weights": 0.5, "gradients": 0.5, "optimizer_state": 1.0, "measured_fixed": 0.0})
    alone = memory_from_probe(one, 32, 80.0)
    assert alone.breakdown["activations"] == pytest.approx(20.0)  # 10 GiB at 16 -> proportional
    assert any("proportional" in n for n in alone.notes)


def test_probe_without_memory_needs_the_analysis():
    empty = _gpu_probe([])
    with pytest.raises(PredictionError):
        memory_from_probe(empty, 8, 16.0)
    assert memory_from_probe(empty, 8, 16.0, _analysis()).source == "analysis"


@pytest.mark.slow
def test_resnet50_analysis_matches_published_memory(examples_dir):
    """ResNet-50 fp32 at batch 256: ~20-24 GB of PyTorch memory (published); Lambda ran 296/GPU on 32 GB."""
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    a = analyze(load_workload(examples_dir / "resnet50.py"))
    fit = memory_from_analysis(a, 256, 32.0, "fp32")
    assert 19.0 <= fit.peak_memory_gib - fit.breakdown["cuda_context"] - fit.breakdown["workspace"] <= 24.0
    assert memory_from_analysis(a, 296, 32.0).fits_memory
    assert not memory_from_analysis(a, 256, 16.0).fits_memory


def test_a_fit_within_a_twentieth_of_the_memory_is_a_caveat_with_a_roomier_batch():
    from advisor.predictor.caveats import caveats

    kwargs = dict(param_bytes=1e9, gradient_bytes=1e9, optimizer_state_bytes=2e9, activation_bytes_per_sample=1e9,
                  device_memory_gib=80)
    roomy, tight = memory_fit(per_device_batch=69, **kwargs), memory_fit(per_device_batch=72, **kwargs)
    assert roomy.fits_memory and roomy.peak_memory_gib < 0.95 * 80 and caveats(roomy.notes) == []
    assert tight.fits_memory and tight.peak_memory_gib >= 0.95 * 80
    [note] = caveats(tight.notes)
    assert note.startswith("Tight: 78.4 of 80.0 GiB at batch 72 per device") and "batch 65 per device" in note
    # The batch it suggests leaves a tenth free; one more does not.
    assert memory_fit(per_device_batch=65, **kwargs).peak_memory_gib <= 0.9 * 80
    assert memory_fit(per_device_batch=66, **kwargs).peak_memory_gib > 0.9 * 80


def test_static_and_sharded_needs_hand_computed():
    """What no batch size reduces under DDP, and the rough need with the state sharded (FSDP/ZeRO-3) over K GPUs:
    the fix for a model too big for every GPU sizes itself from these."""
    ddp = memory_fit(**BASE, per_device_batch=2, device_memory_gib=3, data_parallel=True)
    # 0.5 context + 1.1 x (1 weights + 1 grads + 2 Adam + 1 DDP buckets)
    assert ddp.static_gib == pytest.approx(0.5 + 1.1 * 5.0)
    # over 8 GPUs: the 4 GiB of state / 8, no buckets, the 2 x 0.5 GiB of activations whole
    assert ddp.sharded_gib(8) == pytest.approx(0.5 + 1.1 * (0.5 + 1.0))
    # one sample each on 3 GiB GPUs: 0.5 + 1.1 x (4 / N + 0.5) <= 3  ->  N >= 2.2: 3 GPUs
    assert ddp.sharded_min_devices() == 3
    assert memory_fit(**BASE, per_device_batch=1, device_memory_gib=1.0).sharded_min_devices() is None


def test_a_probes_measured_fixed_part_is_kept_at_another_precision():
    """A probe's fixed part is its weights, gradients and optimizer state (fp32 under autocast too): an fp32 probe's
    2 GiB was priced at 1.2 GiB for a bf16 job, scaled as activations are (x0.6), and a bf16 probe's at 3.3 GiB for
    an fp32 one (x1.67). Only the per-sample slope, the activations, is rescaled."""
    points = [(8, 4.0), (16, 6.0), (32, 10.0)]  # 2 GiB fixed, 0.25 GiB a sample
    bf16 = memory_from_probe(_gpu_probe(points), 16, 24.0, None, precision="bf16")
    assert bf16.breakdown["measured_fixed"] == pytest.approx(2.0)
    assert bf16.breakdown["activations"] == pytest.approx(16 * 0.25 * HALF_ACTIVATION_FACTOR)
    fp32 = memory_from_probe(_gpu_probe(points, precision="bf16"), 16, 24.0, None, precision="fp32")
    assert fp32.breakdown["measured_fixed"] == pytest.approx(2.0)
    assert fp32.breakdown["activations"] == pytest.approx(16 * 0.25 / HALF_ACTIVATION_FACTOR)
    assert fp32.peak_memory_gib == pytest.approx(0.5 + 1.1 * (2.0 + 4.0 / HALF_ACTIVATION_FACTOR))
