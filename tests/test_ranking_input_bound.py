"""Input- and transfer-bound candidates in a ranking (issue 13): ranked on their real time, a reason that says what
bounds them with the figures, the fixes with the time and cost each saves, the warning, the table's "bound"
column and the JSON fields. The estimates are made by hand, as the predictor gives them (advisor.schemas.Estimate:
bound, input_seconds, transfer_seconds, gpu_utilization, input_workers, host_vcpus)."""

from __future__ import annotations

import json

import pytest

from advisor.cli import answer, render
from advisor.ranking import rank
from advisor.ranking.balance import StepParts, ms_text, step_parts
from advisor.schemas import Constraints, Estimate, Offer, Target, WorkloadSummary
from advisor.units import format_rate

STARTUP_CPU, STARTUP_GPU = 120.0, 300.0
BATCH = 256


def offer(provider, instance_type, price, *, gpu=None, count=0, vcpus=8):
    return Offer(provider=provider, instance_type=instance_type, region="r1", vcpus=vcpus, memory_gib=512.0,
                 gpu=gpu, gpu_count=count, gpu_memory_gib=80.0 if gpu else None, price_usd_per_hour=price,
                 billing="per_second", min_billed_seconds=60)


def estimate(o: Offer, step, *, steps=10_000, bound="compute", input_s=None, transfer_s=None, util=None,
             workers=None, vcpus=None):
    """A whole job of ``steps`` steps of ``step_seconds`` (no start-up inside the job), fp32."""
    target = Target.gpu(o.gpu, o.gpu_count) if o.gpu else Target.cpu(o.vcpus // 2)
    seconds = step * steps
    return Estimate(target=target, dataset_size=BATCH * steps, epochs=1, batch_size=BATCH, seconds=seconds,
                    low=0.8 * seconds, high=1.2 * seconds, step_seconds=step, steps_per_epoch=steps,
                    total_steps=steps, fits_memory=True, per_device_batch_size=BATCH // max(1, o.gpu_count),
                    method="scaled", precision="fp32", bound=bound, input_seconds=input_s,
                    transfer_seconds=transfer_s, gpu_utilization=util, input_workers=workers, host_vcpus=vcpus)


def run(pairs, constraints=None, **kw):
    return rank(pairs, constraints or Constraints(), workload=WorkloadSummary(name="jpeg"), dataset_size=BATCH * 10_000,
                epochs=1, batch_size=BATCH, startup_seconds_cpu=STARTUP_CPU, startup_seconds_gpu=STARTUP_GPU, **kw)


def by_type(rec, instance_type):
    return next(c for c in rec.all_candidates if c.instance_type == instance_type)


# Eight A100s on three hosts. Compute takes 0.05 s a step (5,120 samples/s); the loader's 24 workers on 32 vCPUs
# take 0.16 s (1,600 samples/s), 56 workers on 64 vCPUs 0.069 s, 88 on 96 vCPUs 0.044 s (then compute bounds).
THIN = offer("aws", "p-thin", 20.0, gpu="A100-80GB", count=8, vcpus=32)
MID = offer("lambda", "p-mid", 40.0, gpu="A100-80GB", count=8, vcpus=64)
WIDE = offer("gcp", "a2-wide", 70.0, gpu="A100-80GB", count=8, vcpus=96)
WIDE2 = offer("azure", "nd-wide", 80.0, gpu="A100-80GB", count=8, vcpus=96)
CPU = offer("aws", "c7i.4xlarge", 0.714, vcpus=16)
A100 = offer("lambda", "gpu_1x_a100", 1.99, gpu="A100-40GB", count=1, vcpus=30)
MID_STEP = 0.16 * 24 / 56


def thin(workers=24, transfer=0.01):
    return estimate(THIN, 0.16, bound="input", input_s=0.16, transfer_s=transfer, util=0.05 / 0.16,
                    workers=workers, vcpus=32)


def eight_gpus(thin_estimate=None):
    wide = estimate(WIDE, 0.05, input_s=0.16 * 24 / 88, transfer_s=0.01, util=1.0, workers=88, vcpus=96)
    return [(THIN, thin_estimate or thin()),
            (MID, estimate(MID, MID_STEP, bound="input", input_s=MID_STEP, transfer_s=0.01, util=0.05 / MID_STEP,
                           workers=56, vcpus=64)),
            (WIDE, wide), (WIDE2, wide), (CPU, estimate(CPU, 10.0))]


# costs (per-second billing, start-up 300 s on GPUs): thin 1,900 s x $20/h = $10.56; mid 986 s x $40/h = $10.96;
# wide 800 s x $70/h = $15.56; wide2 800 s x $80/h = $17.78; CPU 100,120 s x $0.714/h = $19.86


# ---------------------------------------------------------------------------------------------- ranking


def test_an_input_bound_candidate_is_ranked_on_its_real_time_with_the_fields_copied():
    rec = run(eight_gpus())
    assert [c.instance_type for c in rec.all_candidates] == ["p-thin", "p-mid", "a2-wide", "nd-wide", "c7i.4xlarge"]
    c = rec.chosen
    assert c.instance_type == "p-thin"
    assert (c.seconds, c.total_seconds) == (pytest.approx(1600), pytest.approx(1900))  # the input's pace, not 500 s
    assert c.cost_usd == pytest.approx(20 * 1900 / 3600)
    assert (c.bound, c.input_seconds, c.transfer_seconds, c.gpu_utilization) == ("input", 0.16, 0.01, 0.3125)
    wide = by_type(rec, "a2-wide")
    assert (wide.bound, wide.gpu_utilization) == ("compute", 1.0)
    # a time objective takes the fastest real time: the balanced instance, not the cheap input-bound one
    assert run(eight_gpus(), Constraints(objective="time")).chosen.instance_type == "a2-wide"


def test_the_reason_of_an_input_bound_candidate_gives_the_rates():
    rec = run(eight_gpus())
    assert rec.chosen.reason == ("the cheapest of 5 candidates (4 kinds of machine); input-bound: 24 loader workers "
                                 "on 32 vCPUs prepare 1,600 samples/s, the 8 GPUs could take 5,120 (GPUs 31% busy)")
    assert rec.verdict.why == rec.chosen.reason
    assert by_type(rec, "p-mid").reason == ("1.9x faster, 4% dearer; input-bound: 56 loader workers on 64 vCPUs "
                                            "prepare 3,730 samples/s, the 8 GPUs could take 5,120 (GPUs 73% busy)")
    assert by_type(rec, "a2-wide").reason == "2.4x faster, 1.5x the cost"  # compute-bound: nothing to add


def test_the_fast_choice_names_the_cheaper_input_bound_host_it_passed_over():
    # a2-wide ($70/h) is chosen for time; p-thin has the same 8 GPUs for $20/h but waits on its 32 vCPUs' loader
    fast = run(eight_gpus(), Constraints(objective="time")).chosen
    assert fast.instance_type == "a2-wide"
    assert fast.reason.endswith("; 8 x A100-80GB (aws p-thin) costs less per hour but is input-bound on 32 vCPUs "
                                "(GPUs 31% busy): 31m40s total, $10.56")
    # nd-wide ($80/h) is dearer, and compute-bound: with the input-bound hosts gone nothing is passed over
    alone = run(eight_gpus()[2:], Constraints(objective="time")).chosen
    assert alone.instance_type == "a2-wide" and "costs less per hour" not in alone.reason


def test_make_batch_in_the_training_loop_is_serial():
    est = estimate(A100, 0.06, bound="input", input_s=0.03, transfer_s=0.01, util=0.02 / 0.06, workers=0, vcpus=30)
    rec = run([(A100, est)])
    assert rec.chosen.reason.endswith("; input-bound: make_batch in the training process prepares 8,530 samples/s, "
                                      "the GPU could take 12,800 (GPU 33% busy)")
    # DataLoader workers overlap the input with compute + copy (0.03 s): half the step, 600 s of job
    assert rec.advice[0] == (
        "1 x A100-40GB (lambda gpu_1x_a100) is input-bound: preparing batches in DataLoader workers "
        "(num_workers=29 per GPU, 29 on 30 vCPUs) instead of in the training loop would take at best 10m00s total, "
        "$0.33 instead of 15m00s, $0.50 (5m00s sooner and $0.17 cheaper)")
    assert "NVIDIA DALI" in rec.advice[1] and "at best 10m00s total" in rec.advice[1]
    loader = run([(A100, est.model_copy(update={"input_source": "dataloader"}))])
    assert loader.chosen.reason.endswith("; input-bound: the DataLoader (num_workers=0) in the training process "
                                         "prepares 8,530 samples/s, the GPU could take 12,800 (GPU 33% busy)")
    # without the utilisation, compute is the step less the input and the copy (all serial)
    parts = step_parts(est.model_copy(update={"gpu_utilization": None}))
    assert parts.compute_seconds == pytest.approx(0.02) and parts.serial and not parts.overlapped


def test_a_cpu_candidate_bound_by_its_loader_says_so_without_gpu_figures():
    est = estimate(CPU, 0.256, bound="input", input_s=0.256, transfer_s=0.0, workers=14, vcpus=16)
    rec = run([(CPU, est)])
    assert rec.chosen.reason.endswith("; input-bound: 14 loader workers on 16 vCPUs prepare 1,000 samples/s")
    assert rec.advice == [] and not any("wait for data" in w for w in rec.verdict.warnings)


def test_an_offer_without_listed_vcpus_says_its_host_was_assumed():
    blank = offer("vast", "vast-a100", 1.2, gpu="A100-80GB", count=1, vcpus=None)
    est = estimate(blank, 0.256, bound="input", input_s=0.256, transfer_s=0.0, workers=15, vcpus=16)
    rec = run([(blank, est)])
    assert rec.chosen.reason.endswith("; input-bound: 15 loader workers on 16 vCPUs (assumed: the catalog lists "
                                      "none for this machine) prepare 1,000 samples/s")


# ------------------------------------------------------------------------------------------ the fixes


def test_advice_names_the_balanced_instance_with_its_saving():
    rec = run(eight_gpus())
    # p-mid is less input-bound and cheaper, but a2-wide is not input-bound at all; nd-wide is the same, dearer
    assert rec.advice[0] == (
        "8 x A100-80GB (aws p-thin) is input-bound on 32 vCPUs: 8 x A100-80GB (gcp a2-wide), with 96 vCPUs for the "
        "same 8 GPUs, is compute-bound: 13m20s total, $15.56 instead of 31m40s, $10.56 (18m20s sooner for $5.00 "
        "more)")
    assert rec.verdict.could_be_better == rec.advice
    # without the compute-bound offers the less input-bound one is named, with its utilisation
    rec = run(eight_gpus()[:2] + [(CPU, estimate(CPU, 10.0))])
    assert rec.advice[0].startswith("8 x A100-80GB (aws p-thin) is input-bound on 32 vCPUs: 8 x A100-80GB (lambda "
                                    "p-mid), with 64 vCPUs for the same 8 GPUs, is input-bound (GPUs 73% busy): "
                                    "16m26s total, $10.96 instead of 31m40s, $10.56 (15m14s sooner for $0.40 more)")


def test_advice_for_more_loader_workers_when_the_host_affords_them():
    # NUM_WORKERS = 1: 8 workers on a host that affords 24 (32 vCPUs, one per training process kept free)
    rec = run([(THIN, thin(workers=8, transfer=0.002)), (CPU, estimate(CPU, 10.0))])
    more, dali = rec.advice
    # The workers' cores as the predictor prices them (ib.loader_cores): 32 vCPUs are 16 cores, 8 of them free of
    # the training processes; 8 workers get 8 cores, 24 get 8 + 16 SMT siblings at half a core = 16. Input
    # 0.16 x 8/16 = 0.08 s a step (not 8/24 of it, which promised 13m53s); the job 1600 x 0.08/0.16 = 800 s.
    assert more == ("8 x A100-80GB (aws p-thin) is input-bound: more loader workers, num_workers=3 per GPU (24 on 32 "
                    "vCPUs against the 8 this estimate has), would take at best 18m20s total, $6.11 instead of "
                    "31m40s, $10.56 (13m20s sooner and $4.44 cheaper)")
    # the input free: compute + copy, 0.052 s a step, 520 s of job
    assert dali == ("8 x A100-80GB (aws p-thin) is input-bound: decoding and augmenting on the GPU (for images or "
                    "video, e.g. NVIDIA DALI) takes the input off the CPU, at best 13m40s total, $4.56 instead of "
                    "31m40s, $10.56 (18m00s sooner and $6.00 cheaper)")
    # every worker the host affords is already assumed: no such line
    assert not any("more loader workers" in line for line in run(eight_gpus()).advice)
    # 12 vCPUs for 8 GPUs afford 4 workers, not one per GPU: none to add either
    few = thin(workers=4).model_copy(update={"host_vcpus": 12})
    assert not any("more loader workers" in line for line in run([(THIN, few)]).advice)


def test_the_fixes_shorten_the_steps_and_keep_the_jobs_own_startup():
    # 400 s of the 2,000 s job is its own start-up (model build, warm-up), which no loader fix shortens: the steps
    # (1,600 s) take 800 s with 24 workers (input 0.16 -> 0.08 s) and 520 s at compute + copy (0.052 s a step).
    # Totals with the 300 s GPU start-up: 300 + 400 + 800 = 1,500 s; 300 + 400 + 520 = 1,220 s (scaling the whole
    # job said 21m40s and 15m50s).
    est = thin(workers=8, transfer=0.002).model_copy(
        update={"seconds": 2000.0, "startup_seconds": 400.0, "low": 1600.0, "high": 2400.0})
    assert run([(THIN, est)]).advice == [
        "8 x A100-80GB (aws p-thin) is input-bound: more loader workers, num_workers=3 per GPU (24 on 32 vCPUs "
        "against the 8 this estimate has), would take at best 25m00s total, $8.33 instead of 38m20s, $12.78 (13m20s "
        "sooner and $4.44 cheaper)",
        "8 x A100-80GB (aws p-thin) is input-bound: decoding and augmenting on the GPU (for images or video, e.g. "
        "NVIDIA DALI) takes the input off the CPU, at best 20m20s total, $6.78 instead of 38m20s, $12.78 (18m00s "
        "sooner and $6.00 cheaper)"]


def test_the_gpu_decoding_line_is_the_job_at_its_compute_and_copy_bound():
    rec = run(eight_gpus())
    # the copy (0.01 s) may not overlap compute (0.05 s) here: at best 0.06 s a step, 600 s of job
    assert rec.advice[1:] == [
        "8 x A100-80GB (aws p-thin) is input-bound: decoding and augmenting on the GPU (for images or video, e.g. "
        "NVIDIA DALI) takes the input off the CPU, at best 15m00s total, $5.00 instead of 31m40s, $10.56 "
        "(16m40s sooner and $5.56 cheaper)"]


def test_a_fix_that_saves_under_5pct_of_the_total_is_not_advised():
    # every worker the host affords is assumed, so only the GPU decoding line can be said. Compute 0.148 s + copy
    # 0.002 s a step: the job 1,600 s -> 1,500 s, 100 s of the 1,900 s total (5.3%): said. Compute 0.150 s: 80 s
    # (4.2%), under MIN_GAIN: no line.
    def advice(compute_seconds):
        est = estimate(THIN, 0.16, bound="input", input_s=0.16, transfer_s=0.002, util=compute_seconds / 0.16,
                       workers=24, vcpus=32)
        return run([(THIN, est)]).advice

    assert advice(0.148) == [
        "8 x A100-80GB (aws p-thin) is input-bound: decoding and augmenting on the GPU (for images or video, e.g. "
        "NVIDIA DALI) takes the input off the CPU, at best 30m00s total, $10.00 instead of 31m40s, $10.56 (1m40s "
        "sooner and $0.56 cheaper)"]
    assert advice(0.150) == []


def test_the_warning_says_how_long_the_gpus_wait_for_data():
    rec = run(eight_gpus())
    assert "8 x A100-80GB (aws p-thin) is input-bound: its GPUs would wait for data 69% of the time" in \
        rec.verdict.warnings
    fast = run(eight_gpus(), Constraints(objective="time"))  # a compute-bound choice: no such warning
    assert not any("wait for data" in w for w in fast.verdict.warnings)


def test_a_gpu_that_barely_waits_gets_no_warning():
    # input-bound by a hair: the GPUs compute 90% of the time, so the reason names the bound but nothing warns
    nearly = estimate(THIN, 0.05 / 0.9, bound="input", input_s=0.05 / 0.9, transfer_s=0.01, util=0.9, workers=24,
                      vcpus=32)
    rec = run([(THIN, nearly), (CPU, estimate(CPU, 10.0))])
    assert rec.chosen.instance_type == "p-thin" and "input-bound" in rec.chosen.reason
    assert not any("wait for data" in w for w in rec.verdict.warnings)


def transfer_bound_a100():
    # a small model on large inputs: compute 4 ms, the pageable copy 12 ms after it, the loader 10 ms alongside
    return estimate(A100, 0.016, steps=100_000, bound="transfer", input_s=0.01, transfer_s=0.012, util=0.25,
                    workers=29, vcpus=30)


def test_transfer_eats_the_gpus_advantage_and_pinned_memory_is_advised():
    rec = run([(CPU, estimate(CPU, 0.03, steps=100_000)), (A100, transfer_bound_a100())])
    assert rec.chosen.instance_type == "c7i.4xlarge"  # $0.62 against the GPU's $1.05
    gpu = by_type(rec, "gpu_1x_a100")
    assert gpu.reason == ("1.6x faster, 1.7x the cost; transfer-bound: copying the batch to the GPU takes 12 ms a "
                          "step, not overlapped with 4 ms of compute (GPU 25% busy)")
    # the best GPU's fix, though a CPU is chosen: overlapped, the step is the copy's 12 ms, 1,200 s of job
    assert rec.advice == [
        "1 x A100-40GB (lambda gpu_1x_a100) is transfer-bound: pinned memory (DataLoader pin_memory=True) and "
        ".to(device, non_blocking=True) would overlap the copy with compute, at best 25m00s total, $0.83 instead of "
        "31m40s, $1.05 (6m40s sooner and $0.22 cheaper)"]
    assert not any("wait for data" in w for w in rec.verdict.warnings)  # the choice is the CPU
    assert rec.verdict.cpu_vs_gpu.text.endswith(" The GPU run is transfer-bound: its GPU computes 25% of the time.")
    timed = run([(CPU, estimate(CPU, 0.03, steps=100_000)), (A100, transfer_bound_a100())],
                Constraints(objective="time"))
    assert timed.chosen.instance_type == "gpu_1x_a100"
    assert "1 x A100-40GB (lambda gpu_1x_a100) is transfer-bound: its GPU would wait for data 75% of the time" in \
        timed.verdict.warnings


def test_an_overlapped_copy_gets_no_pinned_memory_advice():
    two = offer("lambda", "gpu_2x_a100", 3.98, gpu="A100-40GB", count=2, vcpus=60)
    est = estimate(two, 0.012, steps=100_000, bound="transfer", input_s=0.002, transfer_s=0.012, util=0.004 / 0.012,
                   workers=58, vcpus=60)
    rec = run([(two, est)])
    assert rec.chosen.reason.endswith("; transfer-bound: copying each GPU's share of the batch takes 12 ms a step, "
                                      "against 4 ms of compute (GPUs 33% busy)")
    assert step_parts(est).overlapped and rec.advice == []


def test_bound_advice_follows_the_what_if_advice():
    halved = [(o, e.model_copy(update={"seconds": e.seconds / 2, "low": e.low / 2, "high": e.high / 2,
                                       "step_seconds": e.step_seconds / 2, "precision": "bf16"}))
              for o, e in eight_gpus()]
    rec = run(eight_gpus(), what_ifs={"--precision bf16": halved})
    # 800 + 300 s at $20/h = $6.11, against $10.56
    assert rec.advice[0] == ("with --precision bf16: 8 x A100-80GB (aws p-thin), 18m20s total, $6.11 instead of "
                             "31m40s, $10.56")
    assert [line.split(":")[0] for line in rec.advice[1:]] == ["8 x A100-80GB (aws p-thin) is input-bound on 32 vCPUs",
                                                               "8 x A100-80GB (aws p-thin) is input-bound"]


def test_step_parts_and_the_words():
    parts = StepParts(compute_seconds=0.05, input_seconds=0.16, transfer_seconds=0.01, serial=False,
                      overlapped=False)
    assert parts.step_seconds() == 0.16
    assert parts.step_seconds(input_seconds=0.0) == pytest.approx(0.06)
    assert parts.step_seconds(input_seconds=0.0, overlapped=True) == 0.05
    assert parts.step_seconds(serial=True) == pytest.approx(0.22)
    assert [format_rate(x) for x in (2431.7, 22_149.0, 87.54, 1600.0)] == ["2,430", "22,100", "87.5", "1,600"]
    assert [ms_text(x) for x in (0.095, 1.25, 0.0013, 0.004)] == ["95 ms", "1,250 ms", "1.3 ms", "4 ms"]
    assert step_parts(estimate(A100, 0.01)) is None  # no host side in the estimate


# ----------------------------------------------------------------------------------------- what is shown


def test_the_table_has_a_bound_column_only_when_a_row_needs_it(capsys):
    rec = run(eight_gpus())
    md = answer.markdown(rec)
    assert ("| cost | spot | similar | bound (GPU busy) | vs the choice |\n"
            "|---|---|---|---|---|---:|---:|---:|---|---|---|\n") in md
    row = next(line for line in md.splitlines() if line.startswith("| 1➜ |"))
    assert row.startswith("| 1➜ | aws | p-thin | 8 x A100-80GB, 32 vCPU | 31m40s")
    assert row.endswith("|  | input (31%) | chosen |")
    wide_row = next(line for line in md.splitlines() if line.startswith("| 3* |"))
    assert "| +1, to $17.78 | compute | " in wide_row and "input-bound:" not in wide_row
    answer.candidates_table(rec)
    text = capsys.readouterr().out
    assert "bound (GPU busy)" in text and "input (31%)" in text and "input (73%)" in text and "A100-80GB, 96" in text
    # the column says it: the row's reason keeps its comparison only
    assert "1.9x faster, 4%" in text and "input-bound:" not in text
    balanced = run(eight_gpus()[2:])  # every candidate compute-bound: today's table
    md = answer.markdown(balanced)
    assert ("| # | provider | instance | hardware | total time (80%) | job | cost | spot | similar "
            "| vs the choice |\n") in md
    assert "bound (GPU busy)" not in md and "96 vCPU" not in md
    answer.candidates_table(balanced)
    assert "bound" not in capsys.readouterr().out


def test_the_json_carries_the_bound_fields(capsys):
    render.print_json(run(eight_gpus()))
    data = json.loads(capsys.readouterr().out)
    chosen = data["chosen"]
    assert (chosen["bound"], chosen["input_seconds"], chosen["transfer_seconds"], chosen["gpu_utilization"]) == (
        "input", 0.16, 0.01, 0.3125)
    assert [c["bound"] for c in data["candidates"]] == ["input", "input", "compute", "compute", "compute"]
    assert data["candidates"][-1]["gpu_utilization"] is None  # a CPU
    assert data["verdict"]["could_be_better"] == data["advice"] and len(data["advice"]) == 2
    assert "its GPUs would wait for data 69% of the time" in " ".join(data["verdict"]["warnings"])


def test_the_bound_column_gives_the_gpus_busy_share_of_a_compute_row_that_waits():
    """A GPU row whose batch is made in series for 49% of its step read "compute" under "bound (GPU busy)", and
    the column was left out where every row was such; it gives the busy share now, and is shown for it."""
    from types import SimpleNamespace

    from advisor.cli.answer import _bound_cell, _bound_shown

    def row(bound, util, gpu="H100-SXM"):
        return SimpleNamespace(bound=bound, gpu_utilization=util, gpu=gpu), ""

    waits, busy = row("compute", 0.51), row("compute", 0.97)
    assert [_bound_cell(c) for c, _ in (waits, busy, row("input", 0.4), row("input", None, None))] == [
        "compute (51%)", "compute", "input (40%)", "input"]
    assert _bound_shown([waits, busy]) and not _bound_shown([busy])
