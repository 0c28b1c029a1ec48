"""The answer a user reads, through the CLI (typer's CliRunner) on a real profile of examples/tabular_mlp.py:
one meaning of time (start-up + job), the verdict first, rows grouped by hardware, the CPU-vs-GPU verdict,
skipped offers explained, and the CI contract (status, violations, markdown, diff)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from cli_helpers import run
from typer.testing import CliRunner

from advisor.cli.answer import md_text
from advisor.cli.app import build_app
from advisor.units import format_duration, format_duration_flag, format_usd

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
BASE = ["recommend", "--profile", str(PROFILE), "--no-save"]


def as_json(result) -> dict:
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def rec(tmp_path_factory) -> dict:
    """One `recommend --json --top 1000` (every candidate listed), shared by the tests that only read it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path_factory.mktemp('db') / 'h.db'}")
        mp.delenv("ADVISOR_STARTUP_SECONDS_CPU", raising=False)
        mp.delenv("ADVISOR_STARTUP_SECONDS_GPU", raising=False)
        return as_json(run(build_app(), *BASE, "--json", "--top", "1000"))


# ------------------------------------------------------------------------------------ one time throughout


def test_every_time_is_start_up_plus_job(rec):
    assert (rec["startup_seconds_cpu"], rec["startup_seconds_gpu"]) == (120, 300)
    for c in rec["candidates"]:
        assert c["total_seconds"] == pytest.approx(c["seconds"] + c["startup_seconds"])
        assert c["startup_seconds"] == (120 if c["tier"] == "cpu" else 300)
        assert c["total_low"] <= c["total_seconds"] <= c["total_high"]
    chosen = rec["chosen"]
    assert rec["verdict"]["recommendation"] == (
        f"Rent {chosen['provider']} {chosen['instance_type']} (2 vCPU, {chosen['region']}): "
        f"{format_duration(chosen['total_seconds'])} total ({format_duration(chosen['seconds'])} job + 2m00s "
        f"start-up), {format_usd(chosen['cost_usd'])}")


def test_the_table_shows_the_totals_the_verdict_uses(app, rec):
    text = run(app, *BASE).output
    chosen = rec["chosen"]
    row = next(line for line in text.splitlines() if "1➜" in line)
    assert format_duration(chosen["total_seconds"]) in row and format_duration(chosen["seconds"]) in row
    assert "total time (80%)" in text and "job" in text


def test_start_up_flags_override_the_settings_and_are_shown(app, monkeypatch):
    monkeypatch.setenv("ADVISOR_STARTUP_SECONDS_GPU", "600")
    data = as_json(run(app, *BASE, "--json", "--startup-cpu", "1m", "--startup-gpu", "60"))
    assert (data["startup_seconds_cpu"], data["startup_seconds_gpu"]) == (60, 60)
    assert all(c["startup_seconds"] == 60 for c in data["candidates"])
    assert "start-up 1m00s on CPU instances, 1m00s on GPU instances" in data["verdict"]["assumptions"]
    text = run(app, *BASE, "--quiet").output  # the environment's 10 minutes, shown where the user reads
    assert "Assumed: start-up 2m00s on CPU instances, 10m00s on GPU instances" in text.replace("\n", " ")
    bad = run(app, *BASE, "--startup-gpu", "soon")
    assert bad.exit_code == 1 and "--startup-gpu 'soon'" in bad.output and "Fix:" in bad.output


def test_objective_time_takes_the_cheaper_of_near_ties(app):
    data = as_json(run(app, *BASE, "--json", "--objective", "time", "--top", "1000"))
    cands = data["candidates"]
    fastest = min(c["total_seconds"] for c in cands)
    ties = [c for c in cands if c["total_seconds"] <= fastest * 1.02]
    assert data["chosen"]["cost_usd"] == pytest.approx(min(c["cost_usd"] for c in ties))
    assert data["chosen"]["total_seconds"] <= fastest * 1.02
    if data["chosen"]["total_seconds"] > fastest:
        assert "a near-tie (within 2%)" in data["chosen"]["reason"]


def test_a_deadline_is_checked_against_the_total(app):
    result = run(app, *BASE, "--json", "--deadline", "5s", "--top", "1000")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    fastest = min(c["total_seconds"] for c in data["candidates"])
    assert data["status"] == "infeasible" and data["chosen"] is None
    (v,) = data["violations"]
    assert (v["constraint"], v["limit"]) == ("deadline", 5)
    # would_pass lets the named one pass: the cheapest within 2% of the fastest (a near-tie)
    assert v["nearest"] == pytest.approx(fastest)
    assert math.ceil(fastest / 60) * 60 <= v["would_pass"] <= math.ceil(fastest * 1.02 / 60) * 60
    assert v["flag"] == f"--deadline {format_duration_flag(v['would_pass'])}"
    assert any("leaves little or no time after start-up" in w for w in data["verdict"]["warnings"])
    for c in data["candidates"][:3]:
        assert f"takes {format_duration(c['total_seconds'])} with start-up" in c["reason"]
    assert f"({v['flag']} would do)" in result.stderr


def test_a_budget_that_nothing_meets_says_which_would(app):
    result = run(app, *BASE, "--json", "--budget", "0.001", "--top", "1000")
    data = json.loads(result.stdout)
    assert result.exit_code == 3 and data["status"] == "infeasible"
    (v,) = data["violations"]
    cheapest = min(c["cost_usd"] for c in data["candidates"])
    # rounded up as the cost is written (two significant digits below a dollar), not to whole cents
    would = float(v["flag"].removeprefix("--budget "))
    assert v["constraint"] == "budget" and cheapest <= would == v["would_pass"] <= cheapest * 1.1 + 0.01 * (
        cheapest >= 1)


# ------------------------------------------------------------------------------------ the verdict first


def test_the_verdict_comes_before_the_table(app, rec):
    text = run(app, *BASE).output
    order = [text.index(label) for label in ("Recommendation: Rent", "Why:", "Best value:", "CPU vs GPU:",
                                             "Assumed:", "Top 10 of")]
    assert order == sorted(order)
    assert text.index("Recommendation:") < text.index("┃ #")
    assert rec["chosen"]["instance_type"] in text.splitlines()[1]  # the second line names the machine


def test_best_value_and_cpu_vs_gpu_in_the_json(rec):
    bv = rec["best_value"]
    chosen = rec["chosen"]
    assert bv["candidate"]["pareto"] and bv["candidate"]["total_seconds"] < chosen["total_seconds"]
    assert bv["extra_cost_usd"] == pytest.approx(bv["candidate"]["cost_usd"] - chosen["cost_usd"])
    assert bv["seconds_saved"] == pytest.approx(chosen["total_seconds"] - bv["candidate"]["total_seconds"])
    assert rec["verdict"]["best_value"] == bv["text"] and "sooner on" in bv["text"]
    v = rec["verdict"]["cpu_vs_gpu"]
    assert v["cpu"]["tier"] == "cpu" and v["gpu"]["tier"] != "cpu"
    assert v["price_ratio"] == pytest.approx(v["gpu"]["price_usd_per_hour"] / v["cpu"]["price_usd_per_hour"])
    assert v["speedup"] == pytest.approx(v["cpu"]["seconds"] / v["gpu"]["seconds"])
    assert v["compute_cost_ratio"] == pytest.approx(v["price_ratio"] / v["speedup"])
    assert v["total_cost_ratio"] == pytest.approx(v["gpu"]["cost_usd"] / v["cpu"]["cost_usd"])
    # The tabular job: the GPU is cheaper on the job alone, dearer once its start-up is paid.
    assert v["winner"] == "cpu" and v["compute_cost_ratio"] < 1 < v["total_cost_ratio"] and v["decided_by_startup"]
    assert "Start-up decides the tier" in v["text"] and "a GPU wins for jobs over" in v["text"]
    # At the break-even length the two whole runs cost the same: the instances' start-up and each job's own
    # fixed part (process, CUDA, model build) as fixed costs, the rest growing with the epochs at linear rates.
    t = v["break_even_job_seconds"]
    rate_c, rate_g = v["cpu"]["price_usd_per_hour"] / 3600, v["gpu"]["price_usd_per_hour"] / 3600
    own_c, own_g = v["cpu"]["job_startup_seconds"], v["gpu"]["job_startup_seconds"]
    assert own_g > own_c > 0  # CUDA's start is in the GPU's
    per_epoch_c = (v["cpu"]["seconds"] - own_c) / rec["epochs"]
    per_epoch_g = (v["gpu"]["seconds"] - own_g) / rec["epochs"]
    epochs = v["break_even_epochs"]
    assert t == pytest.approx(own_c + epochs * per_epoch_c)
    assert rate_c * (120 + t) == pytest.approx(rate_g * (300 + own_g + epochs * per_epoch_g))


def test_a_best_value_over_the_budget_at_its_slow_end_is_marked_at_risk(app):
    """The best value was shown without the warning the choice gets where its slow end breaks the budget: a
    user who switched to it was not told. The tabular job's best value, m7a.large, costs $0.0049 and $0.0055 at
    the slow end of its estimate."""
    got = as_json(run(app, *BASE, "--json", "--budget", "0.005"))
    bv = got["best_value"]
    assert got["status"] == "ok" and bv["candidate"]["instance_type"] == "m7a.large" and bv["at_risk"]
    assert "; at risk: at the slow end of its estimate it costs $0.0055, over the $0.0050 budget; " in bv["text"]
    text = run(app, *BASE, "-q", "--budget", "0.005").output
    assert "Best value: (at risk) +$" in " ".join(text.split())
    assert not as_json(run(app, *BASE, "--json", "--budget", "0.006"))["best_value"]["at_risk"]


def test_an_at_risk_best_value_says_whether_a_safe_alternative_exists(app):
    """The at-risk best value named no alternative that holds at the slow end: here there is none (no faster
    candidate that holds there is worth its extra cost), and the text and JSON say so."""
    got = as_json(run(app, *BASE, "--json", "--budget", "0.005"))
    bv = got["best_value"]
    assert bv["at_risk"] and bv["safe_alternative"] is None
    assert bv["text"].endswith("over the $0.0050 budget; no faster alternative worth the extra cost is safe at the "
                               "slow end of its estimate")
    text = " ".join(run(app, *BASE, "-q", "--budget", "0.005").output.split())
    assert "no faster alternative worth the extra cost is safe at the slow end of its estimate" in text
    assert as_json(run(app, *BASE, "--json", "--budget", "0.006"))["best_value"]["safe_alternative"] is None


def test_quiet_prints_only_the_verdict(app):
    text = run(app, *BASE, "--quiet").output
    assert "Recommendation: Rent" in text and "CPU vs GPU:" in text
    assert "┃" not in text and "prices as of" not in text


# ------------------------------------------------------------------------------------------- grouping


def test_rows_are_grouped_by_hardware(app, rec):
    groups = rec["groups"]
    assert sum(g["count"] for g in groups) == len(rec["candidates"])
    assert groups[0]["best"]["instance_type"] == rec["chosen"]["instance_type"]
    assert f"({len(groups)} kinds of machine)" in rec["chosen"]["reason"]
    for g in groups:
        assert g["best"]["tier"] == g["tier"]
        assert g["cost_usd_max"] >= g["best"]["cost_usd"] - 1e-12
    text = run(app, *BASE).output
    big = next(g for g in groups[:10] if g["count"] > 1)
    assert f"+{big['count'] - 1}, to {format_usd(big['cost_usd_max'])}" in text
    assert f"Top 10 of {len(groups)} kinds of machine" in text
    table_rows = [line for line in text.splitlines() if re.match(r"│ \d+", line)]
    assert len(table_rows) == 10


def test_by_provider_and_all(app, rec):
    text = run(app, *BASE, "--by", "provider").output
    rows = [line for line in text.splitlines() if re.match(r"│ \d+", line)]
    assert len(rows) == len(rec["best_per_provider"]) and "Best offer of each of" in text
    for provider, c in rec["best_per_provider"].items():
        assert any(provider in r and c["instance_type"] in r for r in rows), provider
    # --top applies to it as to the default table, in the text and the JSON alike (the text listed every provider)
    n = len(rec["best_per_provider"])
    top = run(app, *BASE, "--by", "provider", "--top", "2").output
    rows = [line for line in top.splitlines() if re.match(r"│ \d+", line)]
    assert len(rows) == 2 and f"Best offer of each of the top 2 of {n} providers" in top
    assert f"--top {n} for every provider" in " ".join(top.split())
    got = as_json(run(app, *BASE, "--by", "provider", "--top", "2", "--json"))
    assert [(c["provider"], c["instance_type"]) for c in got["candidates"]] == [
        (p, c["instance_type"]) for p, c in list(rec["best_per_provider"].items())[:2]]
    assert all(p in r and c["instance_type"] in r for (p, c), r in zip(list(rec["best_per_provider"].items())[:2],
                                                                      rows, strict=True))
    assert len(got["best_per_provider"]) == n  # every provider's best, as before
    every = run(app, *BASE, "--all").output
    assert len([line for line in every.splitlines() if re.match(r"│ \d+", line)]) == len(rec["candidates"])
    bad = run(app, *BASE, "--by", "provder")
    assert bad.exit_code == 1 and "Did you mean 'provider'" in bad.output


def test_marketplace_offers_are_marked(app, rec):
    vast = [c for c in rec["candidates"] if c["provider"] == "vast"]
    assert vast and all(c["marketplace"] for c in vast)
    assert not any(c["marketplace"] for c in rec["candidates"] if c["provider"] in ("aws", "gcp"))
    text = run(app, *BASE, "--all").output
    assert "vast†" in text and "† marketplace listing" in text


# ---------------------------------------------------------------------------------------------- skipped


def test_skipped_offers_say_why_and_how_to_fix(app):
    args = [*BASE, "--batch-size", "4", "--dataset-size", "2000", "--epochs", "1"]
    data = as_json(run(app, *args, "--json"))
    eight = next(s for s in data["skipped"] if "cannot be split over 8 GPUs" in s["reason"])
    assert "8 x A100-80GB" in eight["target"] and eight["count"] >= 10
    assert eight["fix"] == "Fix: a --batch-size of 8 or more, or at most 4 GPUs (predict's --gpus)."
    assert sum(s["count"] for s in data["skipped"]) + len(data["candidates"]) + len(data["excluded"]) > 0
    short = run(app, *args).output
    assert f"{sum(s['count'] for s in data['skipped'])} offers skipped" in short and "--show-skipped" in short
    full = run(app, *args, "--show-skipped").output.replace("\n", " ")
    assert "offers skipped: no estimate" in full and "cannot be split over 8 GPUs" in full
    md = run(app, *args, "--format", "markdown").stdout
    assert f"- {sum(s['count'] for s in data['skipped'])} offers skipped, no estimate" in md
    md = run(app, *args, "--format", "markdown", "--show-skipped").stdout
    row = next(line for line in md.splitlines() if "cannot be split over 8 GPUs" in line)
    assert row.startswith("| ") and row.endswith("| Fix: a --batch-size of 8 or more, or at most 4 GPUs (predict's "
                                                  "--gpus). |")
    assert "offers skipped, no estimate" not in md  # the table replaces the one-line summary


# -------------------------------------------------------------------------------------------------- CI


def test_under_spot_the_similar_column_says_its_cost_is_a_spot_one(app):
    spot = run(app, *BASE, "--spot").stdout
    assert ", to $" in spot and "similar: to the dearest one's spot cost where it has one" in " ".join(spot.split())
    assert "dearest one's spot cost" not in " ".join(run(app, *BASE).stdout.split())


def test_a_spot_choice_from_the_cheapest_zones_price_says_so_in_text_and_json(app):
    """gcp's CPU spot prices in the catalog are the minimum over us-central1's zones."""
    got = as_json(run(app, *BASE, "--spot", "--json"))
    assert got["chosen"]["provider"] == "gcp" and got["chosen"]["interruptible"]
    assert any("is the lowest across us-central1's availability zones" in w for w in got["verdict"]["warnings"])
    # The listed rows are the groups' bests (aws m7a.large among them), as the table shows them.
    assert any("(gcp us-central1, aws us-east-1) are the lowest across the region's availability zones" in n
               for n in got["notes"])
    text = " ".join(run(app, *BASE, "--spot").stdout.split())
    assert "the zone the instance is given may charge more" in text


def test_by_provider_and_all_print_the_notes_on_their_own_rows_as_the_json_has_them(app):
    """``--by provider`` and ``--all`` printed the grouped table's notes: "the spot prices of 5 listed rows" under
    a table of 7 providers' bests, and no word of the e2e row billed as a whole hour that those tables list."""
    got = as_json(run(app, *BASE, "--spot", "--top", "5", "--json"))
    e2e = "e2e bills whole hours: the listed A100-80GB-x1's"
    assert not any(n.startswith(e2e) for n in got["notes"] + got["row_notes"]["hardware"])
    for flags, view in (((), "hardware"), (("--by", "provider"), "provider"), (("--all",), "all")):
        text = " ".join(run(app, *BASE, "--spot", "--top", "5", *flags).stdout.split())
        mine, others = got["row_notes"][view], [n for v, ns in got["row_notes"].items() if v != view for n in ns]
        assert mine and all(f"note: {n}" in text for n in mine), (view, mine)
        assert not any(f"note: {n}" in text for n in others if n not in mine), view
        zone = next(n for n in mine if n.startswith("the spot prices of "))
        shown = {"hardware": 5, "provider": 2}.get(view)  # the top 5 kinds are all aws and gcp CPUs
        if shown is not None:
            assert zone.startswith(f"the spot prices of {shown} listed rows (gcp us-central1, aws us-east-1)")
    # e2e, the last of 7 providers, is not among the first 5 --by provider lists; with --top 7 it is, with its note
    assert not any(n.startswith(e2e) for n in got["row_notes"]["provider"])
    seven = as_json(run(app, *BASE, "--spot", "--top", "7", "--json"))
    assert any(n.startswith(e2e) for n in seven["row_notes"]["provider"])
    md = run(app, *BASE, "--spot", "--top", "7", "--by", "provider", "--format", "markdown").stdout
    assert all(md_text(n) in md for n in seven["row_notes"]["provider"])


def test_without_spot_the_spot_column_says_it_is_interruptible_and_the_cheapest_zones(app, rec):
    """Without --spot the spot column showed gcp's cheapest-zone spot prices beside the on-demand costs with no
    word that they are a zone minimum, or for an instance that can be taken back."""
    gcp = [c for c in rec["candidates"] if c["provider"] == "gcp" and c["spot_cost_usd"] is not None]
    assert any(c["spot_zone_min"] for c in gcp) and not any(c["interruptible"] for c in rec["candidates"])
    assert not any(c["spot_zone_min"] for c in rec["candidates"] if c["spot_cost_usd"] is None)
    (note,) = [n for n in rec["notes"] if n.startswith("spot column: ")]
    assert note.startswith("spot column: interruptible (can be taken back at any time), not ranked on (--spot "
                           "ranks on it); ") and "gcp" in note and note.endswith(
        "spot prices are the cheapest availability zone's (the zone you are given may charge more)")
    assert f"note: {note}" in " ".join(run(app, *BASE).stdout.split())
    assert not any(n.startswith("spot column") for n in as_json(run(app, *BASE, "--spot", "--json"))["notes"])


def test_markdown_for_a_pull_request_comment(app, rec, tmp_path):
    result = run(app, *BASE, "--format", "markdown")
    assert result.exit_code == 0
    md = result.stdout
    assert md.startswith("### advisor: tabular\\_mlp: 10 epochs")
    assert "**Status:** ok" in md and "- **Recommendation:** Rent" in md and "- **CPU vs GPU:**" in md
    assert ("| # | provider | instance | hardware | total time (80%) | job | cost | spot | similar "
            "| vs the choice |") in md
    assert "┃" not in md and "[bold" not in md
    # what the text output says under its table, the markdown says too: each line, escaped for markdown
    text = run(app, *BASE).stdout
    footer = text[text.index("note: times are totals"):].strip().splitlines()
    assert len(footer) >= 3 and any(line.startswith("prices as of: ") for line in footer)
    flat = " ".join(md.split())  # the terminal wraps a long note; the markdown keeps it on one line
    for line in footer:
        assert md_text(line.strip()) in flat
        assert not line.startswith("note: ") or f"- {md_text(line)}" in md
    # user text is escaped: a workload named like markdown and HTML prints as typed
    data = json.loads(PROFILE.read_text())
    data["workload"]["name"] = "**x** <img src=y> |a|"
    evil = tmp_path / "evil.json"
    evil.write_text(json.dumps(data))
    md = run(app, "recommend", "--profile", evil, "--no-save", "--format", "markdown", "--quiet").stdout
    assert "\\*\\*x\\*\\* &lt;img src=y&gt; \\|a\\|" in md and "<img" not in md


def test_diff_says_how_the_job_steps_changed(app, tmp_path):
    """--compile and --grad-accum-steps move the GPU rows: recommend --json records them, and diff says so."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(run(app, *BASE, "--json", "--grad-accum-steps", "8", "--compile").stdout)
    new.write_text(run(app, *BASE, "--json", "--grad-accum-steps", "1", "--no-compile").stdout)
    a = json.loads(old.read_text())
    assert (a["compiled"], a["grad_accum_steps"], a["eval_every"], a["eval_steps"]) == (True, 8, None, 0)
    notes = as_json(run(app, "diff", old, new, "--json"))["notes"]
    assert "how the job steps changed: compile True -> False; grad-accum-steps 8 -> 1" in notes


def test_diff_refuses_a_newer_schema_and_figures_that_are_not_times_or_costs(app, rec, tmp_path):
    """A recommendation from a newer advisor, or with NaN, infinite or negative figures, is refused (exit 1, one
    message) rather than diffed: a NaN would reach diff --json as a bare NaN token, which is not JSON."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(rec))

    def refused(edit, name):
        data = json.loads(json.dumps(rec))
        edit(data)
        bad = tmp_path / name
        bad.write_text(json.dumps(data))  # json.dumps writes NaN and Infinity as bare tokens
        result = run(app, "diff", good, bad, "--json")
        # --json: the error as a JSON object on stdout (never a bare NaN), its message on stderr too
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert json.loads(result.stdout)["error"]["type"] == "ConfigError"
        return " ".join(result.output.split())

    assert "schema version 2 is newer than this advisor understands (1)" in refused(
        lambda d: d.update(schema_version=2), "v2.json")
    assert "schema_version" in refused(lambda d: d.update(schema_version=0), "v0.json")
    assert "it holds NaN" in refused(lambda d: d["chosen"].update(cost_usd=float("nan")), "nan.json")
    assert "it holds Infinity" in refused(lambda d: d["chosen"].update(seconds=float("inf")), "inf.json")
    assert "chosen.total_seconds is -5, a time or cost below zero" in refused(
        lambda d: d["chosen"].update(total_seconds=-5), "neg.json")
    assert "candidates.0.cost_usd is -1.0" in refused(lambda d: d["candidates"][0].update(cost_usd=-1.0), "c.json")
    big = tmp_path / "big.json"
    text = json.dumps(rec).replace(f'"cost_usd": {json.dumps(rec["chosen"]["cost_usd"])}', '"cost_usd": 1e999', 1)
    big.write_text(text)
    result = run(app, "diff", good, big)
    assert result.exit_code == 1 and "it holds 1e999" in " ".join(result.output.split())



@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "1e999", "-1"])
@pytest.mark.parametrize("field", ["cost_usd", "seconds"])
def test_diff_refuses_figures_written_as_text_that_are_not_times_or_costs(app, rec, tmp_path, field, text):
    """An audit: "NaN", "Infinity" or "-inf" written as a string passed json.loads's hooks, pydantic read it as a
    float, and diff printed "+nan%" (exit 0) and a bare NaN in its --json; "-1" passed the check for negatives."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(rec))
    data = json.loads(json.dumps(rec))
    data["chosen"][field] = text
    bad.write_text(json.dumps(data))
    for args in ((good, bad), (bad, good), (good, bad, "--json")):
        result = run(app, "diff", *args)
        output = " ".join(result.output.split())
        assert result.exit_code == 1 and "Traceback" not in output, output
        assert output.count("error:") == 1 and f"is not a recommendation: chosen.{field} is" in output, output
        assert ("below zero" if text == "-1" else "which is not a number a time or cost can be") in output
        if "--json" in args:  # the error as strict JSON on stdout, never a bare NaN
            assert json.loads(result.stdout, parse_constant=pytest.fail)["error"]["type"] == "ConfigError"

def test_diff_of_two_runs(app, tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(run(app, *BASE, "--json").stdout)
    new.write_text(run(app, *BASE, "--json", "--startup-cpu", "30s", "--startup-gpu", "30s").stdout)
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    data = as_json(run(app, "diff", old, new, "--json"))
    chosen = data["rows"][0]
    assert chosen["label"] == "chosen"
    assert chosen["total_seconds_delta"] == pytest.approx(b["chosen"]["total_seconds"] - a["chosen"]["total_seconds"])
    assert chosen["cost_usd_delta"] == pytest.approx(b["chosen"]["cost_usd"] - a["chosen"]["cost_usd"])
    assert [r["label"] for r in data["rows"][1:]] == ["best CPU", "best 1 GPU", "best multi-GPU"]
    assert any("start-up" in n for n in data["notes"])
    (here,) = data["here"]  # the same probe: the machine's own time did not move with the instances' start-up
    assert here["device"] == "cpu" and here["old"] == a["here"][0] and here["total_seconds_delta"] == 0
    text = run(app, "diff", old, new).output
    assert "the choice" in text and "total time" in text and "here cpu" in text
    md = run(app, "diff", old, new, "--format", "markdown").stdout
    assert md.startswith("### advisor diff:") and "| chosen |" in md and "| here cpu |" in md
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    bad = run(app, "diff", junk, new)
    assert bad.exit_code == 1 and "junk.json is not JSON" in bad.output and "Traceback" not in bad.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"schema_version": 1}')
    bad = run(app, "diff", wrong, new)
    assert bad.exit_code == 1 and "is not a recommendation" in bad.output
    both = run(app, "diff", old, new, "--json", "--format", "markdown")
    assert both.exit_code == 1 and json.loads(both.stdout)["error"]["type"] == "ConfigError"
    assert "--json and --format markdown ask for two different outputs" in both.output


# ------------------------------------------------------------------------------------------ CLI basics


def test_version_short_help_completion_and_choices(app):
    from advisor import __version__

    version = run(app, "--version")
    assert version.exit_code == 0 and version.output.strip() == f"advisor {__version__}"
    short = run(app, "recommend", "-h")
    assert short.exit_code == 0 and "--startup-gpu" in short.output
    for choices in ("[cost|time]", "[fp32|tf32|bf16|fp16|mixed]", "[text|json|markdown]", "[hardware|provider]"):
        assert choices in short.output, choices
    assert "--install-completion" in run(app, "-h").output
    assert "[fp32|tf32|bf16|fp16|mixed|all]" in run(app, "predict", "-h").output


def test_gpu_names_suggest_the_family():
    result = CliRunner().invoke(build_app(), ["predict", "--profile", str(PROFILE), "--gpu", "H10", "--no-save"])
    assert result.exit_code == 1 and "Did you mean 'H100'" in result.output


def test_pricing_list_writes_money_one_way(app):
    text = run(app, "pricing", "list", "--provider", "aws", "--gpu", "none").output
    rates = re.findall(r"│\s+(\$[\d.,]+)\s+│", text)
    assert rates and all(re.fullmatch(r"\$\d[\d,]*\.\d{2,4}", r) for r in rates), rates[:5]


def test_prices_as_of_names_only_the_providers_in_play(app):
    """`--providers e2e` still ended with every provider's date (aws, azure, gcp, lambda, vast ...)."""
    data = as_json(run(app, *BASE, "--providers", "e2e,gcp", "--json"))
    assert set(data["pricing_snapshot"]["dates"]) == {"e2e", "gcp"}
    assert set(data["pricing_snapshot"]["sources"]) == {"e2e", "gcp"}
    text = run(app, *BASE, "--providers", "e2e,gcp").stdout
    (line,) = [x for x in text.splitlines() if x.startswith("prices as of: ")]
    assert "aws" not in line and "vast" not in line and "e2e" in line and "gcp" in line


def test_one_skipped_offer_is_one_offer():
    # "1 offers skipped, no estimate" was printed where one offer had no estimate
    from types import SimpleNamespace

    from advisor.cli.answer import _offers

    assert _offers([SimpleNamespace(count=1)]) == "1 offer"
    assert _offers([SimpleNamespace(count=1), SimpleNamespace(count=2)]) == "3 offers"
