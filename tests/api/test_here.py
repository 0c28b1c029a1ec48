"""``recommend``'s "Here": the job on the probed machine's own devices is what ``predict --device`` says of them
(one answer for one question), it is in the JSON, and it is kept in the history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app
from advisor.schemas import Target, ThreadPoint
from advisor.schemas.profile import LOAD_UNREAD
from advisor.units import format_duration

DATA = Path(__file__).resolve().parents[1]
CPU_PROFILE = DATA / "hostile" / "data" / "tabular_profile.json"  # a CPU probe
GPU_PROFILE = DATA / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"  # an H200 probe, no CPU


def test_here_on_a_cpu_is_predict_device_cpu():
    prof = api.load_profile(CPU_PROFILE)
    job = {"dataset_size": 200_000, "epochs": 3, "batch_size": 256}
    rec = api.recommend(prof, **job, providers="gcp", save=False)
    (here,) = rec.here
    pred = api.predict(prof, **job, target="cpu")
    assert here.device == "cpu" and here.name == f"{prof.devices[0].name}, {prof.devices[0].threads} threads"
    assert (here.seconds, here.low, here.high, here.method, here.fits_memory, here.peak_memory_gib) == \
           (pred.seconds, pred.low, pred.high, pred.method, pred.fits_memory, pred.peak_memory_gib)
    assert here.memory_capacity_gib == pred.memory_capacity_gib == prof.devices[0].memory_gib  # judged, here's
    assert (here.threads, here.gpu) == (prof.devices[0].threads, None) and here.threads > 0
    assert rec.verdict.here.startswith(f"on {prof.host.hostname} (the machine that was probed)")


def test_here_on_a_probed_gpu_is_predict_of_that_gpu():
    prof = api.load_profile(GPU_PROFILE)
    rec = api.recommend(prof, dataset_size=120_000, epochs=1, save=False)
    (here,) = rec.here
    pred = api.predict(prof, dataset_size=120_000, epochs=1, target=Target.gpu("H200", 1))
    assert (here.device, here.name, here.gpu, here.threads) == ("cuda:0", "NVIDIA H200", "H200", None)
    assert (here.seconds, here.low, here.high, here.method) == (pred.seconds, pred.low, pred.high, pred.method)
    assert here.method == "measured"


def test_here_is_in_the_json_and_kept_in_the_history(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    app = build_app()
    out = CliRunner().invoke(app, ["recommend", "--profile", str(CPU_PROFILE), "--dataset-size", "200000",
                                   "--epochs", "3", "--batch-size", "256", "--providers", "gcp", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    (here,) = doc["here"]
    assert here["device"] == "cpu" and here["seconds"] > 0 and here["low"] <= here["seconds"] <= here["high"]
    assert doc["verdict"]["here"].startswith("on ")
    shown = CliRunner().invoke(app, ["history", "show", str(doc["id"]), "--json"])
    assert shown.exit_code == 0, shown.output
    kept = json.loads(shown.stdout)
    kept = kept.get("recommendation", kept)
    assert kept["here"] == doc["here"] and kept["verdict"]["here"] == doc["verdict"]["here"]


def test_a_run_here_is_recorded_against_the_here_estimate(tmp_path, monkeypatch):
    """The user takes the Here line's advice, runs the job on this machine, and records it: the answer says how,
    and compare judges the real time against that estimate, not against the rented machine it recommended."""
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    monkeypatch.setenv("COLUMNS", "300")
    app = build_app()
    job = ["--profile", str(CPU_PROFILE), "--dataset-size", "200000", "--epochs", "3", "--batch-size", "256",
           "--providers", "gcp"]
    text = CliRunner().invoke(app, ["recommend", *job])
    assert text.exit_code == 0, text.output
    rec = json.loads(CliRunner().invoke(app, ["recommend", *job, "--json"]).stdout)
    # a placeholder with the job's own prediction as its example (a fixed 1h30m, run as printed, was refused)
    assert (f"(record the real time: advisor history record 1 --actual-seconds <real time, e.g. "
            f"{format_duration(rec['chosen']['seconds'])}>; run here: add --instance here)"
            in " ".join(text.stdout.split()))
    (here,) = rec["here"]
    actual = round(here["seconds"] * 1.1, 3)
    out = CliRunner().invoke(app, ["history", "record", str(rec["id"]), "--actual-seconds", str(actual),
                                   "--instance", "here", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["instance_type"] == "here:cpu"
    (row,) = json.loads(CliRunner().invoke(app, ["history", "compare", "--json"]).stdout)["rows"]
    assert (row["instance_type"], row["device"], row["predicted_seconds"], row["actual_seconds"]) == (
        "here:cpu", "cpu", here["seconds"], actual)
    assert row["error_pct"] == pytest.approx(-100 / 11, abs=0.01)
    bad = CliRunner().invoke(app, ["history", "record", str(rec["id"]), "--actual-seconds", "60",
                                   "--instance", "here:cuda:0"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "'here:cuda:0' is not a device of the machine recommendation 2 probed" in bad.output


@pytest.mark.parametrize("flag", [[], ["--format", "markdown"]])
def test_the_cli_prints_the_here_line(flag, tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'history.db'}")
    out = CliRunner().invoke(build_app(), ["recommend", "--profile", str(CPU_PROFILE), "--dataset-size", "2000",
                                           "--epochs", "1", "--batch-size", "256", "--no-save", *flag])
    assert out.exit_code == 0, out.output
    assert ("- **Here:** on " if flag else "Here: on ") in out.output
    assert "That is sooner than the recommended machine's" in " ".join(out.output.split())


QUIET = {"others_cpu_cores": 0.0, "steal_fraction": 0.0, "priority_nice": None}


@pytest.mark.parametrize("update, windows, busy", [(QUIET, "all", False),
                                                   ({**QUIET, "others_cpu_cores": 1.0}, "all", True),
                                                   ({**QUIET, "priority_nice": -20}, "all", True),
                                                   ({**QUIET, "priority_nice": -20}, "one", False),
                                                   ({**QUIET, "clock": "thread_cpu"}, "all", True),
                                                   ({**QUIET, "clock": "thread_cpu"}, "one", False)])
def test_a_cpu_probed_on_a_busy_machine_is_marked(update, windows, busy):
    """Other processes' CPU during most timed windows, windows timed on one thread by its CPU time (others were busy
    as they began), or windows the probe raised its priority over them for: the machine was busy, so the Here line
    gives the idle machine's time and says a job beside them takes longer. One window of several is a blip (a
    daemon as the window began), not a busy machine."""
    prof = api.load_profile(CPU_PROFILE)
    cpu = prof.devices[0]
    assert sum(1 for m in cpu.measurements if m.compute_seconds) >= 3
    measurements = [m.model_copy(update=update if windows == "all" or i == 0 else QUIET)
                    for i, m in enumerate(cpu.measurements)]
    prof = prof.model_copy(update={"devices": [cpu.model_copy(update={"measurements": measurements})]})
    rec = api.recommend(prof, dataset_size=2000, epochs=1, batch_size=256, providers="gcp", save=False)
    assert rec.here[0].busy_when_probed is busy
    assert ("when idle (other processes were using the CPU during most of the probe" in rec.verdict.here) is busy


def test_the_probes_process_start_is_given_beside_the_job():
    prof = api.load_profile(CPU_PROFILE)
    prof = prof.model_copy(update={"host": prof.host.model_copy(update={"process_start_seconds": 1.3})})
    rec = api.recommend(prof, dataset_size=2000, epochs=1, batch_size=256, providers="gcp", save=False)
    assert rec.here[0].process_start_seconds == 1.3
    assert ", after 1.3s to start Python and import torch (as the probe's process took). In all that is sooner " \
           "than the recommended machine's" in rec.verdict.here


def _cli(*args):
    return CliRunner().invoke(build_app(), [str(a) for a in args])


@pytest.mark.parametrize("gpus_here", [[], [("NVIDIA A100-SXM4-80GB", "A100-80GB")]])
def test_predict_profile_device_cuda_is_the_profiles_gpu_not_this_machines(monkeypatch, gpus_here):
    # With --profile, `--device cuda:0` is the GPU of the machine the profile was taken on (as --device cpu is its
    # CPU, and as recommend's Here shows it), whatever GPUs this machine has; a GPU it did not probe is refused.
    from advisor.schemas import GpuInfo

    monkeypatch.setattr(api, "_visible_gpus", lambda: [GpuInfo(index=0, name=n, spec_name=s, memory_gib=80.0)
                                                        for n, s in gpus_here])
    job = ["--dataset-size", "120000", "--epochs", "1", "--no-save"]
    res = _cli("predict", "--profile", GPU_PROFILE, *job, "--device", "cuda:0", "--json")
    assert res.exit_code == 0, res.output
    est = json.loads(res.stdout)
    (here,) = api.recommend(api.load_profile(GPU_PROFILE), dataset_size=120_000, epochs=1, save=False).here
    assert (est["target"]["gpu"], est["seconds"], est["method"]) == ("H200", here.seconds, "measured")
    missing = _cli("predict", "--profile", GPU_PROFILE, *job, "--device", "cuda:1")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    # the profile named by its file (the CLI passes the API its path)
    assert missing.output.startswith(f"error: The profile {GPU_PROFILE} has no GPU cuda:1; its GPUs: cuda:0 "
                                     "(NVIDIA H200).\n")
    cpu_only = _cli("predict", "--profile", CPU_PROFILE, *job, "--device", "cuda:0")
    assert cpu_only.exit_code == 1, cpu_only.output
    assert cpu_only.output.startswith(f"error: The profile {CPU_PROFILE} has no GPU cuda:0; its GPUs: none: it was "
                                      "taken on a machine without a GPU.\nFix: use --device with one of its devices "
                                      "(or cpu), or --gpu NAME to price a GPU it did not probe.")


def _busy(prof, update):
    cpu = prof.devices[0]
    measurements = [m.model_copy(update=update) for m in cpu.measurements]
    return prof.model_copy(update={"devices": [cpu.model_copy(update={"measurements": measurements})]})


@pytest.mark.parametrize("update, busy", [(QUIET, False), ({**QUIET, "others_cpu_cores": 1.3}, True),
                                          ({**QUIET, "priority_nice": -20}, True)])
def test_predict_on_the_busy_probed_machine_says_the_time_is_the_idle_machines(update, busy):
    """``predict --device cpu`` gave the idle time with no word that a job started beside those processes takes
    longer (a 2-thread job took 5-13x it), while recommend's Here line said so for the same figures."""
    prof = _busy(api.load_profile(CPU_PROFILE), update)
    threads = prof.devices[0].threads
    job = {"dataset_size": 2000, "epochs": 1, "batch_size": 256}
    notes = [n for n in api.predict(prof, **job, target="cpu").notes if "this machine when idle" in n]
    if not busy:
        assert notes == []
        return
    assert notes == ["cpu: other processes were using the CPU during most of the probe: this is the time on this "
                     "machine when idle, and a job started beside them takes longer (they take its cores, and "
                     "PyTorch's threads wait for each other). Fix: run it when the machine is idle, or on fewer "
                     f"threads than {threads} (--threads 1 prices that; torch.set_num_threads(1) in the job)."]
    (one,) = [n for n in api.predict(prof, **job, target=Target.cpu(threads=1)).notes if "when idle" in n]
    assert one.endswith("Fix: run it when the machine is idle.")
    # recommend says it once, in its Here line; its rented CPUs (this family among them) are not beside these
    # processes, so none of their notes says it
    rec = api.recommend(prof, **job, providers="gcp", save=False, top=50)
    text = json.dumps(rec.model_dump(mode="json"))
    assert text.count("this machine when idle") == 0 and text.count("beside them the job takes longer") == 1


def test_predict_cli_prints_the_busy_note(tmp_path):
    prof = _busy(api.load_profile(CPU_PROFILE), {**QUIET, "others_cpu_cores": 1.3})
    path = api.save_profile(prof, tmp_path / "busy.json")
    out = CliRunner().invoke(build_app(), ["predict", "--profile", str(path), "--device", "cpu", "--dataset-size",
                                           "2000", "--epochs", "1", "--batch-size", "256", "--no-save", "--json"])
    assert out.exit_code == 0, out.output
    assert any("this is the time on this machine when idle" in n for n in json.loads(out.output)["notes"])


OLDER = "an older profile: whether the machine was busy while its CPU steps were timed was not recorded"


@pytest.mark.parametrize(("scaling", "source", "fraction"), [(True, "measured", None), (False, "assumed", 0.8)])
def test_the_here_line_names_the_parallel_fraction_its_cpu_estimate_scaled_with(tmp_path, scaling, source,
                                                                               fraction):
    """A busy probe's steps timed on 1 of 2 threads are scaled to 2 by a parallel fraction (this probe's thread
    scaling, else the assumed 0.8): recommend's Here line and its JSON, and predict's JSON, never said which."""
    from advisor.predictor.cpu_scaling import fit_amdahl

    prof = _busy(api.load_profile(CPU_PROFILE), {**QUIET, "threads": 1, "clock": "thread_cpu",
                                                 "others_cpu_cores": 1.0})
    if not scaling:
        prof.devices[0].thread_scaling = []
    dev = prof.devices[0]
    fraction = fraction or fit_amdahl(list(dev.thread_scaling) + [
        ThreadPoint(threads=1, batch_size=m.batch_size, compute_seconds=m.compute_seconds)
        for m in dev.measurements]).parallel_fraction
    job = {"dataset_size": 2000, "epochs": 1, "batch_size": 256}
    est = api.predict(prof, **job, target="cpu")
    assert (est.parallel_fraction, est.parallel_fraction_source) == (pytest.approx(fraction, abs=1e-3), source)
    path = api.save_profile(prof, tmp_path / "busy.json")
    args = ["recommend", "--profile", str(path), "--dataset-size", "2000", "--epochs", "1", "--batch-size", "256",
            "--providers", "gcp", "--no-save"]
    doc = json.loads(CliRunner().invoke(build_app(), [*args, "--json"]).stdout)
    (here,) = doc["here"]
    assert here["parallel_fraction"] == pytest.approx(fraction, abs=1e-3) and here["parallel_fraction_source"] == source
    phrase = f"threads scaled with the {source} parallel fraction {fraction:.2f}"
    assert phrase in doc["verdict"]["here"]
    out = CliRunner().invoke(build_app(), args, env={"COLUMNS": "300"})
    assert out.exit_code == 0 and phrase in " ".join(out.output.split())
    quiet = api.recommend(api.load_profile(CPU_PROFILE), **job, providers="gcp", save=False)
    assert quiet.here[0].parallel_fraction is None and "parallel fraction" not in quiet.verdict.here


def _busy_start(prof):
    """``prof`` with its CPU's start-up and the interpreter's start timed beside other processes, and the probe's
    notes on them (``startup_clock.startup_notes``, as the runner adds them)."""
    from advisor.probe.startup_clock import startup_notes
    from advisor.schemas.devices import StartupClock

    clock = StartupClock(wall_seconds=6.6, cpu_seconds=2.3, others_cpu_cores=1.4, run_queue=2.8, clock="process_cpu")
    cpu = prof.devices[0].model_copy(update={"startup_seconds": 2.3, "startup_clock": clock})
    host = prof.host.model_copy(update={"process_start_seconds": 3.1, "process_start_clock": clock.model_copy(
        update={"wall_seconds": 10.0, "cpu_seconds": 3.1})})
    return prof.model_copy(update={"devices": [cpu], "host": host,
                                   "notes": [*prof.notes, *startup_notes([cpu], host)]})


def test_a_start_up_timed_beside_other_processes_is_a_caveat_where_the_time_includes_it():
    """The probe's start-up notes (its CPU time standing for the idle machine's) were probe notes only: the CPU
    estimate's whole-job time includes the device's start-up, and the Here line the interpreter's start, so
    they are caveats there: of the CPU estimate, and of recommend's Here line."""
    from advisor.predictor.caveats import caveats

    prof = _busy_start(api.load_profile(CPU_PROFILE))
    job = {"dataset_size": 2000, "epochs": 1, "batch_size": 256}
    est = api.predict(prof, **job, target="cpu")
    built = "cpu: start-up (the model's build, the first step) timed beside other processes (they used 1.4 cores"
    assert [n for n in caveats(est.notes) if n.startswith(built)]
    rec = api.recommend(prof, **job, providers="gcp", save=False)
    # said once, in the probe's note (a warning), naming the machines whose times include it
    chosen = f"the chosen gcp {rec.chosen.instance_type}"
    assert [n for n in rec.notes if n.startswith(f"probe: Here, cpu and {chosen}: {built.removeprefix('cpu: ')}")]
    assert [n for n in rec.notes if n.startswith("probe: Here: starting Python and importing torch timed beside "
                                                  "other processes (they used 1.4 cores, run queue 2.8): 10.0s wall")]
    assert len([n for n in rec.notes if "timed beside other processes" in n]) == 2
    quiet = api.load_profile(CPU_PROFILE)  # no process start measured, no busy start-up: none of them
    assert not [n for n in api.recommend(quiet, **job, providers="gcp", save=False).notes
                if "timed beside other processes" in n]


def test_a_profile_whose_probe_could_not_read_the_load_says_so_and_is_not_called_older():
    """A current probe on a machine whose /proc/stat it could not read records the load as unknown and says so in
    a note (``device_notes.unread_load_notes``): the estimate carries that note as a caveat, and not the older
    profile's note, which would tell the user to re-probe with a newer advisor."""
    from advisor.probe.device_notes import unread_load_notes

    prof = _busy(api.load_profile(CPU_PROFILE), {"others_cpu_cores": None, "steal_fraction": None, "run_queue": None})
    (said,) = unread_load_notes(prof.devices[0])
    prof = prof.model_copy(update={"notes": [*prof.notes, said]})
    est = api.predict(prof, dataset_size=2000, epochs=1, batch_size=256, target="cpu")
    assert said in est.notes and not [n for n in est.notes if OLDER in n]
    rec = api.recommend(prof, dataset_size=2000, epochs=1, batch_size=256, providers="gcp", save=False)
    chosen = f"the chosen gcp {rec.chosen.instance_type}"
    unread = f"probe: Here, cpu and {chosen}: {said.removeprefix('cpu: ')}"  # said once, where the probe says it
    assert [n for n in rec.notes if LOAD_UNREAD in n] == [unread] and unread in rec.verdict.warnings
    assert not [n for n in rec.notes if OLDER in n]


def test_an_older_profile_without_contention_fields_says_its_cpu_time_may_be_a_busy_machines(tmp_path):
    """A profile from an advisor that did not measure other programs' load (``others_cpu_cores`` None on its timed
    CPU steps; the audit's prof_1.json, 12x too slow) was read as an idle machine's with no word; a current one
    (fields measured) and a GPU device's steps say nothing."""
    job = {"dataset_size": 2000, "epochs": 1, "batch_size": 256}
    old = _busy(api.load_profile(CPU_PROFILE), {"others_cpu_cores": None, "steal_fraction": None})
    notes = [n for n in api.predict(old, **job, target="cpu").notes if OLDER in n]
    assert notes == [f"{OLDER} (an advisor that did not yet measure other programs' load), so they are read "
                     "as an idle machine's. Fix: re-probe the workload (predict or recommend FILE, or advisor "
                     "profile FILE -o profile.json) for a trustworthy CPU time."]
    current = _busy(old, QUIET)
    assert not [n for n in api.predict(current, **job, target="cpu").notes if OLDER in n]
    gpu = api.load_profile(GPU_PROFILE)
    assert gpu.devices[0].measurements[0].others_cpu_cores is None
    assert not [n for n in api.predict(gpu, dataset_size=120_000, epochs=1, target=Target.gpu("H200", 1)).notes
                if OLDER in n]
    # recommend says it too, for its Here line (the chosen machine's, where a CPU, as well)
    rec = api.recommend(old, **job, providers="gcp", save=False)
    chosen = f"the chosen gcp {rec.chosen.instance_type}"
    assert [n for n in rec.notes if OLDER in n] == [f"Here, cpu and {chosen}: {notes[0]}"]  # once, not under each
    path = api.save_profile(old, tmp_path / "old.json")
    out = CliRunner().invoke(build_app(), ["predict", "--profile", str(path), "--device", "cpu", "--dataset-size",
                                           "2000", "--epochs", "1", "--batch-size", "256", "--no-save", "--json"])
    assert out.exit_code == 0, out.output
    assert any(OLDER in n for n in json.loads(out.output)["notes"])
