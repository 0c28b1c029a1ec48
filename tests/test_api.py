"""The Python API and the recommend path end to end: the issue's three reference decisions, JSON == API,
history saving, exit code 3, and the plot."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import advisor
from advisor import api
from advisor.cli.app import build_app
from advisor.errors import NoFeasibleCandidateError
from advisor.predictor.bias_notes import KIND_BIAS_NOTE_LOG
from advisor.schemas import Target

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
IMAGENET = 1_281_167
MAJOR_CLOUDS = "aws,gcp,azure,lambda"


@pytest.fixture(scope="module")
def resnet_profile(tmp_path_factory) -> Path:
    """ResNet-50 analysed (no probe: no GPU here, and its CPU probe is not what these tests are about)."""
    prof = api.profile(EXAMPLES / "resnet50.py", devices=[], batch_size=256)
    assert prof.analysis is not None and prof.workload.param_count == 25_557_032
    # make_batch's rate is this machine's, and it sets how input-bound many GPUs are (their share of a batch is
    # made serially, in each training process): a CI machine that measured half this VM's rate left no 45-minute
    # candidate. The rate is held at what this 2-core VM measures (1,240 samples/s in two runs, 2026-12-01), so
    # that these tests ask about the deadline logic and not about the CI machine's speed.
    [point] = prof.input_pipeline.points
    pipeline = prof.input_pipeline.model_copy(update={"points": [point.model_copy(update={
        "samples_per_second": 1200.0, "clock": "wall", "others_cpu_cores": 0.0, "wait_seconds": 0.0})]})
    prof = prof.model_copy(update={"input_pipeline": pipeline})
    return api.save_profile(prof, tmp_path_factory.mktemp("prof") / "resnet50.json")


def test_resnet50_one_epoch_picks_a_single_gpu(resnet_profile):
    rec = advisor.recommend(resnet_profile, dataset_size=IMAGENET, epochs=1, batch_size=256,
                            providers=MAJOR_CLOUDS, save=False)
    assert rec.chosen.tier == "single_gpu"
    assert rec.chosen.gpu_count == 1
    assert rec.chosen.method == "scaled"
    assert rec.chosen.reason
    # the chosen one is the cheapest feasible candidate, or the faster of a near-tie within 2% of its cost
    # (scoring.COST_TIE): here an A6000 at $1.163 over a slower machine at $1.150
    cheapest = min(c.cost_usd for c in rec.candidates)
    assert rec.chosen.cost_usd <= cheapest * 1.02
    assert all(c.total_seconds > rec.chosen.total_seconds for c in rec.candidates if c.cost_usd < rec.chosen.cost_usd)
    assert all(c.fits_memory for c in rec.candidates)
    assert {"single_gpu", "multi_gpu"} <= set(rec.best_per_tier)


def test_resnet50_ten_epochs_in_an_hour_needs_several_gpus(resnet_profile):
    # 45 minutes: one B200 (in the catalog with its datasheet since issue 9) does the ten epochs in just under
    # an hour, so the deadline that needs several GPUs is below that.
    rec = advisor.recommend(resnet_profile, dataset_size=IMAGENET, epochs=10, batch_size=256, deadline="45m",
                            providers=MAJOR_CLOUDS, save=False)
    assert rec.chosen.tier == "multi_gpu"
    assert rec.chosen.gpu_count >= 2
    assert rec.constraints.deadline_seconds == 2700
    assert rec.chosen.seconds + rec.chosen.startup_seconds <= 2700
    assert "deadline" in rec.chosen.reason
    assert rec.chosen.scaling_efficiency is not None and 0 < rec.chosen.scaling_efficiency <= 1


def test_impossible_deadline_is_exit_code_3_with_nearest_misses(resnet_profile):
    with pytest.raises(NoFeasibleCandidateError) as info:
        advisor.recommend(resnet_profile, dataset_size=IMAGENET, epochs=10, batch_size=256, deadline="2m",
                          save=False)
    assert info.value.exit_code == 3
    assert info.value.nearest
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(resnet_profile), "--epochs", "10",
                                              "--dataset-size", str(IMAGENET), "--batch-size", "256",
                                              "--deadline", "2m", "--json", "--no-save"])
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["chosen"] is None


def test_cli_json_equals_python_api(resnet_profile, tmp_path):
    args = dict(dataset_size=IMAGENET, epochs=2, batch_size=256, providers="lambda,aws", top=5)
    rec = advisor.recommend(resnet_profile, save=False, **args)
    plot = tmp_path / "choice.png"
    result = CliRunner().invoke(build_app(), [
        "recommend", "--profile", str(resnet_profile), "--dataset-size", str(IMAGENET), "--epochs", "2",
        "--batch-size", "256", "--providers", "lambda,aws", "--top", "5", "--json", "--no-save",
        "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = rec.model_dump(mode="json")
    for volatile in ("created_at",):
        data.pop(volatile)
        expected.pop(volatile)
    assert data == expected
    assert data["schema_version"] == 1 and data["id"] is None
    assert set(data["workload"]) >= {"name", "params", "flops_per_sample"}
    assert len(data["candidates"]) == 5
    for c in data["candidates"]:
        for key in ("provider", "instance_type", "region", "tier", "gpu", "gpu_count", "vcpus", "seconds", "low",
                    "high", "cost_usd", "spot_cost_usd", "fits_memory", "method", "reason"):
            assert key in c
        assert c["low"] <= c["seconds"] <= c["high"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.stat().st_size > 10_000


@pytest.mark.slow
def test_small_tabular_job_picks_a_cpu_and_lands_in_history():
    rec = advisor.recommend(EXAMPLES / "tabular_mlp.py", dataset_size=5_000, epochs=2, batch_size=256,
                            probe_seconds=5)
    assert rec.chosen.tier == "cpu"
    assert rec.chosen.gpu is None and rec.chosen.vcpus
    assert rec.measured_devices == ["cpu"]
    assert rec.id is not None
    with advisor.History() as hist:
        detail = hist.show(rec.id)
        assert detail.recommendation.chosen.instance_type == rec.chosen.instance_type
        assert len(detail.recommendation.candidates) == len(rec.candidates)
        with advisor.track(rec.id):
            time.sleep(0.01)
        comparison = hist.compare()
    assert [r.recommendation_id for r in comparison.rows] == [rec.id]


def test_predict_api_matches_target(resnet_profile):
    prof = api.load_profile(resnet_profile)
    one = advisor.predict(prof, dataset_size=IMAGENET, epochs=1, batch_size=256,
                          target=advisor.Target.gpu("A100-80GB", 1), use_history=False)
    four = advisor.predict(prof, dataset_size=IMAGENET, epochs=1, batch_size=256,
                           target=advisor.Target.gpu("a100-80gb", 4), use_history=False)
    assert four.target.gpu_name == "A100-80GB" and four.target.count == 4
    assert four.per_device_batch_size == 64
    assert one.seconds / 4 < four.seconds < one.seconds
    assert four.scaling_efficiency is not None
    bf16 = advisor.predict(prof, dataset_size=IMAGENET, epochs=1, batch_size=256,
                           target=advisor.Target.gpu("A100-80GB", 1), precision="bf16", use_history=False)
    assert bf16.precision == "bf16" and bf16.seconds < one.seconds


def test_every_recommend_lands_in_history_unless_no_save(resnet_profile):
    app = build_app()
    base = ["recommend", "--profile", str(resnet_profile), "--dataset-size", str(IMAGENET), "--epochs", "1",
            "--batch-size", "256", "--json"]
    saved = CliRunner().invoke(app, base)
    assert saved.exit_code == 0, saved.output
    rec_id = json.loads(saved.stdout)["id"]
    assert isinstance(rec_id, int)
    unsaved = CliRunner().invoke(app, [*base, "--no-save"])
    assert unsaved.exit_code == 0 and json.loads(unsaved.stdout)["id"] is None
    with advisor.History() as hist:
        entries = hist.list()
        assert [e.id for e in entries] == [rec_id]
        detail = hist.show(rec_id)
    stored = detail.recommendation
    assert stored.chosen.instance_type == json.loads(saved.stdout)["chosen"]["instance_type"]
    recorded = CliRunner().invoke(app, ["history", "record", str(rec_id), "--actual-seconds", "1800", "--json"])
    assert recorded.exit_code == 0, recorded.output
    compared = CliRunner().invoke(app, ["history", "compare", "--json"])
    rows = json.loads(compared.stdout)["rows"]
    assert len(rows) == 1 and rows[0]["actual_seconds"] == 1800
    assert rows[0]["error_pct"] == pytest.approx((rows[0]["predicted_seconds"] - 1800) / 1800 * 100)


WIDE_MLP = """
import torch
from torch import nn

def build_model():
    return nn.Sequential(nn.Linear(256, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 10))

def make_batch(batch_size):  # cheap beside the GPU step, so that the host side's timing noise cannot matter
    return torch.ones(batch_size, 256), torch.zeros(batch_size, dtype=torch.long)

DATASET_SIZE = 1_000_000
EPOCHS = 1
BATCH_SIZE = 1024
"""


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_predict_equals_recommend_from_a_workload_file(tmp_path, monkeypatch, precision):
    """``predict FILE --gpu X --precision P`` and ``recommend FILE --precision P`` analyse the model at the same
    precision (the probe request carries the GPUs' precision; the CPU is probed in fp32 either way), so the
    same offer gets the same answer. Each call times this machine's make_batch anew (host-side noise on a
    shared machine), so the comparison is made on recommend's own profile once its analysis is shown to be
    the one predict makes."""
    source = tmp_path / "wide_mlp.py"
    source.write_text(WIDE_MLP)
    profiles = []
    as_profile = api._as_profile
    monkeypatch.setattr(api, "_as_profile", lambda *a, **k: profiles.append(as_profile(*a, **k)) or profiles[-1])
    rec = advisor.recommend(source, precision=precision, top=10_000, probe_seconds=2, save=False)
    advisor.predict(source, target=advisor.Target.gpu("A100-80GB"), precision=precision, use_history=False)
    recommended, predicted = profiles
    assert recommended.analysis.ops == predicted.analysis.ops  # the same analysis, at the GPUs' precision
    assert {op.dtype for op in recommended.analysis.ops if op.kind == "matmul"} == \
        {"float32" if precision == "fp32" else "bfloat16"}
    cand = next(c for c in rec.all_candidates if c.gpu == "A100-80GB" and c.gpu_count == 1)
    est = advisor.predict(recommended, target=advisor.Target.gpu("A100-80GB"), precision=precision,
                          vcpus=cand.vcpus, use_history=False)
    assert (est.seconds, est.low, est.high, est.bound, est.precision, est.mfu) == \
        (cand.seconds, cand.low, cand.high, cand.bound, cand.precision, cand.mfu)


def test_the_api_takes_the_job_settings(resnet_profile):
    plain = advisor.predict(resnet_profile, dataset_size=IMAGENET, epochs=1, batch_size=256,
                            target="A100-80GB")
    accumulated = advisor.predict(resnet_profile, dataset_size=IMAGENET, epochs=1, batch_size=256,
                                  target="A100-80GB", grad_accum_steps=4, eval_every=100, eval_steps=50,
                                  compile=True, precision="mixed")
    assert (accumulated.grad_accum_steps, accumulated.compiled, accumulated.precision) == (4, True, "bf16")
    assert accumulated.eval_seconds > 0 and plain.eval_seconds is None
    assert accumulated.total_steps == plain.total_steps == 5005  # steps are micro-steps


def test_a_cnn_from_specs_says_how_its_kind_has_fared(resnet_profile):
    """A ResNet predicted from datasheets (no probe of that GPU) carries its kind's validated lean as a note, the
    figure read from the shipped calibration, and its kind's interval, both at the job's precision class."""
    import math

    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.calibration import load_calibration
    from advisor.predictor.input_bound import HOST_REL_SIGMA
    from advisor.predictor.job import Z80

    cal, prof = load_calibration(), api.load_profile(resnet_profile)
    widths = {}
    for gpu in ("H100-SXM", "RTX4090"):
        for precision in (None, "fp16"):  # the file's fp32 (TF32 on these GPUs), and mixed precision
            est = advisor.predict(resnet_profile, dataset_size=IMAGENET, epochs=1, batch_size=256, target=gpu,
                                  precision=precision)
            analysis, spec = prof.analysed_for(est.precision).analysis, resolve_gpu(gpu)
            kind, bias = cal.kind_bias(analysis, spec, est.precision)
            # the kind at the job's precision class, where the shipped calibration has that split
            assert kind == f"conv{'/tensor-heavy' if gpu == 'H100-SXM' else ''}/{'16' if precision else '32'}-bit"
            notes = [n for n in est.notes if n.startswith("convolution-heavy jobs")]
            # A note where the kind's lean reaches the threshold (the H100's does: +16% at 32 bits, +36% at 16).
            assert len(notes) == (abs(bias) >= KIND_BIAS_NOTE_LOG), est.notes
            if notes:
                assert notes[0].startswith(f"convolution-heavy jobs in {kind.rsplit('/', 1)[1]} precision on GPUs")
                assert f"took a median {100 * abs(math.expm1(bias)):.0f}% {'longer' if bias > 0 else 'less time'}" \
                    in notes[0]
            # the whole job's half-width is its steps' systematic one, widened by the host-side model's where the
            # input pipeline sets part of the step (ImageNet-sized images from make_batch), never more than both
            width, kind_sigma = math.log(est.high / est.low) / 2, cal.sigma(analysis, spec, precision=est.precision)
            assert kind_sigma * 0.99 <= width <= math.hypot(kind_sigma, Z80 * HOST_REL_SIGMA) * 1.01
            widths[gpu, precision] = width
    # TF32 CNNs on a tensor-heavy GPU ran slower than predicted (+16%): a note; 16-bit ones lean about +10% since
    # the channels-first batch norms were priced (+36% before), at the threshold (just over it since session 42's
    # refit, just under before), and less than TF32 ones
    tf32_lean = cal.kind_bias(prof.analysis, resolve_gpu("H100-SXM"), "tf32")[1]
    assert tf32_lean > KIND_BIAS_NOTE_LOG
    assert 0.5 * KIND_BIAS_NOTE_LOG < cal.kind_bias(prof.analysis, resolve_gpu("H100-SXM"), "fp16")[1] < tf32_lean
    # 16-bit CNNs on GPUs that are not tensor-heavy (GeForce, workstation cards) are less certain than TF32 ones on
    # an H100; since GeForce 16-bit memory-bound kernels are priced at fp32's bandwidth fraction (2026-12-06) their
    # kind's width (0.284 -> 0.249) is under the H100's 16-bit job's, which its input pipeline widens
    assert widths["H100-SXM", "fp16"] > widths["RTX4090", "fp16"] > widths["H100-SXM", None]


def test_recommend_tells_the_chosen_gpus_lean_for_a_cnn(resnet_profile):
    """The answer carries the chosen GPU's validated lean for this kind of job when its time was scaled and the
    lean reaches the threshold: the cheapest choice and the fastest (a tensor-heavy GPU, where CNNs lean most)."""
    import math

    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.calibration import load_calibration

    noted = 0
    for objective in ("cost", "time"):
        rec = advisor.recommend(resnet_profile, dataset_size=IMAGENET, epochs=1, batch_size=256, objective=objective,
                                providers=MAJOR_CLOUDS, save=False)
        assert rec.chosen.gpu and rec.chosen.method == "scaled"
        _, bias = load_calibration().kind_bias(api.load_profile(resnet_profile).analysis,
                                               resolve_gpu(rec.chosen.gpu), rec.chosen.precision)
        notes = [n for n in rec.notes if n.startswith(f"the chosen {rec.chosen.gpu}: convolution-heavy jobs")]
        assert len(notes) == (abs(bias) >= KIND_BIAS_NOTE_LOG), (objective, bias, rec.notes)
        for note in notes:
            assert f"took a median {100 * abs(math.expm1(bias)):.0f}% {'longer' if bias > 0 else 'less time'}" in note
        noted += len(notes)
    assert noted >= 1


def test_recommend_tells_the_chosen_gpu_that_channels_last_would_save_its_layout_transposes(resnet_profile):
    """A channels-first ResNet in fp16: the answer names the chosen GPU's share of cuDNN's layout transposes at
    the job's per-GPU batch, with the same figures as the roofline's step there."""
    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.calibration import load_calibration
    from advisor.predictor.roofline import layout_note, predict_step

    rec = advisor.recommend(resnet_profile, dataset_size=IMAGENET, epochs=1, batch_size=256, objective="time",
                            precision="fp16", providers=MAJOR_CLOUDS, save=False)
    chosen = rec.chosen
    assert chosen.gpu and chosen.method == "scaled" and chosen.precision == "fp16"
    # priced from the profile's bf16 analysis, as every 16-bit job from it is (Profile.analysed_for)
    step = predict_step(api.load_profile(resnet_profile).analysed_for("fp16").analysis, resolve_gpu(chosen.gpu),
                        -(-256 // chosen.gpu_count), "fp16", load_calibration())
    notes = [n for n in rec.notes if n.startswith(f"the chosen {chosen.gpu}: channels-first:")]
    assert notes == [f"the chosen {chosen.gpu}: {layout_note(step)}"], rec.notes


def test_a_pcie_multi_gpu_prediction_says_what_a_vm_without_p2p_would_cost(resnet_profile):
    """8 x L4 over PCIe at one image per GPU (the all-reduce of ResNet-50's 102 MB of gradients dominates): the
    estimate is priced with the card's P2P and says the step's time without it; an NVLink H100 box says nothing of
    P2P, and neither does a GeForce box, whose price is already the one without it."""
    est = advisor.predict(resnet_profile, dataset_size=8_000, epochs=1, batch_size=8, target=Target.gpu("L4", 8))
    [note] = [n for n in est.notes if "priced with peer-to-peer" in n]
    assert note.startswith("8 x L4 over PCIe are priced with peer-to-peer")
    ratio = float(note.split("each step takes ")[1].split("x")[0])
    assert ratio >= 1.10
    for gpu in ("H100-SXM", "RTX4090"):
        other = advisor.predict(resnet_profile, dataset_size=8_000, epochs=1, batch_size=8,
                                target=Target.gpu(gpu, 8))
        assert not [n for n in other.notes if "priced with peer-to-peer" in n], other.notes



def test_the_mfu_of_an_fp32_job_run_in_tf32_is_over_the_tf32_peak(resnet_profile):
    """ResNet-50 at fp32 on an A100: cuDNN may run its convolutions in TF32 (PyTorch's default), and they are priced
    so; its MFU over the FP32 peak read 107% (a user's report). Over TF32's it is below 1, and says which peak; with
    TF32 off in the workload it is FP32's again. A matmul model keeps FP32's (matmul TF32 is off by default)."""
    from advisor.hardware.specs import load_gpu_specs

    spec = load_gpu_specs()["A100-80GB"]
    prof = api.load_profile(resnet_profile)
    flops = prof.analysis.flops_per_sample * 256
    est = advisor.predict(prof, dataset_size=100_000, epochs=1, batch_size=256, target=Target.gpu("A100-80GB"),
                          precision="fp32")
    assert (est.precision, est.mfu_peak) == ("fp32", "tf32")
    assert est.mfu == pytest.approx(flops / (est.step_seconds * spec.tf32_tflops * 1e12), rel=1e-9)
    assert 0 < est.mfu < 1 and est.json_contract()["mfu_peak"] == "tf32"
    off = prof.model_copy(update={"analysis": prof.analysis.model_copy(update={"cudnn_allow_tf32": False})})
    fp32 = advisor.predict(off, dataset_size=100_000, epochs=1, batch_size=256, target=Target.gpu("A100-80GB"),
                           precision="fp32")
    assert fp32.mfu_peak == "fp32"
    assert fp32.mfu == pytest.approx(flops / (fp32.step_seconds * spec.fp32_tflops * 1e12), rel=1e-9)
    v100 = advisor.predict(prof, dataset_size=100_000, epochs=1, batch_size=256, target=Target.gpu("V100-16GB"),
                           precision="fp32")
    assert v100.mfu_peak == "fp32"  # no TF32 before Ampere


def test_gpu_busy_says_what_gpu_utilization_does_not_of_a_host_bound_step():
    """The tabular MLP on 8 x H100 in bf16: its step is the host's kernel launches (the note says the GPU waits)
    and mostly the all-reduce, yet gpu_utilization (the training step's share of the step) read 0.99; gpu_busy is
    the GPUs' kernels' share. A GPT-2-sized step on one A100 keeps the GPU busy: there the two agree."""
    prof = api.load_profile(Path(__file__).parent / "hostile" / "data" / "tabular_profile.json")
    est = advisor.predict(prof, dataset_size=300_000, epochs=1, batch_size=512, target=Target.gpu("H100-SXM", 8),
                          precision="bf16")
    assert any(n.startswith("host-bound:") for n in est.notes)
    assert est.gpu_utilization > 0.9 and est.gpu_busy < 0.1
    assert est.gpu_busy <= est.gpu_utilization * est.scaling_efficiency
    assert est.json_contract()["gpu_busy"] == est.gpu_busy
    gpt2 = api.profile(EXAMPLES.parent / "bench" / "workloads" / "gpt2_124m.py", devices=[], batch_size=16)
    big = advisor.predict(gpt2, dataset_size=10_000, epochs=1, batch_size=16, target=Target.gpu("A100-80GB"),
                          precision="bf16")
    assert big.gpu_busy == pytest.approx(big.gpu_utilization, abs=0.05) and big.gpu_busy > 0.9
    assert advisor.predict(prof, dataset_size=300_000, epochs=1, batch_size=512, target="cpu").gpu_busy is None


def test_a_host_bound_gpu_time_from_specs_widens_its_interval_by_the_launch_cost_spread():
    """The tabular MLP on one H100 in bf16, from the datasheet: its step is mostly the host's launches, whose cost
    varies by machine (roofline.host_sigma), so the interval is the kind's widened by that and a note says so, with what
    the judge measured of such estimates (about 1.7x long; the interval held about half of the published rows). A
    GPT-2-sized step on an A100 keeps the GPU busy: its interval is the kind's alone, with no such note."""
    import math

    from advisor.hardware.specs import resolve_gpu
    from advisor.predictor.calibration import load_calibration
    from advisor.predictor.roofline import HOST_LAUNCH_SIGMA, host_sigma, predict_step

    cal = load_calibration()
    prof = api.load_profile(Path(__file__).parent / "hostile" / "data" / "tabular_profile.json")
    est = advisor.predict(prof, dataset_size=300_000, epochs=1, batch_size=512, target="H100-SXM", precision="bf16")
    analysis, spec = prof.analysed_for("bf16").analysis, resolve_gpu("H100-SXM")
    spread = host_sigma(predict_step(analysis, spec, 512, "bf16", cal), cal.host_overlap_exponent)
    assert 0.5 * HOST_LAUNCH_SIGMA < spread <= HOST_LAUNCH_SIGMA  # the step overhead is the rest
    (note,) = [n for n in est.notes if n.startswith("much of this step is the host's kernel launches")]
    assert f"(x{math.exp(spread):.1f} either way alone)" in note
    # What the judge measured, not a coverage it did not reach (bench/README.md, "CS336 students' tables").
    assert "allows for it" not in note
    assert "ran about 1.7x long" in note and "held only about half of them" in note
    assert "(README, \"How the time is predicted\")" in note  # a section the installed wheel's README has
    width, kind_sigma = math.log(est.high / est.low) / 2, cal.sigma(analysis, spec, precision="bf16")
    assert width >= math.hypot(kind_sigma, spread) * 0.99 > kind_sigma * 1.2
    gpt2 = api.profile(EXAMPLES.parent / "bench" / "workloads" / "gpt2_124m.py", devices=[], batch_size=16)
    big = advisor.predict(gpt2, dataset_size=10_000, epochs=1, batch_size=16, target=Target.gpu("A100-80GB"),
                          precision="bf16")
    assert not any(n.startswith("much of this step is the host's") for n in big.notes)


class _Probed(Exception):
    """Raised by the stand-in probe below once it has seen its arguments."""


@pytest.mark.parametrize(("env", "raised"), [(None, True), ("normal", False), ("Raised", True)])
def test_the_probe_priority_setting_reaches_the_probe_from_every_entry(tmp_path, monkeypatch, env, raised):
    import advisor.probe

    seen = []

    def probe(*args, **kwargs):
        seen.append(kwargs["raise_priority"])
        raise _Probed

    monkeypatch.setattr(advisor.probe, "run_profile", probe)
    if env is None:
        monkeypatch.delenv("ADVISOR_PROBE_PRIORITY", raising=False)
    else:
        monkeypatch.setenv("ADVISOR_PROBE_PRIORITY", env)
    source = tmp_path / "wide_mlp.py"
    source.write_text(WIDE_MLP)
    for call in (lambda: api.profile(source, devices="cpu"), lambda: advisor.predict(source, use_history=False),
                 lambda: advisor.recommend(source, save=False), lambda: api.job_profile(source, recommend=True)):
        with pytest.raises(_Probed):
            call()
    assert seen == [raised] * 4
    with pytest.raises(_Probed):
        api.profile(source, devices="cpu", raise_priority=not raised)  # the argument wins over the environment
    assert seen[-1] is (not raised)


def test_every_error_class_is_reachable_from_the_package():
    """A pipeline catches ``advisor.NoFeasibleCandidateError``; only ``advisor.AdvisorError`` was exported."""
    import inspect

    import advisor.errors

    classes = {n for n, c in inspect.getmembers(advisor.errors, inspect.isclass)
               if issubclass(c, advisor.errors.AdvisorError)}
    assert {"NoFeasibleCandidateError", "WorkloadError", "ConfigError", "HistoryError"} <= classes
    for name in classes:
        assert getattr(advisor, name) is getattr(advisor.errors, name)
    assert issubclass(advisor.ServiceError, advisor.AdvisorError)


def test_the_no_gpu_note_says_where_the_cpu_candidates_come_from():
    """It said "CPU candidates from this machine's probe" for a profile with no CPU measurement, whose CPU offers
    were all skipped for want of one."""
    from advisor.api import load_profile
    from advisor.schemas.profile import CpuPeak

    prof = load_profile(Path(__file__).resolve().parent / "hostile" / "data" / "tabular_profile.json")
    untimed = prof.devices[0].model_copy(update={"measurements": [], "thread_scaling": []})
    peak = CpuPeak(threads=1, matmul_flops_per_second=1e11, memory_bytes_per_second=2e10, seconds=0.1)
    cases = [(prof, "No GPU here: ", "; CPU candidates from the probed machine's timed steps."),
             (prof.model_copy(update={"devices": [untimed.model_copy(update={"cpu_peak": peak})]}), "No GPU here: ",
              "; CPU candidates from the model's analysis and this CPU's measured op rates (no step was timed)."),
             (prof.model_copy(update={"devices": [untimed]}), "No GPU here: ",
              "; no CPU step was timed here, so no CPU offer is priced (--show-skipped lists them)."),
             (prof.model_copy(update={"devices": []}), "No GPU was probed: ",
              "; no CPU step was timed here, so no CPU offer is priced (--show-skipped lists them).")]
    for source, start, end in cases:
        try:
            rec = advisor.recommend(source, save=False, dataset_size=10_000, epochs=1, batch_size=64)
        except advisor.NoFeasibleCandidateError as exc:
            rec = exc.recommendation
        (note,) = [n for n in rec.notes if "GPU candidates are scaled" in n]
        assert note.startswith(start) and note.endswith(end), note
        priced_cpu = any(c.tier == "cpu" for c in rec.all_candidates)
        assert priced_cpu is ("no CPU offer is priced" not in note)


def test_a_profile_without_analysis_says_why_gpus_are_skipped_and_the_fix_fits_where_it_came_from():
    """A workload file whose analysis failed got "the profile has no analysis" and "give the workload file instead
    of --profile" for every GPU offer, and "GPU candidates are scaled from the model's analysis" with none."""
    from advisor.api import load_profile
    from advisor.schemas.missing_analysis import failed_note

    prof = load_profile(Path(__file__).resolve().parent / "hostile" / "data" / "tabular_profile.json")
    saved = prof.model_copy(update={"analysis": None, "bf16_analysis": None})
    failed = saved.model_copy(update={"notes": [failed_note(
        "could not analyse m.py with fake tensors: DataDependentOutputException: x. Fix: avoid .item() in forward.")]})
    job = {"dataset_size": 10_000, "epochs": 1, "batch_size": 64}
    with pytest.raises(advisor.PredictionError) as err:
        advisor.predict(failed, target=advisor.Target.gpu("L4"), **job)
    assert "the model's shape analysis failed (could not analyse m.py with fake tensors" in err.value.message
    assert err.value.hint.startswith("Fix: avoid .item() in forward.") and "--profile" not in err.value.hint
    with pytest.raises(advisor.PredictionError) as err:
        advisor.predict(saved, target=advisor.Target.gpu("L4", 2), **job)
    assert "--profile" in err.value.hint
    rec = advisor.recommend(failed, save=False, **job)
    assert rec.skipped and all(s.fix.startswith("Fix: avoid .item() in forward.") for s in rec.skipped
                               if "analysis" in s.reason)
    assert any(n.startswith("probe: the model's shape analysis failed") for n in rec.notes)
    assert not any("GPU candidates are scaled" in n for n in rec.notes)
    assert any("no analysis of the model to scale GPU candidates from: none is priced" in n for n in rec.notes)
    rec = advisor.recommend(saved, save=False, **job)
    assert all("--profile" in s.fix for s in rec.skipped if "analysis" in s.reason)


def test_the_readmes_advisor_api_record_outcome_works_after_a_bare_import(tmp_path):
    """``import advisor; advisor.api.record_outcome(...)`` raised AttributeError: ``api`` was no attribute until
    something else imported it."""
    import subprocess
    import sys

    code = ("import sys, advisor; f = advisor.api.record_outcome; print(f.__module__, 'torch' in sys.modules);"
            "print(hasattr(advisor, 'no_such_module'), hasattr(advisor, '_private'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["advisor.api", "False", "False", "False"]
