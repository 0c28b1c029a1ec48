"""bench/pool_cpu_runs.py: issue 8's pooled CPU figures come from the pasted runs, and the headline says them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bench_scripts import bench_modules

REPO = Path(__file__).resolve().parents[2]

JOB_HEADER = ("| workload | batch | dataset | epochs | predicted s | 80% interval | actual s | error % | held "
              "| probe s |\n|---|---|---|---|---|---|---|---|---|---|\n")
RERUN_HEADER = ("| workload | probed sizes | same job rerun: s (diff %) |\n"
                "|---|---|---|\n")


@pytest.fixture(scope="module")
def pool_runs():
    return bench_modules("pool_cpu_runs")[0]


def _run(header: str, rows: list[tuple[str, float, float, str]], reruns: dict[str, str] | None = None,
         floor: float | None = None) -> str:
    table = "".join(f"| {w} | 64 | 1,000 | 2 | {p} | 1.0-99.0 | 20.0 | {e:+.1f} | {h} | 10.0 |\n"
                    for w, p, e, h in rows)
    text = f"{header}\n\n{JOB_HEADER}{table}\n"
    if reruns:
        text += RERUN_HEADER + "".join(f"| {w} | 8,16 | {c} |\n" for w, c in reruns.items()) + "\n"
    if floor is not None:
        text += ("each run against the prediction: median |error| 5.0%; against the mean of the job's other runs "
                 f"(the machine's floor): {floor}%\n")
    return text + "\n"


def _readme() -> str:
    before = _run("Idle, 01:00:", [("a", 20.0, 50.0, "no")])  # before the shipped code: not counted
    return "\n".join([
        "# Benchmarks", before,
        "### Two fresh processes for the user's batch size (session 24, 2026-12-02)",
        _run("Idle, 03:50 (shipped):", [("a", 22.0, 10.0, "yes"), ("b", 19.0, -5.0, "yes"), ("c", 21.0, 3.0, "no")],
             reruns={"a": "18.0 (-10.0), 22.0 (+10.0)", "b": "20.0 (+0.0), 20.0 (+0.0)"}, floor=6.0),
        _run("Idle, 02:52 (first version):", [("a", 20.0, 90.0, "no")]),
        "### Re-measured (session 26)",
        _run("Busy loop beside the probe, 09:51:", [("a", 26.0, 30.0, "yes"), ("b", 18.0, -10.0, "yes")], floor=8.0),
        _run("Idle again, 10:00:", [("a", 20.0, 1.0, "yes")], floor=4.0),
        _run("A competing torch job beside the probe, 10:10:", [("a", 20.0, -20.0, "yes")]),
        "### Pooled",  # prose after the last run is not that run's: its floor below stays None
        "against the mean of the job's other runs (the machine's floor): 99.0%",
        "### Run by run, 2026-11-30 to 2026-12-03",
        _run("Idle, 11:00:", [("a", 20.0, 70.0, "no")]),  # a summary section's table: not a run
    ])


def test_only_the_shipped_runs_between_the_headings_are_read(pool_runs):
    runs = pool_runs.parse_runs(_readme())
    assert [(r.label, r.load, len(r.jobs)) for r in runs] == [
        ("Idle, 03:50 (shipped)", "idle", 3), ("Busy loop beside the probe, 09:51", "busy", 2),
        ("Idle again, 10:00", "idle", 1), ("A competing torch job beside the probe, 10:10", "torch", 1)]
    assert [r.floor_pct for r in runs] == [6.0, 8.0, 4.0, None]
    first = runs[0].jobs
    assert first[0].actual_s == (20.0, 18.0, 22.0)
    assert first[2].actual_s == (20.0,)  # no rerun row for c
    assert first[0].error_vs_mean_pct == pytest.approx(10.0)
    assert first[1].error_vs_mean_pct == pytest.approx(-5.0)


def test_the_pool_counts_every_job_of_every_run_once(pool_runs):
    runs = pool_runs.parse_runs(_readme())
    idle = pool_runs.pool(runs, "idle")
    assert (idle.runs, idle.jobs) == (2, 4)
    assert idle.median_abs_error_pct == pytest.approx(4.0)  # |errors| 1, 3, 5, 10
    assert idle.median_signed_error_pct == pytest.approx(2.0)  # -5, 1, 3, 10
    assert (idle.held, idle.within_20_pct, idle.runs_all_within_20_pct) == (3, 4, 2)
    assert idle.runs_within_target == 2  # run medians 5% and 1%, both within 7%
    assert idle.worst_ratio == pytest.approx(1.1)
    assert idle.floor_median_pct == pytest.approx(5.0)
    assert (idle.rerun_jobs, idle.median_abs_error_vs_mean_pct) == (2, pytest.approx(7.5))
    busy = pool_runs.pool(runs, "busy")
    assert (busy.median_abs_error_pct, busy.within_20_pct, busy.runs_within_target) == (20.0, 1, 0)
    assert busy.runs_all_within_20_pct == 0  # its +30% job
    assert busy.worst_ratio == pytest.approx(1.3)
    assert pool_runs.pool(runs, "torch").worst_ratio == pytest.approx(1.25)  # 20% short: 1 / 0.8
    text = pool_runs.table(runs)
    assert "| idle | 2 | 4 | 4.00% (7%: met) | +2.0% | 2/2 | 4/4 | 2/2 | 3/4 | 1.100x | 5.0% | 7.50% (2 jobs) |" in text
    assert "| busy | 1 | 2 | 20.00% (10%: missed) |" in text
    assert "idle and busy: 5/6; with the torch runs: 6/7" in text


def test_a_run_not_yet_pasted_joins_from_the_bench_output(pool_runs, tmp_path, capsys):
    out = _run("", [("a", 20.0, -8.0, "yes")], reruns={"a": "25.0 (+25.0)"})
    run = pool_runs.run_from_output("idle", out, "today")
    assert (run.load, run.jobs[0].error_pct, run.jobs[0].actual_s) == ("idle", -8.0, (20.0, 25.0))
    with pytest.raises(ValueError, match="load 'calm'"):
        pool_runs.run_from_output("calm", out, "today")
    with pytest.raises(ValueError, match="no job table"):
        pool_runs.run_from_output("idle", "nothing here\n", "today")
    readme = tmp_path / "README.md"
    readme.write_text(_readme(), encoding="utf-8")
    extra = tmp_path / "run.txt"
    extra.write_text(out, encoding="utf-8")
    assert pool_runs.main(["--readme", str(readme), "--extra", f"idle:{extra}"]) == 0
    capsys.readouterr()
    assert pool_runs.main(["--readme", str(readme), "--extra", f"idle:{extra}", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["pooled"]["idle"]["runs"], doc["pooled"]["idle"]["jobs"]) == (3, 5)
    assert doc["runs"][-1] == {"label": str(extra), "load": "idle", "cpu": "unknown", "jobs": 1,
                               "median_abs_error_pct": 8.0, "floor_pct": None}


def test_a_malformed_row_is_an_error_not_a_guess(pool_runs):
    bad = _readme().replace("| +10.0 | yes |", "| +10.0 | maybe |", 1)
    assert bad != _readme()
    with pytest.raises(ValueError, match="held is 'maybe'"):
        pool_runs.parse_runs(bad)
    short = _readme().replace("| +10.0 | yes | 10.0 |", "| +10.0 | yes |", 1)
    assert short != _readme()
    with pytest.raises(ValueError, match="9 cells against its header's 10"):
        pool_runs.parse_runs(short)


def test_the_headline_states_what_the_pasted_runs_pool_to(pool_runs):
    """bench/README.md's headline row for the loaded CPU bench quotes the pooled figures: they must be the ones the
    pasted runs give, so that pasting a run and not updating the headline (or the reverse) fails here."""
    text = (REPO / "bench" / "README.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `bench/accuracy_cpu.py --background"))
    runs = pool_runs.parse_runs(text)
    for load in pool_runs.TARGET_MEDIAN_PCT:  # idle, busy, busy-raised
        stated = re.search(rf"{load} \*\*([0-9.]+)%\*\* \((\d+) runs", row)
        assert stated, f"the headline row does not state the pooled {load} figure"
        pooled = pool_runs.pool(runs, load)
        assert (float(stated.group(1)), int(stated.group(2))) == (round(pooled.median_abs_error_pct, 2), pooled.runs)
    busy = pool_runs.pool(runs, "busy")
    every = re.search(r"every job within 20% in (\d+) of (\d+) runs", row)
    assert (int(every.group(1)), int(every.group(2))) == (busy.runs_all_within_20_pct, busy.runs)
    held = re.search(r"intervals (\d+)/(\d+) idle and busy", row)
    idle_busy = [j for r in runs if r.load in pool_runs.JUDGED_LOADS for j in r.jobs]
    assert (int(held.group(1)), int(held.group(2))) == (sum(j.held for j in idle_busy), len(idle_busy))
    raised = pool_runs.pool(runs, "busy-raised")
    every = re.search(r"busy-raised: every job within 20% in (\d+) of (\d+) runs", row)
    assert (int(every.group(1)), int(every.group(2))) == (raised.runs_all_within_20_pct, raised.runs)


def test_runs_are_pooled_apart_by_the_cpu_maker_their_section_names(pool_runs, tmp_path, capsys):
    text = _readme().replace("### Re-measured (session 26)", "### Re-measured (session 26) on an Intel Xeon VM")
    runs = pool_runs.parse_runs(text)
    assert [(r.label, r.cpu) for r in runs] == [
        ("Idle, 03:50 (shipped)", "unknown"), ("Busy loop beside the probe, 09:51", "Intel"),
        ("Idle again, 10:00", "Intel"), ("A competing torch job beside the probe, 10:10", "Intel")]
    assert pool_runs.cpu_maker("### Re-measured 2026-12-04 on an AMD EPYC VM (session 45)") == "AMD"
    assert pool_runs.cpu_maker("an AMD VM against an Intel one") == "unknown"  # both named: not a guess
    assert pool_runs.cpu_maker("### Re-measured (sessions 24-26)") == "unknown"
    by_cpu = pool_runs.table_by_cpu(runs)
    assert "| Intel | busy | 1 | 2 | 20.00% | +10.0% | 1/2 | 0/1 | 2/2 | 1.300x |" in by_cpu
    assert "| Intel | idle | 1 | 1 | 1.00% | +1.0% | 1/1 | 1/1 | 1/1 | 1.010x |" in by_cpu
    assert "| unknown | idle | 1 | 3 | 5.00% | +3.0% | 3/3 | 1/1 | 2/3 | 1.100x |" in by_cpu
    assert by_cpu.index("| Intel |") < by_cpu.index("| unknown |")
    # A run not yet pasted takes its maker from the bench output's first line, which names the CPU.
    out = ("CPU accuracy, idle, 2026-12-05 00:00, AMD EPYC 7B13, 2 logical CPUs, torch 2.13.0+cpu\n\n"
           + _run("", [("a", 20.0, -8.0, "yes")]))
    assert pool_runs.run_from_output("idle", out, "today").cpu == "AMD"
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    extra = tmp_path / "run.txt"
    extra.write_text(out, encoding="utf-8")
    assert pool_runs.main(["--readme", str(readme), "--extra", f"idle:{extra}", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(doc["by_cpu"]) == ["AMD", "Intel", "unknown"]
    assert (doc["by_cpu"]["AMD"]["idle"]["jobs"], doc["by_cpu"]["AMD"]["idle"]["median_abs_error_pct"]) == (1, 8.0)
    assert doc["runs"][-1]["cpu"] == "AMD"
    assert pool_runs.main(["--readme", str(readme), "--by-cpu"]) == 0
    assert "| Intel | torch | 1 | 1 | 20.00% | -20.0% | 1/1 | 1/1 | 1/1 | 1.250x |" in capsys.readouterr().out


def test_runs_at_raised_priority_pool_apart_and_count_in_the_judged_intervals(pool_runs):
    text = "\n".join([
        "### Two fresh processes for the user's batch size (session 24, 2026-12-02)",
        _run("Busy loop beside the probe, priority not raised, 09:51:", [("a", 26.0, 30.0, "yes")]),
        _run("Busy loop beside the probe, raised priority, 05:12-05:20:", [("a", 20.8, 4.0, "yes"),
                                                                            ("b", 19.6, -2.0, "no")]),
        _run("A competing torch job beside the probe, raised priority, 06:00:", [("a", 20.2, 1.0, "no")]),
    ])
    runs = pool_runs.parse_runs(text)
    assert [r.load for r in runs] == ["busy", "busy-raised", "torch-raised"]
    raised = pool_runs.pool(runs, "busy-raised")
    assert (raised.runs, raised.jobs, raised.median_abs_error_pct, raised.runs_all_within_20_pct) == (1, 2, 3.0, 1)
    assert pool_runs.pool(runs, "busy").median_abs_error_pct == pytest.approx(30.0)
    table = pool_runs.table(runs)
    assert "| busy-raised | 1 | 2 | 3.00% (10%: met) |" in table
    assert "80% intervals held, idle and busy: 2/3; with the torch runs: 2/4" in table


def test_every_job_within_20_pct_is_counted_against_the_machines_own_floor(pool_runs):
    # Two busy runs of two jobs, each job run three times (actual s is 20.0 in the table, then its reruns).
    text = "\n".join([
        "### Two fresh processes for the user's batch size (session 24, 2026-12-02)",
        _run("Busy loop beside the probe, 09:51:", [("a", 23.0, 15.0, "yes"), ("b", 25.0, 25.0, "yes")],
             reruns={"a": "20.0 (+0.0), 20.0 (+0.0)", "b": "21.0 (+5.0), 23.0 (+15.0)"}),
        _run("Busy loop beside the probe, 10:05:", [("a", 19.0, -5.0, "yes"), ("b", 21.0, 5.0, "yes")],
             reruns={"a": "20.0 (+0.0), 26.0 (+30.0)", "b": "20.0 (+0.0), 20.0 (+0.0)"}),
        _run("Busy loop beside the probe, 10:20:", [("a", 20.0, 0.0, "yes")]),  # no reruns: no floor, left out
    ])
    runs = pool_runs.parse_runs(text)
    c = pool_runs.criterion(runs, "busy")
    assert (c.runs, c.prediction_first) == (2, 1)  # the first run's b is +25% off its first real run
    # Against each job's mean: run 1 a 23/20 +15%, b 25/21.33 +17.2%; run 2 a 19/22 -13.6%, b 21/20 +5%.
    assert c.prediction_vs_mean == 2
    # The floor, each real run against the mean of its job's other two: in run 1 all three hold (b's 20 against
    # 22.0 is +10%, its 23 against 20.5 -10.9%); in run 2 a's 20s against 23.0 hold (+15%), its 26 against 20.0
    # (-23.1%) does not.
    assert (c.floor_runs, c.floor_within) == (6, 5)
    assert pool_runs.criterion(runs, "idle") is None
    table = pool_runs.criterion_table(runs)
    assert "| busy | 2 | 1/2 (50%) | 2/2 (100%) | 5/6 (83%) |" in table
