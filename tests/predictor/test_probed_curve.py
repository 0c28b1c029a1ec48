"""Every GPU follows the probed GPU's curve over batch size: below, inside and beyond the probe's ladder."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor import api
from advisor.hardware.specs import load_gpu_specs
from advisor.predictor import roofline
from advisor.predictor.calibration import load_calibration
from advisor.predictor.estimate import estimate
from advisor.schemas import JobSpec, Target

# A real probe of a lent H200 (nanoGPT's GPT-2 124M, bf16): batches 1, 3, 6 and 12, launch-bound below 12.
PROFILE = Path(__file__).resolve().parent / "data" / "h200_nanogpt_gpt2_bf16_profile.json"


def _compute_ms(prof, gpu: str, batch: int) -> float:
    est = estimate(prof, JobSpec(batch * 50, 1, batch), Target.gpu(gpu), precision="bf16")
    return (est.step_seconds - (est.batch_seconds or 0.0)) * 1e3


def _roofline_ms(prof, gpu: str, batch: int) -> float:
    return roofline.predict_step(prof.analysis, load_gpu_specs()[gpu], batch, "bf16", load_calibration()).seconds * 1e3


@pytest.mark.parametrize("batch", [12, 24, 96, 256])
def test_at_the_ladders_top_and_beyond_every_gpu_keeps_the_analysis_order(batch):
    """Before, beyond the ladder the H200 followed its fitted line and the others the analysis: a B200 came out
    slower than the H200 at batch 96. The probe's two factors move the analysis' ratios by a few percent."""
    prof = api.load_profile(PROFILE)
    steps = {g: _compute_ms(prof, g, batch) for g in ("B200", "H200", "H100-SXM", "A100-80GB")}
    assert steps["B200"] < steps["H200"] < steps["H100-SXM"] < steps["A100-80GB"]
    for gpu in ("B200", "H100-SXM", "A100-80GB"):
        ratio = _roofline_ms(prof, gpu, batch) / _roofline_ms(prof, "H200", batch)
        assert steps[gpu] / steps["H200"] == pytest.approx(ratio, rel=0.05)


@pytest.mark.parametrize("gpu", ["RTX-3060", "A10", "L4", "A100-80GB"])
def test_a_scaled_gpus_cost_per_sample_falls_with_the_batch_and_its_mfu_has_no_spike(gpu):
    """The H200's batch-6 step was 0.78x its price (23.8 ms, below its batches 1 and 3): one factor taken batch by
    batch carried that to GPUs where the GPU sets the pace, an RTX 3060 at 75% MFU at batch 6 (43% at 256), its
    cost per sample lowest there. Now the probe's host and GPU factors carry, not its noise at each batch."""
    prof = api.load_profile(PROFILE)
    batches = (1, 2, 3, 6, 9, 12, 24, 96, 256)
    per_sample = [_compute_ms(prof, gpu, b) / b for b in batches]
    assert all(a >= b * 0.999 for a, b in zip(per_sample, per_sample[1:], strict=False)), per_sample
    mfu = {b: estimate(prof, JobSpec(b * 50, 1, b), Target.gpu(gpu), precision="bf16").mfu for b in (6, 256)}
    assert mfu[6] <= mfu[256] * 1.02


def test_the_probed_gpu_beyond_its_ladder_follows_its_roofline_from_the_largest_measured_batch():
    prof = api.load_profile(PROFILE)
    largest = max(m.batch_size for m in prof.device("cuda:0").measurements)
    assert largest == 12
    grown = _compute_ms(prof, "H200", 96) / _compute_ms(prof, "H200", largest)
    roof = _roofline_ms(prof, "H200", 96) / _roofline_ms(prof, "H200", largest)
    assert grown == pytest.approx(roof, rel=0.1)
    assert grown > 5.5  # the step's launch-bound floor is behind it: 8x the work, over 5.5x the time (the line: 4.0x)
    est = estimate(prof, JobSpec(96 * 50, 1, 96), Target.gpu("H200"), precision="bf16")
    assert est.method == "measured"
    assert any("extrapolated along the analysis' batch curve on H200" in n for n in est.notes)
    # Inside the ladder the measured level stands.
    assert _compute_ms(prof, "H200", largest) == pytest.approx(
        prof.device("cuda:0").measurements[-1].compute_seconds * 1e3, rel=0.15)


@pytest.mark.parametrize("gpu", ["H100-SXM", "A100-80GB", "B200"])
def test_another_gpus_memory_comes_from_the_gpu_probe_not_the_analysis(gpu):
    """Memory is the model's, not the GPU's. The H200 measured 0.8 GiB a sample (11.3 GiB at batch 12; the real
    job 11.8), the analysis 0.6: before, an 80 GB H100 was said to fit batch 96 at 60.8 GiB, where the probe's
    own line puts it at 78.5 GiB (over 90% of 80)."""
    from advisor.predictor import memory

    prof = api.load_profile(PROFILE)
    specs = load_gpu_specs()
    est = estimate(prof, JobSpec(96 * 50, 1, 96), Target.gpu(gpu), precision="bf16")
    fit = memory.memory_from_probe(prof.device("cuda:0"), 96, specs[gpu].memory_gib, prof.analysis,
                                   precision="bf16")
    assert est.peak_memory_gib == pytest.approx(fit.peak_memory_gib, rel=1e-9)
    assert est.peak_memory_gib > 80.0
    assert est.fits_memory is (specs[gpu].memory_gib >= est.peak_memory_gib)
    assert est.fits_memory is (gpu == "B200")
    assert any("Memory from the probe on cuda:0" in n for n in est.notes)
    # The probed H200 itself, at the same batch, judged by its measured line against 90% of its memory: fits.
    h200 = estimate(prof, JobSpec(96 * 50, 1, 96), Target.gpu("H200"), precision="bf16")
    assert h200.fits_memory and 75.0 < h200.peak_memory_gib < 0.9 * specs["H200"].memory_gib


def test_the_bench_prints_each_gpu_beside_the_probed_one(capsys):
    from bench_scripts import bench_modules

    (bench,) = bench_modules("probed_curve")
    assert bench.main(["--gpus", "B200,L4", "--batches", "1,12,96"]) == 0
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in capsys.readouterr().out.splitlines()
            if line.startswith("| ") and not line.startswith("| GPU")]
    assert [(r[0], r[1], r[2]) for r in rows[:3]] == [("H200", "1", "on the ladder"), ("H200", "12", "on the ladder"),
                                                     ("H200", "96", "beyond")]
    assert len(rows) == 9
    beyond = [r for r in rows if r[1] == "96"]
    assert all(float(r[6]) == pytest.approx(float(r[7]), rel=0.05) for r in beyond)  # x probed ~ the analysis' ratio
    assert [r[9] for r in rows if r[0] == "L4"] == ["yes", "yes", "NO"]
    l4 = [float(r[4]) for r in rows if r[0] == "L4"]
    assert l4[0] > l4[1] > l4[2]  # ms a sample falls with the batch


@pytest.mark.parametrize(("gpu", "count", "precision"), [("A100-80GB", 1, "fp16"), ("V100-32GB", 8, "bf16")])
def test_a_job_at_another_precision_than_the_probe_still_takes_its_memory_from_the_probe(gpu, count, precision):
    """The probe ran bf16. An fp16 job, or a bf16 job on a V100 (run there as fp16), fell back on the analysis'
    0.6 GiB a sample: 8 x V100-32GB were recommended for 40 samples each at 27 GiB, where the probe's line gives
    34 GiB allocated. 16-bit activations are the same size at bf16 and fp16."""
    prof = api.load_profile(PROFILE)
    per_gpu = 40 if count > 1 else 96
    est = estimate(prof, JobSpec(per_gpu * count * 50, 1, per_gpu * count), Target.gpu(gpu, count),
                   precision=precision)
    same = estimate(prof, JobSpec(per_gpu * count * 50, 1, per_gpu * count), Target.gpu("H100-SXM", count),
                    precision="bf16")
    assert est.peak_memory_gib == pytest.approx(same.peak_memory_gib, rel=1e-9)
    assert est.fits_memory is False
    assert any("Memory from the probe on cuda:0" in n for n in est.notes)


def test_k_of_the_probed_gpu_are_judged_against_the_memory_it_reported_as_one_is():
    """Before, one H200 at 156 a GPU was judged by its measured line against 90% of the 139.8 GiB it reported (did
    not fit), two at 156 each by the line + workspace + context against the 141 listed (fit at 140.2 GiB, more than
    the GPU has). Now both are judged the second way against the 139.8: two add DDP's gradient buckets, 140.2 GiB,
    past it, so they are priced sharded (the probe's measured weights, gradients and Adam state split two ways)."""
    prof = api.load_profile(PROFILE)
    reported = prof.device("cuda:0").memory_gib
    one = estimate(prof, JobSpec(156 * 50, 1, 156), Target.gpu("H200"), precision="bf16")
    two = estimate(prof, JobSpec(312 * 50, 1, 312), Target.gpu("H200", 2), precision="bf16")
    assert one.memory_capacity_gib == two.memory_capacity_gib == pytest.approx(reported)
    assert one.fits_memory is (one.peak_memory_gib <= reported)
    assert one.peak_memory_gib < 140.2 < one.peak_memory_gib + 1.0
    (ddp,) = [n for n in two.notes if n.startswith("priced as sharded data parallel")]
    assert f"a full copy per GPU (DDP) needs 140.2 GiB, more than {reported:.1f} GiB" in ddp
    assert two.sharded and two.fits_memory and two.peak_memory_gib < one.peak_memory_gib


def test_a_gpu_scaled_from_the_probe_starts_as_the_probed_gpu_does():
    """Before, a scaled GPU (and K of the probed one) started in 8 s + the probe's measured start-up, which already
    holds CUDA's context: a B200 job of 1,000 steps took longer than the same job on the slower H200."""
    prof = api.load_profile(PROFILE)
    job = JobSpec(12_000, 1, 12)
    h200, b200 = (estimate(prof, job, Target.gpu(g), precision="bf16") for g in ("H200", "B200"))
    two = estimate(prof, job, Target.gpu("H200", 2), precision="bf16")
    fp16 = estimate(prof, job, Target.gpu("B200"), precision="fp16")  # no probe at fp16: the bf16 one's start
    started = prof.device("cuda:0").startup_seconds
    assert h200.startup_seconds == pytest.approx(started)
    assert b200.startup_seconds == two.startup_seconds == fp16.startup_seconds == pytest.approx(started)
    assert b200.seconds < h200.seconds


def test_a_scaled_gpus_interval_widens_beyond_the_probes_ladder_as_the_probed_gpus_does():
    prof = api.load_profile(PROFILE)

    def widths(gpu: str, batch: int) -> float:
        est = estimate(prof, JobSpec(batch * 50, 1, batch), Target.gpu(gpu), precision="bf16")
        return est.high / est.low

    assert widths("B200", 256) > widths("B200", 12) * 1.5
    assert widths("H200", 256) > widths("H200", 12) * 1.5


def _ladder(tmp_path, batches, *, oom_batch: int | None = None):
    """The H200 profile with only ``batches`` of its ladder (and, optionally, an out-of-memory at ``oom_batch``)."""
    import json

    data = json.loads(PROFILE.read_text())
    dev = data["devices"][0]
    dev["measurements"] = [m for m in dev["measurements"] if m["batch_size"] in batches]
    if oom_batch is not None:
        dev["measurements"].append({**dev["measurements"][-1], "batch_size": oom_batch, "oom": True,
                                    "compute_seconds": None, "compute_seconds_samples": [], "peak_memory_gib": None})
        dev["oom_batch_size"] = oom_batch
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps(data))
    return api.load_profile(path)


def test_below_a_ladder_that_starts_past_the_launch_floor_the_probed_gpu_keeps_the_floor(tmp_path):
    """A ladder of 12 alone (as 12, 24, 48, 96 for a job of 96): below it the line's intercept undercut the launch
    floor, an H200 at batch 1 15.0 ms against a B200's 28.7, so 32 H200s splitting 96 came out ahead of B200s."""
    prof = _ladder(tmp_path, (12,))
    h200, b200 = _compute_ms(prof, "H200", 1), _compute_ms(prof, "B200", 1)
    assert h200 == pytest.approx(b200, rel=0.1)  # both wait on the same host's launches
    assert h200 > 20.0  # the full ladder measured 23.5 ms at batch 1
    est = estimate(prof, JobSpec(50, 1, 1), Target.gpu("H200"), precision="bf16")
    assert any("outside the measured range 12-12; extrapolated along the analysis' batch curve" in n
               for n in est.notes)


@pytest.mark.parametrize("gpu", ["H200", "B200", "H100-SXM"])
def test_an_fp16_job_is_carried_from_the_bf16_probe_as_the_bf16_job_is(gpu):
    """Before, fp16 was priced from the roofline alone and bf16 from the probe: fp16 came out 9% cheaper on the
    very GPU probed at bf16, where the two run the same kernels at the same tensor rate (fp16 adds a GradScaler)."""
    prof = api.load_profile(PROFILE)
    job = JobSpec(96 * 50, 1, 96)
    bf16 = estimate(prof, job, Target.gpu(gpu), precision="bf16")
    fp16 = estimate(prof, job, Target.gpu(gpu), precision="fp16")
    assert fp16.method == "scaled"
    assert any("scaled from the probe of cuda:0 (H200, bf16)" in n for n in fp16.notes)
    compute = [e.step_seconds - (e.batch_seconds or 0.0) for e in (bf16, fp16)]
    assert 1.0 <= compute[1] / compute[0] < 1.05


@pytest.mark.parametrize(("gpu", "count", "precision", "fits"),
                         [("H200", 2, "bf16", False), ("H200", 1, "fp16", False), ("H100-SXM", 1, "bf16", False),
                          ("B200", 1, "bf16", True), ("H200", 1, "fp32", False)])
def test_a_probes_out_of_memory_bounds_every_gpu_with_no_more_memory(tmp_path, gpu, count, precision, fits):
    """The probe ran out of memory at 24 a GPU on the 140 GiB H200: so do two of it, an fp16 or fp32 job on it, and
    an 80 GB H100; a 180 GB B200 may not. Before, only one H200 at bf16 knew."""
    prof = _ladder(tmp_path, (1, 3, 6, 12), oom_batch=24)
    est = estimate(prof, JobSpec(24 * count * 50, 1, 24 * count), Target.gpu(gpu, count), precision=precision)
    assert est.fits_memory is fits
    if not fits:
        assert est.max_batch_size_per_device <= 23


@pytest.mark.parametrize(("gpu", "count"), [("H200", 4), ("H100-SXM", 1), ("H200", 1)])
def test_a_job_bounded_by_the_probes_out_of_memory_says_so_not_that_it_needs_less_than_it_has(tmp_path, gpu, count):
    """The note read "does not fit: 24.0 GiB needed per GPU at batch 24, 140 GiB available": now the words
    recommend gives the same case. One H200, the probed GPU itself (its measured path), said only "The probe ran out
    of memory at batch 24 on cuda:0", with no flags that run the job."""
    prof = _ladder(tmp_path, (1, 3, 6, 12), oom_batch=24)
    est = estimate(prof, JobSpec(24 * count * 50, 1, 24 * count), Target.gpu(gpu, count), precision="bf16")
    assert not est.fits_memory and est.peak_memory_gib < est.memory_capacity_gib
    (note,) = [n for n in est.notes if n.startswith("does not fit")]
    # with the flags that keep the 24 x count samples per update at a batch that fits: 23 divides none, 12 does
    assert note == (f"does not fit: batch 24 per GPU is over 23, the largest below a batch that ran out of memory "
                    f"in the probe (the line of its peaks gives {est.peak_memory_gib:.0f} GiB of "
                    f"{est.memory_capacity_gib:.0f}); at 12 per GPU, --batch-size {12 * count} --grad-accum-steps 2 "
                    f"keeps the {24 * count} samples per optimizer update.")


@pytest.mark.parametrize("from_probe", [True, False])
def test_a_gpu_job_past_the_memory_says_it_does_not_fit_once(from_probe):
    """It said it twice: "Needs 60.8 GiB at batch 96 per device, 40 GiB available; ..." and "does not fit: 60.8 GiB
    needed per GPU at batch 96, 40 GiB available."."""
    prof = api.load_profile(PROFILE)
    if not from_probe:
        prof = prof.model_copy(update={"devices": []})  # the analysis alone
    est = estimate(prof, JobSpec(96 * 50, 1, 96), Target.gpu("A100-40GB"), precision="bf16")
    assert not est.fits_memory and est.peak_memory_gib > est.memory_capacity_gib
    said = [n for n in est.notes if "GiB available" in n or n.startswith("does not fit")]
    assert len(said) == 1 and said[0].startswith("Needs ") and "the largest batch per device that fits" in said[0]


def test_the_probed_gpu_and_a_gpu_scaled_from_it_report_one_peak_for_one_need():
    """Before, the H200 reported its measured line (78.5 GiB at batch 96) and the H100 the line + workspace + the
    CUDA context (86.9): a reader of the H200's row would think the job fits an 80 GB card."""
    prof = api.load_profile(PROFILE)
    job = JobSpec(96 * 50, 1, 96)
    h200, h100 = (estimate(prof, job, Target.gpu(g), precision="bf16") for g in ("H200", "H100-SXM"))
    assert h200.method == "measured"
    assert h200.peak_memory_gib == pytest.approx(h100.peak_memory_gib, rel=1e-9)
    assert h200.peak_memory_gib > 80.0 and not h100.fits_memory and h200.fits_memory


@pytest.mark.parametrize("kept", [(1, 3, 6), (1, 3), (3, 6)])
def test_beyond_a_launch_bound_ladder_the_interval_holds_the_step_left_out_and_a_note_says_why(tmp_path, kept):
    """Batch 12 left out of the H200's ladder and predicted from launch-bound batches (measured 41.2 ms): the
    prediction is 29-44 ms whichever way it is carried, and the 80% interval (10% a doubling) missed it in two of
    three. The GPU's work beyond such a ladder was never measured: its factor's prior now widens the interval,
    and a note says so."""
    prof = _ladder(tmp_path, kept)
    measured = 0.04107616599999986  # the full ladder's batch-12 step, seconds
    job = JobSpec(12 * 20_000, 1, 12)  # long enough that the start-up does not move the interval
    for gpu in ("H200", "B200"):
        est = estimate(prof, job, Target.gpu(gpu), precision="bf16")
        assert any("was still launch-bound" in n and "at batch 12 is the analysis', not measured" in n
                   for n in est.notes), (gpu, est.notes)
    est = estimate(prof, job, Target.gpu("H200"), precision="bf16")
    step = est.step_seconds - (est.batch_seconds or 0.0)
    assert step * est.low / est.seconds <= measured <= step * est.high / est.seconds


def test_a_ladder_whose_top_the_gpu_paces_adds_no_launch_bound_note():
    prof = api.load_profile(PROFILE)
    est = estimate(prof, JobSpec(96 * 50, 1, 96), Target.gpu("H200"), precision="bf16")
    assert not any("launch-bound" in n for n in est.notes)
