"""The caveats of an estimate (``advisor.predictor.caveats``) reach the outputs that do not print its notes: each
row of ``predict --gpus 1,2,4,8`` and the machine ``recommend`` chose, as ``predict`` of that one target says them."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run

from advisor import api

DATA = Path(__file__).resolve().parents[1]
GPU_PROFILE = DATA / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"  # an H200 probe, no CPU
P2P = "8 x A100-80GB-PCIe over PCIe are priced with peer-to-peer transfers"


def test_the_peer_to_peer_caveat_reaches_its_row_of_the_gpu_count_table(app):
    one = run(app, "predict", "--profile", GPU_PROFILE, "--gpu", "A100-80GB-PCIe", "--gpus", "8", "--no-save", "--json")
    assert one.exit_code == 0, one.output
    (said,) = [n for n in json.loads(one.stdout)["notes"] if n.startswith(P2P)]
    table = run(app, "predict", "--profile", GPU_PROFILE, "--gpu", "A100-80GB-PCIe", "--gpus", "1,8", "--no-save")
    assert table.exit_code == 0, table.output
    flat = " ".join(table.stdout.split())  # rich wraps long notes
    assert f"note: 8 GPUs, bf16: {' '.join(said.split())}" in flat
    assert "1 GPU, bf16: 1 x A100" not in flat and "peer-to-peer" not in flat.partition("8 GPUs, bf16:")[0]
    # one GPU has no all-reduce to caveat; its row says only why batch 96 does not fit it, and the flags that would
    assert "note: 1 GPU, bf16: Needs 86.9 GiB at batch 96 per device" in flat


def test_recommend_says_the_caveat_of_the_multi_gpu_machine_it_chose(app, tmp_path):
    catalog = tmp_path / "p8.csv"
    catalog.write_text("provider,instance_type,region,vcpus,memory_gib,gpu_model,gpu_count,gpu_memory_gib,"
                       "price_hour_usd\nmyco,a100x8,eastus,96,880,A100-80GB-PCIe,8,80,29.4\n")
    rec = api.recommend(GPU_PROFILE, dataset_size=1_200_000, epochs=1, pricing_files=[catalog], providers="myco",
                        save=False)
    assert (rec.chosen.instance_type, rec.chosen.gpu_count) == ("a100x8", 8)
    (note,) = [n for n in rec.notes if P2P in n]
    assert note.startswith(f"the chosen myco a100x8: {P2P}") and "--no-p2p prices it so" in note
    text = run(app, "recommend", "--profile", GPU_PROFILE, "--dataset-size", "1200000", "--epochs", "1", "--pricing",
               catalog, "--providers", "myco", "--no-save")
    assert text.exit_code == 0, text.output
    assert f"note: the chosen myco a100x8: {P2P}" in " ".join(text.stdout.split())


CPU_PROFILE = DATA / "hostile" / "data" / "tabular_profile.json"  # a CPU probe of batches 64-512


def test_recommend_says_its_cpu_choice_and_here_were_extrapolated_past_the_probed_batches():
    job = {"dataset_size": 300_000, "epochs": 1, "batch_size": 8192}
    rec = api.recommend(CPU_PROFILE, **job, providers="gcp", save=False)
    said = [n for n in api.predict(CPU_PROFILE, **job, target="cpu").notes if "outside the measured range" in n]
    assert said == ["batch size 8192 is outside the measured range 64-512; extrapolated along the fitted line, "
                    "with a wider interval.", "the epoch's last batch (5088) is outside the measured range; "
                    "extrapolated."]
    # (the profile's steps carry no contention fields: an older profile's caveat is said too, not counted here)
    ranged = [n for n in rec.notes if "outside the measured range" in n]
    assert rec.chosen.tier == "cpu"
    # each said once, naming both machines (it was said under each in turn, the same text twice)
    assert ranged == [f"Here, cpu and the chosen gcp {rec.chosen.instance_type}: {n}" for n in said]
    inside = api.recommend(CPU_PROFILE, **{**job, "batch_size": 256}, providers="gcp", save=False)
    assert not [n for n in inside.notes if "measured range" in n]


# An audit's probe of examples/tabular_mlp.py on a 2-vCPU VM: 23% of the gradients zero, AdamW's exp_avg of those
# subnormal from optimizer step 908 on, 17.9 ms more per optimizer step.
SUBNORMAL_PROFILE = DATA / "predictor" / "data" / "tabular_mlp_subnormal_profile.json"


def test_recommend_says_the_subnormal_slowdown_its_chosen_and_here_figures_include(app):
    """The note and its one-line fix reached predict only: recommend's Here (+34%) and chosen (+38%) figures
    included the slowdown without a word of it."""
    job = ("--dataset-size", "200000", "--epochs", "3", "--providers", "gcp", "--no-save")
    (said,) = [n for n in api.predict(SUBNORMAL_PROFILE, dataset_size=200_000, epochs=3, target="cpu").notes
               if "subnormal" in n]
    assert said.startswith("cpu: this job slows down part-way.") and "(34%), included" in said
    out = run(app, "recommend", "--profile", SUBNORMAL_PROFILE, *job, "--json")
    assert out.exit_code == 0, out.output
    rec = json.loads(out.stdout)
    assert rec["chosen"]["tier"] == "cpu"
    chosen = f"the chosen gcp {rec['chosen']['instance_type']}: this job slows down part-way."
    assert [n for n in rec["notes"] if "subnormal" in n] == [  # the two figures differ: each said
        f"Here, cpu: {said.removeprefix('cpu: ')}", next(n for n in rec["notes"] if n.startswith(chosen))]
    assert all("Fix: torch.set_flush_denormal(True) before training avoids it." in n for n in rec["notes"]
               if "subnormal" in n)
    text = run(app, "recommend", "--profile", SUBNORMAL_PROFILE, *job)
    assert text.exit_code == 0, text.output
    flat = " ".join(text.stdout.split())  # rich wraps long notes
    assert f"note: {chosen}" in flat and "note: Here, cpu: this job slows down part-way." in flat
    assert flat.count("Fix: torch.set_flush_denormal(True) before training avoids it.") == 2


def test_recommend_says_when_the_subnormal_slowdown_could_not_be_measured_in_time(app, tmp_path):
    """A probe whose budget ran out before it timed the drift found no stage: the answer dropped the slowdown
    without a word, so the same job's figure flipped from run to run for no reason given."""
    profile = json.loads(SUBNORMAL_PROFILE.read_text())
    drift = next(d["subnormal"] for d in profile["devices"] if d.get("subnormal"))
    drift.update(stages=[], no_stage="out_of_time", untimed_states=["exp_avg"], untimed_onset_steps=908)
    untimed = tmp_path / "untimed.json"
    untimed.write_text(json.dumps(profile))
    out = run(app, "recommend", "--profile", untimed, "--dataset-size", "200000", "--epochs", "3", "--providers", "gcp",
              "--no-save", "--json")
    assert out.exit_code == 0, out.output
    rec = json.loads(out.stdout)
    said = [n for n in rec["notes"] if "could not be measured in time" in n]
    assert said and all("so none is included" in n and "optimizer step 908 on" in n for n in said)
    assert len(said) == 1 and said[0].startswith(f"Here, cpu and the chosen gcp {rec['chosen']['instance_type']}: "
                                                 "how much this job slows down part-way could not be measured in time")
    assert not any("subnormal" in n and "included" in n and "none is included" not in n for n in rec["notes"])


NETWORK = "The network between the 2 machines is assumed at 12.5 GB/s each (100 Gbit/s"


def test_recommend_says_the_network_it_assumed_between_the_machines_of_its_choice(app, tmp_path):
    """16 x H100-SXM are two 8-GPU machines, timed over an assumed 100 Gbit/s network: that guess sets the time
    (InfiniBand has 4-32x it), and was a plain note that reached neither the chosen machine's notes nor the
    gpu-count table, where the "more than one machine holds" note beside it did."""
    catalog = tmp_path / "p16.csv"
    catalog.write_text("provider,instance_type,region,gpu_model,gpu_count,gpu_memory_gib,price_hour_usd\n"
                       "lab,h100x16,lab,H100-SXM,16,80,40\n")
    args = ("recommend", "--profile", GPU_PROFILE, "--dataset-size", "1200000", "--epochs", "1", "--pricing",
            catalog, "--providers", "lab", "--no-save")
    res = run(app, *args, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["chosen"]["instance_type"], data["chosen"]["gpu_count"]) == ("h100x16", 16)
    (note,) = [n for n in data["notes"] if NETWORK in n]
    assert note.startswith(f"the chosen lab h100x16: {NETWORK}")
    text = run(app, *args)
    assert text.exit_code == 0, text.output
    assert f"note: the chosen lab h100x16: {NETWORK}" in " ".join(text.stdout.split())
    grid = run(app, "predict", "--profile", GPU_PROFILE, "--gpu", "H100-SXM", "--gpus", "8,16", "--no-save")
    assert grid.exit_code == 0, grid.output
    flat = " ".join(grid.stdout.split())
    assert f"note: 16 GPUs, bf16: {NETWORK}" in flat and "8 GPUs, bf16: The network" not in flat


def _busy_unread(tmp_path):
    """The CPU probe with its start-up and the interpreter's start timed beside other processes and its CPU load
    unread, with the probe's notes on them (as ``startup_clock.startup_notes`` and ``device_notes`` write them)."""
    from advisor.probe.device_notes import unread_load_notes
    from advisor.probe.startup_clock import startup_notes
    from advisor.schemas.devices import StartupClock

    prof = api.load_profile(CPU_PROFILE)
    clock = StartupClock(wall_seconds=6.6, cpu_seconds=2.3, others_cpu_cores=1.4, run_queue=2.8, clock="process_cpu")
    unread = {"others_cpu_cores": None, "steal_fraction": None, "run_queue": None}
    cpu = prof.devices[0].model_copy(update={"startup_seconds": 2.3, "startup_clock": clock, "measurements": [
        m.model_copy(update=unread) for m in prof.devices[0].measurements]})
    host = prof.host.model_copy(update={"process_start_seconds": 3.1, "process_start_clock": clock.model_copy(
        update={"wall_seconds": 10.0, "cpu_seconds": 3.1})})
    notes = [*prof.notes, *startup_notes([cpu], host), *unread_load_notes(cpu)]
    return api.save_profile(prof.model_copy(update={"devices": [cpu], "host": host, "notes": notes}),
                            tmp_path / "busy.json")


def _said_texts(notes):
    """Each note less the machines it names ("probe: ", "Here, cpu: ", "the chosen gcp e2-standard-2: ", ...)."""
    return [n.removeprefix("probe: ").split(": ", 1)[-1] for n in notes]


def test_recommend_says_each_caveat_once_naming_every_machine_it_applies_to(app, tmp_path):
    """A caveat of the probed CPU was said up to three times in the same words: as the probe's note ("probe: cpu:
    ..."), for the chosen machine ("the chosen gcp e2-standard-2: ...") and for Here ("Here, cpu: ..."); the
    interpreter's busy start twice ("probe: ...", "Here: ..."). Each is said once, with the machines it applies to;
    one the probe said stays the probe's warning."""
    job = ("--dataset-size", "2000", "--epochs", "1", "--providers", "gcp", "--no-save")
    path = _busy_unread(tmp_path)
    out = run(app, "recommend", "--profile", path, *job, "--json")
    assert out.exit_code == 0, out.output
    rec = json.loads(out.stdout)
    texts = _said_texts(rec["notes"])
    assert len(texts) == len(set(texts)), rec["notes"]
    chosen = f"the chosen gcp {rec['chosen']['instance_type']}"
    assert rec["chosen"]["tier"] == "cpu"
    for what in ("start-up (the model's build, the first step) timed beside", "the CPU load could not be read"):
        (note,) = [n for n in rec["notes"] if what in n]
        assert note.startswith(f"probe: Here, cpu and {chosen}: {what}") and note in rec["verdict"]["warnings"]
    (started,) = [n for n in rec["notes"] if "starting Python and importing torch" in n]
    assert started.startswith("probe: Here: starting Python and importing torch timed beside other processes")
    (older,) = [n for n in api.recommend(CPU_PROFILE, dataset_size=2000, epochs=1, batch_size=256, providers="gcp",
                                         save=False).notes if "an older profile" in n]
    assert older.startswith(f"Here, cpu and {chosen}: an older profile: whether the machine was busy")
    text = run(app, "recommend", "--profile", path, *job)
    assert text.exit_code == 0, text.output
    flat = " ".join(text.stdout.split())  # rich wraps long notes
    for what in ("start-up (the model's build, the first step) timed beside", "the CPU load could not be read",
                 "starting Python and importing torch timed beside"):
        assert flat.count(what) == 1, what


def test_a_caveat_every_row_of_the_gpu_count_table_has_is_said_once():
    # A job whose last batch raises: the same three-line note was printed once a row ("1 GPU, fp32: this job's
    # epochs end ...", "2 GPUs, fp32: ...", ...); a row's own caveat is still named by its row.
    from types import SimpleNamespace

    from advisor.cli.scaling_cells import grid_notes

    last = "this job's epochs end with a batch of 1 sample (2,001 = 20 x 100 + 1), ..."
    comm = "Communication-bound: the all-reduce (3 ms over pcie) outlasts the backward pass it overlaps (1 ms)"

    def row(count, notes):
        return SimpleNamespace(count=count, precision="fp32", estimate=SimpleNamespace(
            notes=notes, sharded=False, fits_memory=True))

    rows = [row(1, [last]), row(2, [last, comm]), row(4, [last]), SimpleNamespace(count=8, precision="fp32",
                                                                                  estimate=None)]
    assert grid_notes(rows) == [last, f"2 GPUs, fp32: {comm}"]
    assert grid_notes([row(2, [comm])]) == [f"2 GPUs, fp32: {comm}"]  # one row: named as before


def test_a_caveat_of_several_rows_is_said_once_naming_them():
    # --gpus 1,2,4 --precision all of a BatchNorm1d model, 18 samples at batch 8: the 2-GPU note that the split last
    # batch raises was printed, all its lines, once a precision ("2 GPUs, fp32: ...", "2 GPUs, tf32: ...", ...).
    from types import SimpleNamespace

    from advisor.cli.scaling_cells import grid_notes

    split2 = "this job's epochs end with a batch of 2 samples (18 = 2 x 8 + 2), which 2 GPUs split one sample each"
    split4 = split2.replace("2 GPUs split one sample each", "4 GPUs split one sample on each of 2 of them")

    def row(count, precision, notes):
        return SimpleNamespace(count=count, precision=precision, estimate=SimpleNamespace(
            notes=notes, sharded=False, fits_memory=True))

    precisions = ("fp32", "tf32", "bf16", "fp16")
    rows = [*(row(1, p, []) for p in precisions), *(row(2, p, [split2]) for p in precisions),
            *(row(4, p, [split4]) for p in ("fp32", "bf16"))]
    assert grid_notes(rows) == [f"2 GPUs, fp32, tf32, bf16 and fp16: {split2}", f"4 GPUs, fp32 and bf16: {split4}"]
    # one text on rows of two counts: said once, each count named once
    assert grid_notes([row(1, "fp32", []), row(2, "fp32", [split2]), row(4, "fp32", [split2]),
                       row(4, "bf16", [split2])]) == [f"2 GPUs, fp32; 4 GPUs, fp32 and bf16: {split2}"]
