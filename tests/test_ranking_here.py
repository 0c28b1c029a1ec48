"""The verdict's "Here" line: the job on the probed machine's own devices, beside the rented choice
(``advisor.ranking.here``). Figures from ``tests/test_ranking.py``'s offers: the cheapest candidate is the
A100 at 3,000 s + 300 s start-up."""

from __future__ import annotations

import pytest
from test_ranking import OFFERS, STARTUP_GPU, estimates, priced

from advisor.cli.answer import markdown
from advisor.errors import PredictionError
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Target, WorkloadSummary


def local(seconds, *, fits=True, peak=None, capacity=None):
    return Estimate(target=Target.cpu(), dataset_size=1000, epochs=1, batch_size=32, seconds=seconds,
                    low=seconds * 0.8, high=seconds * 1.25, step_seconds=seconds / 100, steps_per_epoch=100,
                    total_steps=100, fits_memory=fits, peak_memory_gib=peak, memory_capacity_gib=capacity,
                    per_device_batch_size=32, method="measured", precision="fp32")


def ranked(here, constraints=None, host="laptop", start=None):
    return rank(priced(OFFERS, estimates()), constraints or Constraints(), workload=WorkloadSummary(name="test"),
                dataset_size=1000, epochs=1, batch_size=32, startup_seconds_cpu=120.0,
                startup_seconds_gpu=STARTUP_GPU, here=[(*f, False) if len(f) == 3 else f for f in here], host=host,
                process_start_seconds=start)


def test_a_short_job_here_is_sooner_than_the_rented_choice_and_says_why():
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0))])
    assert rec.chosen.instance_type == "gpu_1x_a100" and rec.chosen.total_seconds == 3300.0
    (run,) = rec.here
    assert (run.device, run.name, run.seconds, run.low, run.high) == ("cpu", "AMD EPYC, 2 threads", 600.0, 480.0, 750.0)
    assert run.fits_memory is True and run.meets_deadline is None and run.method == "measured"
    assert rec.verdict.here == (
        "on laptop (the machine that was probed), with nothing to rent and no instance to start: cpu (AMD EPYC, "
        "2 threads): 10m00s (80%: 8m00s–12m30s). That is sooner than the recommended machine's 55m00s total "
        "(5m00s of it start-up).")


def test_a_long_job_here_is_compared_and_judged_against_the_deadline():
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(36_000.0))], Constraints(deadline_seconds=4 * 3600))
    (run,) = rec.here
    assert run.meets_deadline is False
    assert rec.verdict.here.endswith(
        "cpu (AMD EPYC, 2 threads): 10h00m (80%: 8h00m–12h30m), past the 4h00m deadline. "
        "That is 11x the recommended machine's 55m00s total.")


def test_a_job_that_does_not_fit_here_or_has_no_estimate_says_so():
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0, fits=False, peak=99.4, capacity=23.5)),
                  ("cuda:0", "Some GPU", PredictionError("advisor has no spec sheet for Some GPU"))],
                 Constraints(deadline_seconds=3600))
    cpu, gpu = rec.here
    assert cpu.fits_memory is False and cpu.meets_deadline is False and cpu.peak_memory_gib == 99.4
    assert gpu.seconds is None and gpu.error == "advisor has no spec sheet for Some GPU"
    assert rec.verdict.here == (
        "on laptop (the machine that was probed), with nothing to rent and no instance to start: cpu (AMD EPYC, "
        "2 threads): the job does not fit its memory (needs 99 GiB of memory, has 24); cuda:0 (Some GPU): no estimate "
        "(advisor has no spec sheet for Some GPU)")


def test_nothing_timed_here_gives_no_line():
    rec = ranked([])
    assert rec.here == [] and rec.verdict.here is None
    assert "**Here:**" not in markdown(rec)


@pytest.mark.parametrize("host", ["<img src=x>", "**vm**"])
def test_the_hostname_is_escaped_in_markdown(host):
    text = markdown(ranked([("cpu", "AMD EPYC, 2 threads", local(600.0))], host=host))
    line = next(line for line in text.splitlines() if line.startswith("- **Here:**"))
    assert host not in line
    assert ("&lt;img src=x&gt;" if host.startswith("<") else r"\*\*vm\*\*") in line


def test_with_a_gpu_here_the_fastest_device_is_compared():
    gpu = local(3200.0).model_copy(update={"target": Target.gpu("H200", 1)})
    rec = ranked([("cpu", "Intel Xeon, 16 threads", local(36_000.0)), ("cuda:0", "NVIDIA H200", gpu)])
    assert [r.device for r in rec.here] == ["cpu", "cuda:0"]
    assert rec.verdict.here.endswith(
        "cpu (Intel Xeon, 16 threads): 10h00m (80%: 8h00m–12h30m); cuda:0 (NVIDIA H200): 53m20s (80%: "
        "42m40s–1h07m). The fastest here, cuda:0, is about as long as the recommended machine's 55m00s total.")


def test_a_cpu_probed_beside_other_processes_is_its_idle_time_and_says_so():
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0), True)])
    assert rec.here[0].busy_when_probed is True
    assert "cpu (AMD EPYC, 2 threads): 10m00s (80%: 8m00s–12m30s) when idle (other processes were using the CPU " \
           "during most of the probe; beside them the job takes longer). That is sooner" in rec.verdict.here
    assert "when idle" not in ranked([("cpu", "AMD EPYC, 2 threads", local(600.0))]).verdict.here


def test_starting_python_and_importing_torch_comes_before_the_job_and_counts_in_the_comparison():
    """The probe's own process start (Python, torch) is what a script pays before its model is built: the line
    gives it beside the job, and judges the deadline and the comparison on both."""
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(3000.0))], start=200.0)
    (run,) = rec.here
    assert (run.seconds, run.process_start_seconds, run.meets_deadline) == (3000.0, 200.0, None)
    assert rec.verdict.here.endswith(
        "cpu (AMD EPYC, 2 threads): 50m00s (80%: 40m00s–1h02m), after 3m20s to start Python and import torch (as "
        "the probe's process took). In all that is about as long as the recommended machine's 55m00s total.")
    late = ranked([("cpu", "AMD EPYC, 2 threads", local(3000.0))], Constraints(deadline_seconds=3150.0), start=200.0)
    assert late.here[0].meets_deadline is False  # 3,000 s of job meets it; 3,200 s with the start does not
    two = ranked([("cpu", "AMD EPYC, 2 threads", local(36_000.0)), ("cuda:0", "Some GPU", local(600.0))], start=2.0)
    assert two.verdict.here.endswith(
        "each after 2.0s to start Python and import torch (as the probe's process took). In all the fastest here, "
        "cuda:0, is sooner than the recommended machine's 55m00s total (5m00s of it start-up).")


def test_diff_gives_each_device_here_old_and_new_with_the_change_in_its_wait():
    from advisor.cli.answer import diff_markdown
    from advisor.ranking.diff import diff

    old = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0))], start=2.0)
    new = ranked([("cpu", "AMD EPYC, 2 threads", local(450.0)), ("cuda:0", "NVIDIA H200", local(60.0, fits=False)),
                  ("cuda:1", "Some GPU", PredictionError("advisor has no spec sheet for Some GPU"))], start=1.5)
    d = diff(old, new)
    assert [(r.device, r.total_seconds_delta) for r in d.here] == [("cpu", 451.5 - 602.0), ("cuda:0", None),
                                                                    ("cuda:1", None)]
    assert d.here[0].old.seconds == 600.0 and d.here[1].old is None and d.here[1].new.fits_memory is False
    md = diff_markdown(d)
    assert "| here cpu | AMD EPYC, 2 threads: 10m02s | AMD EPYC, 2 threads: 7m32s | -2m30s | - |" in md
    assert "| here cuda:0 | - | NVIDIA H200: does not fit its memory |" in md
    assert "| here cuda:1 | - | Some GPU: no estimate |" in md


@pytest.mark.parametrize("here, hint", [
    ([("cpu", "AMD EPYC, 2 threads", local(600.0))], "; run here: add --instance here)"),
    # two devices with an estimate: the fastest that fits is named (a bare "here" would be asked which)
    ([("cpu", "Xeon, 16 threads", local(600.0)), ("cuda:0", "NVIDIA H200", local(60.0, fits=False)),
      ("cuda:1", "NVIDIA L4", local(90.0))], "; run here: add --instance here:cuda:1)"),
    ([("cpu", "Xeon, 16 threads", local(600.0, fits=False))], "--actual-seconds <real time, e.g. 50m00s>)"),
])
def test_the_saved_line_says_how_to_record_a_run_here(here, hint, capsys):
    from advisor.cli.answer import recommendation

    rec = ranked(here).model_copy(update={"id": 7})
    recommendation(rec)
    printed = " ".join(capsys.readouterr().out.split())  # the console wraps at its width
    # a placeholder the shell will not run, its example the chosen machine's prediction (3000 s of GPU job)
    assert ("saved as history id 7 (record the real time: advisor history record 7 --actual-seconds <real time, "
            "e.g. 50m00s>") in printed
    assert printed.endswith(hint)


@pytest.mark.parametrize("seconds, example", [(2.4, "2.4s"), (171.0, "2m51s"), (0.0042, "0.0042"),
                                              (1e8, "100000000")])
def test_the_saved_lines_example_is_the_jobs_own_size_and_is_not_refused(seconds, example, capsys):
    """A fixed "1h30m", run as printed for a 2.4 s job, was refused as 2,207x its prediction: the example is now
    the chosen machine's prediction, written as --actual-seconds reads it, so it is never an outlier."""
    from advisor.cli.answer import recommendation
    from advisor.history.outcome_checks import outlier
    from advisor.units import parse_actual_seconds

    rec = ranked([]).model_copy(update={"id": 7})
    rec = rec.model_copy(update={"chosen": rec.chosen.model_copy(update={"seconds": seconds})})
    recommendation(rec)
    printed = " ".join(capsys.readouterr().out.split())
    assert printed.endswith(f"advisor history record 7 --actual-seconds <real time, e.g. {example}>)")
    assert outlier(parse_actual_seconds(example), seconds) is None


def test_a_job_just_too_big_here_shows_the_decimal_that_tells_need_from_capacity():
    """23.86 against 23.54 GiB read "needs 24 GiB, has 24"."""
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0, fits=False, peak=23.86, capacity=23.54))])
    assert rec.verdict.here.endswith("the job does not fit its memory (needs 23.9 GiB of memory, has 23.5)")


def test_a_job_within_the_memory_here_says_why_it_does_not_fit_as_a_candidates_reason_does():
    """22.4 against 24 GiB read "needs 22 GiB, has 24": past the 90% a measured job may use, as recommend's
    dropped candidates say; within it, the batch the probe ran out of memory at."""
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0, fits=False, peak=22.4, capacity=24.0))])
    assert rec.verdict.here.endswith(
        "the job does not fit its memory (needs 22 GiB of memory, more than the 90% of its 24 a measured job may use)")
    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0, fits=False, peak=12.0, capacity=24.0))])
    assert rec.verdict.here.endswith(
        "the job does not fit its memory (its batch is past the largest below a batch that ran out of memory in the "
        "probe)")


def test_a_newline_in_a_stored_here_line_is_shown_not_printed_as_a_line(capsys):
    # A history row (or a profile from before names were checked) whose hostname had a newline: replayed by
    # `history show`, it added a real-looking "note:" line, at column 0, to the verdict.
    from advisor.cli.answer import verdict_block

    rec = ranked([("cpu", "AMD EPYC, 2 threads", local(600.0))], host="box\n\nnote: advisor verified this")
    verdict_block(rec)
    printed = capsys.readouterr().out
    assert not any(line.startswith("note:") for line in printed.splitlines()), printed
    assert "on box\\x0a\\x0anote: advisor verified this (the machine that was probed)" in printed
