"""Outcomes through the CLI (durations, the 20x guard, --force, forget, saved predictions in the list,
``advisor.track``'s warning) and ``predict --gpus 1,2,4,8 --precision all``, on a real profile of
examples/tabular_mlp.py and the test's own SQLite history."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from cli_helpers import run

import advisor
from advisor.units import format_step

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"


@pytest.fixture
def saved(app) -> dict:
    """A recommendation stored in this test's history (the conftest points ADVISOR_DATABASE_URL at tmp)."""
    result = run(app, "recommend", "--profile", PROFILE, "--json", "--top", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data["id"], int)
    return data


def test_record_takes_durations_and_guards_against_outliers(app, saved):
    rec_id, predicted = saved["id"], saved["chosen"]["seconds"]  # the job alone: what a tracked run measures
    assert 30 < predicted < 90  # 51 s on the 2-vCPU choice
    ok = run(app, "history", "record", rec_id, "--actual-seconds", "1m05")
    assert ok.exit_code == 0, ok.output
    assert "Recorded 1m05s (65 s)" in ok.output
    refused = run(app, "history", "record", rec_id, "--actual-seconds", "30m")  # 1800 s: 35x the prediction
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "Not recorded: 30m00s is 35x longer than the predicted" in refused.output.replace("\n", " ")
    assert "add --force" in refused.output
    forced = run(app, "history", "record", rec_id, "--actual-seconds", "30m", "--force", "--json")
    assert forced.exit_code == 0 and json.loads(forced.stdout)["actual_seconds"] == 1800
    shown = json.loads(run(app, "history", "show", rec_id, "--json").stdout)
    assert [o["actual_seconds"] for o in shown["outcomes"]] == [65, 1800]
    assert shown["recommendation"]["verdict"]["recommendation"] == saved["verdict"]["recommendation"]
    assert shown["recommendation"]["status"] == "ok"
    bad = run(app, "history", "record", rec_id, "--actual-seconds", "soon")
    # "soon" is not a duration at all: it was told "must be a positive duration", as if it had been read
    assert bad.exit_code == 1 and "Cannot read --actual-seconds 'soon' as a duration." in bad.output
    negative = run(app, "history", "record", rec_id, "--actual-seconds", "-1h")
    assert negative.exit_code == 1 and "--actual-seconds must be a positive duration, got '-1h'." in negative.output


def test_record_of_the_same_outcome_again_is_refused_and_counts_once(app, saved):
    """`record 1 --actual-seconds "2m 43s"` then `record 1 --actual-seconds 163` (a retried CI step) stored two
    outcomes without a word, and both counted in compare and the correction. The second is refused now."""
    rec_id = saved["id"]
    assert run(app, "history", "record", rec_id, "--actual-seconds", "2m 43s").exit_code == 0
    again = run(app, "history", "record", rec_id, "--actual-seconds", "163", "--json")
    assert again.exit_code == 1 and "Traceback" not in again.output
    error = json.loads(again.stdout)["error"]
    assert error["type"] == "HistoryError"
    assert error["message"].startswith(f"Not recorded: recommendation {rec_id} already has this outcome, 2m43s on "
                                       f"{saved['chosen']['instance_type']} (outcome ")
    assert "add --force" in error["hint"] and f"`advisor history show {rec_id}` lists its outcomes" in error["hint"]
    assert json.loads(run(app, "history", "compare", "--json").stdout)["n_runs"] == 1
    assert json.loads(run(app, "history", "calibration", "--json").stdout)["n_runs"] == 1
    assert run(app, "history", "record", rec_id, "--actual-seconds", "163", "--force").exit_code == 0
    assert json.loads(run(app, "history", "compare", "--json").stdout)["n_runs"] == 2


def test_forget_removes_outcomes(app, saved):
    rec_id = saved["id"]
    for seconds in ("50", "55"):
        assert run(app, "history", "record", rec_id, "--actual-seconds", seconds).exit_code == 0
    outcomes = json.loads(run(app, "history", "show", rec_id, "--json").stdout)["outcomes"]
    one = run(app, "history", "forget", rec_id, "--outcome", outcomes[0]["id"], "--json")
    assert one.exit_code == 0 and json.loads(one.stdout)["forgotten_outcomes"] == 1
    rest = run(app, "history", "forget", rec_id)
    assert rest.exit_code == 0 and f"Forgot 1 outcome of history id {rec_id}." in rest.output
    assert json.loads(run(app, "history", "show", rec_id, "--json").stdout)["outcomes"] == []
    again = run(app, "history", "forget", rec_id)
    assert again.exit_code == 1 and "no outcomes for recommendation" in again.output
    missing = run(app, "history", "forget", "999")
    assert missing.exit_code == 1 and "No recommendation 999 in history." in missing.output
    assert json.loads(run(app, "history", "list", "--json").stdout)["entries"][0]["id"] == rec_id  # still listed


def test_track_warns_about_an_outlier(saved):
    import advisor

    with pytest.warns(RuntimeWarning, match="advisor history forget"):
        with advisor.track(saved["id"]) as tracked:
            time.sleep(0.01)  # a "job" of 10 ms against a 51 s prediction
    assert tracked.outcome is not None and tracked.outcome.actual_seconds < 1  # stored, not refused


def test_the_outlier_rule():
    from advisor.history.outcomes import outlier

    assert outlier(60, 51) is None and outlier(51 * 20, 51) is None and outlier(51 / 20, 51) is None
    assert outlier(51 * 21, 51) == "17m51s is 21x longer than the predicted 51.0s (the job alone)"
    # the case: a 0.2 s block stored against a 4h38m prediction
    assert outlier(0.2, 4 * 3600 + 38 * 60) == "0.2s is 83,400x shorter than the predicted 4h38m (the job alone)"
    assert outlier(10, None) is None


def test_saved_predictions_appear_in_history_list(app):
    result = run(app, "predict", "--profile", PROFILE, "--gpu", "A100-80GB", "--gpus", "2", "--json")
    assert result.exit_code == 0, result.output
    seconds = json.loads(result.stdout)["seconds"]
    assert run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--no-save").exit_code == 0
    listed = json.loads(run(app, "history", "list", "--json").stdout)
    assert listed["entries"] == []
    (pred,) = listed["predictions"]
    assert (pred["target"], pred["workload"], pred["seconds"]) == ("2 x A100-80GB", "tabular_mlp", seconds)
    text = run(app, "history", "list").output
    assert "p1" in text and "2 x A100-80GB" in text and "Predictions (1, newest first" in text


def test_predict_grid_of_gpu_counts_and_precisions(app):
    args = ["predict", "--profile", PROFILE, "--gpu", "A100-80GB", "--gpus", "1,2,4,8", "--precision", "all",
            "--dataset-size", "100000", "--epochs", "2", "--batch-size", "256", "--no-save"]
    data = json.loads(run(app, *args, "--json").stdout)
    rows = data["rows"]
    assert [(r["count"], r["precision"]) for r in rows] == [(k, p) for k in (1, 2, 4, 8)
                                                            for p in ("fp32", "tf32", "bf16", "fp16")]
    assert data["startup_seconds"] == 300 and data["gpu"] == "A100-80GB"
    offers = json.loads(run(app, "pricing", "list", "--gpu", "A100-80GB", "--json").stdout)["offers"]
    for r in rows:
        est = r["estimate"]
        assert est["target"] == {"kind": "gpu", "gpu": "A100-80GB", "count": r["count"]}
        assert (est["scaling_efficiency"] is None) == (r["count"] == 1)
        if r["count"] > 1:
            assert 0 < est["scaling_efficiency"] <= 1
        same = [o["price_usd_per_hour"] for o in offers if o["gpu"] == "A100-80GB" and o["gpu_count"] == r["count"]]
        assert r["price_usd_per_hour"] == (min(same) if same else None)
        if same:  # billed start-up + job at that rate (at least the unrounded figure)
            assert r["cost_usd"] >= min(same) * (300 + est["seconds"]) / 3600 - 1e-9
        # The job's time on one GPU over this row's: what "scaling efficiency" (compute over the K-GPU step) is not
        [one] = [o for o in rows if o["count"] == 1 and o["precision"] == r["precision"]]
        assert r["speedup_vs_one_gpu"] == pytest.approx(one["estimate"]["seconds"] / est["seconds"], rel=1e-12)
    text = run(app, *args).output
    assert "scaling efficiency" in text and "cheapest offer" in text and "5m00s start-up + job" in text
    assert re.search(r"\d(\.\d)?x (faster|slower)", text), text  # the speed-up column (its header may fold)
    no_gpu = run(app, "predict", "--profile", PROFILE, "--gpus", "1,2", "--no-save")
    assert no_gpu.exit_code == 1 and "needs a GPU model" in no_gpu.output
    bad = run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--gpus", "1,x")
    assert bad.exit_code == 1 and "--gpus '1,x'" in bad.output


def test_a_grid_rows_cost_is_the_named_offers_as_recommend_prices_it(app):
    """The cost column named a real offer but billed the row's time, which assumed the card's own link and 16
    vCPUs a GPU: 4 x A10G on aws g5.12xlarge (no peer-to-peer) costs what recommend says that offer costs."""
    job = ["--dataset-size", "300000", "--epochs", "1", "--batch-size", "512"]
    grid = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "A10G", "--gpus", "1,4", *job, "--no-save",
                          "--json").stdout)
    rec = json.loads(run(app, "recommend", "--profile", PROFILE, *job, "--top", "1000", "--no-save", "--format",
                         "json").stdout)
    candidates = {f"{c['provider']} {c['instance_type']} ({c['region']})": c for c in rec["candidates"]}
    differs = 0
    for r in grid["rows"]:
        c = candidates[r["offer"]]
        seconds = r["offer_seconds"] if r["offer_seconds"] is not None else r["estimate"]["seconds"]
        assert seconds == pytest.approx(c["seconds"], rel=0.006)
        assert r["cost_usd"] == pytest.approx(c["cost_usd"], rel=0.006)
        differs += r["offer_seconds"] is not None
    assert differs  # the 4-GPU offer has no peer-to-peer: its time is not the row's
    assert any(n.startswith("The cost is the named offer's for the job on its own host") for n in grid["notes"])


def test_more_gpus_than_one_machine_holds_are_timed_over_the_network_and_priced_only_by_a_row_that_holds_them(
        app, tmp_path, monkeypatch):
    """16 x H100-SXM are two 8-GPU machines: timed with the all-reduce over the network, and not priced from the
    built-in catalog (no machine holds 16). A rates row of the user's own that holds all 16 is priced at its rate,
    where the note beside that cost said "no single offer holds them, so none is priced"."""
    grid = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "H100-SXM", "--gpus", "8,16", "--no-save",
                          "--json").stdout)
    sixteen = next(r for r in grid["rows"] if r["count"] == 16)
    assert sixteen["cost_usd"] is None and sixteen["offer"] is None
    rows = tmp_path / "cluster.csv"
    rows.write_text("provider,instance_type,region,gpu_model,gpu_count,price_hour_usd\nlab,h100x16,lab,H100-SXM,16,20\n")
    monkeypatch.setenv("ADVISOR_PRICING", str(rows))
    grid = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "H100-SXM", "--gpus", "8,16", "--no-save",
                          "--json").stdout)
    row = next(r for r in grid["rows"] if r["count"] == 16)
    assert row["offer"] == "lab h100x16 (lab)" and row["price_usd_per_hour"] == 20
    (note,) = [n for n in row["estimate"]["notes"] if "more than one machine holds" in n]
    assert "timed as 2 machines of 8" in note and "none is priced" not in note
    assert note.endswith("a rates row of your own (--pricing or ADVISOR_PRICING) that holds all 16 is priced at "
                         "that row's rate.")


def test_a_grid_whose_gpus_take_longer_than_one_says_so(app):
    """The tabular MLP's small step on A10Gs: 4 GPUs read "42%" scaling efficiency beside a job 1.7x longer than
    one GPU's, with nothing to say it was slower; the speed-up column and a note now do."""
    res = run(app, "predict", "--profile", PROFILE, "--gpu", "A10G", "--gpus", "1,4", "--no-save", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    four = [r for r in data["rows"] if r["count"] == 4][0]
    assert four["speedup_vs_one_gpu"] < 1
    assert any(n.startswith("4 x A10G (fp32) take longer than one GPU") for n in data["notes"]), data["notes"]
    text = run(app, "predict", "--profile", PROFILE, "--gpu", "A10G", "--gpus", "1,4", "--no-save").output
    assert re.search(r"\dx slower", text) and "take longer than one GPU" in text
    # --precision all: each count once, its precisions in the table's order (it was "4 x A10G (bf16), 4 x A10G
    # (fp16), 4 x A10G (fp32), ...", the count said again for each)
    every = run(app, "predict", "--profile", PROFILE, "--gpu", "A10G", "--gpus", "1,4", "--precision", "fp32,bf16",
                "--no-save", "--json")
    assert every.exit_code == 0, every.output
    assert any(n.startswith("4 x A10G (fp32, bf16) take longer than one GPU")
               for n in json.loads(every.stdout)["notes"]), every.stdout


def test_a_grid_without_one_gpu_still_gives_the_speed_up_over_one(app):
    """`--gpus 2,4` had a "vs 1 GPU" column of dashes: one GPU's time is now predicted (not shown as a row, not
    saved) and each row's speed-up is against it, as `--gpus 1,2,4` gives it."""
    base = ["predict", "--profile", PROFILE, "--gpu", "A10G", "--no-save", "--json"]
    with_one = json.loads(run(app, *base, "--gpus", "1,2,4").stdout)
    without = json.loads(run(app, *base, "--gpus", "2,4").stdout)
    assert [r["count"] for r in without["rows"]] == [2, 4]
    expected = {r["count"]: r["speedup_vs_one_gpu"] for r in with_one["rows"]}
    for r in without["rows"]:
        assert r["speedup_vs_one_gpu"] == pytest.approx(expected[r["count"]], rel=1e-12)
    assert "vs 1 GPU: against one A10G, predicted the same way (not a row of this table)." in without["notes"]
    assert not any(n.startswith("vs 1 GPU") for n in with_one["notes"])
    # Nothing saved: not even the history file exists, which `history list` says (exit 1).
    assert "No history at" in run(app, "history", "list", "--json").output


def test_a_saved_prediction_says_its_id_and_history_show_shows_it(app):
    """`history list` labels saved predictions p1, p2 ...; `history show p1` failed on its argument (an int) and
    `predict` never said it had saved anything. Now it says so, and the id shows the estimate as predicted."""
    res = run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--json")
    assert res.exit_code == 0, res.output
    saved = json.loads(res.stdout)
    pid = saved["history_id"]
    assert isinstance(pid, int)
    text = run(app, "predict", "--profile", PROFILE, "--gpu", "T4").output
    assert re.search(r"saved as p\d+ in history \(`advisor history show p\d+`\)", text), text
    shown = run(app, "history", "show", f"p{pid}", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["prediction"]["id"] == pid and data["prediction"]["target"] == "1 x T4"
    assert data["estimate"]["seconds"] == saved["seconds"] and data["estimate"]["target"] == saved["target"]
    assert data["estimate"]["history_id"] == pid  # as predict --json said it, not the null stored before the id
    assert "Predicted job time on 1 x T4" in run(app, "history", "show", f"P{pid}").output
    assert json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--json", "--no-save").stdout)[
        "history_id"] is None
    for bad, words in (("p99999", "No saved prediction p99999"), ("x1", "'x1' is not a history id"),
                       ("p99999999999999999999", "No saved prediction p99999999999999999999")):
        res = run(app, "history", "show", bad)
        assert res.exit_code == 1 and words in res.output and "Traceback" not in res.output, res.output
    remote = run(app, "history", "show", f"p{pid}", "--server", "http://127.0.0.1:9")
    assert remote.exit_code == 1 and "listed, not shown one by one" in remote.output


def test_a_grid_row_that_does_not_fit_in_memory_has_no_cost(app):
    res = run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--gpus", "1,2", "--batch-size", "20000000",
              "--dataset-size", "20000000", "--epochs", "1", "--no-save", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert rows and all(not r["estimate"]["fits_memory"] for r in rows)
    assert all(r["cost_usd"] is None for r in rows) and rows[0]["price_usd_per_hour"] is not None


def test_a_plain_family_name_says_which_variant_it_priced_and_names_the_others(app):
    """--gpu A100 is A100-40GB (profiles/README.md); the answer says so and names the other A100s. A name that
    says which (A100-80GB) gets no such line."""
    plain = run(app, "predict", "--profile", PROFILE, "--gpu", "A100", "--no-save")
    assert plain.exit_code == 0, plain.output
    text = " ".join(plain.output.split())
    assert "read --gpu A100 as A100-40GB; the catalog also has A100-40GB-PCIe, A100-80GB, A100-80GB-PCIe" in text
    assert text.count("read --gpu A100 as") == 1
    # --json and the API say it too: in the estimate's notes.
    data = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "A100", "--no-save", "--json").stdout)
    assert data["target"]["gpu"] == "A100-40GB"
    assert "read --gpu A100 as A100-40GB; the catalog also has A100-40GB-PCIe, A100-80GB, A100-80GB-PCIe (name one " \
           "to price it)." in data["notes"]
    est = advisor.predict(PROFILE, dataset_size=1000, epochs=1, batch_size=16, target="A100")
    assert any(n.startswith("read --gpu A100 as A100-40GB") for n in est.notes)
    grid = run(app, "predict", "--profile", PROFILE, "--gpu", "v100", "--gpus", "1,2", "--no-save")
    assert grid.exit_code == 0, grid.output
    assert "note: read --gpu v100 as V100-16GB; the catalog also has V100-32GB, V100-PCIe-16GB, V100-PCIe-32GB" in (
        " ".join(grid.output.split()))
    named = run(app, "predict", "--profile", PROFILE, "--gpu", "A100-80GB", "--no-save")
    assert named.exit_code == 0 and "read --gpu" not in named.output
    single = run(app, "predict", "--profile", PROFILE, "--gpu", "L4", "--no-save")
    assert single.exit_code == 0 and "read --gpu" not in single.output


def test_tf32_on_a_gpu_without_it_is_fp32_and_the_grid_has_one_row_each(app):
    """A T4 has no TF32: "--precision tf32" read "tf32" with an MFU over a TF32 peak the sheet has not (it was
    the FP32 one), with no note; the grid printed bf16's fp16 row twice."""
    est = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--precision", "tf32", "--no-save",
                         "--json").stdout)
    assert (est["precision"], est["mfu_peak"]) == ("fp32", "fp32")
    assert any(n.startswith("T4 has no TF32 (it predates Ampere): predicted in fp32") for n in est["notes"])
    fp32 = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--no-save", "--json").stdout)
    assert est["seconds"] == pytest.approx(fp32["seconds"], rel=1e-9)
    grid = json.loads(run(app, "predict", "--profile", PROFILE, "--gpu", "T4", "--gpus", "1,2", "--precision", "all",
                          "--no-save", "--json").stdout)
    assert [(r["count"], r["precision"]) for r in grid["rows"]] == [(1, "fp32"), (1, "fp16"), (2, "fp32"),
                                                                    (2, "fp16")]
    assert "T4 runs bf16 as fp16 and tf32 as fp32: one row each." in grid["notes"]


def test_the_speed_up_column_says_a_small_difference_in_percent():
    """0.99 read "1x slower", which says the same speed and a slower one at once."""
    from advisor.cli.answer import _versus_one

    assert (_versus_one(2, 0.9899), _versus_one(2, 0.9692), _versus_one(2, 1.0)) == ("1% slower", "3% slower",
                                                                                     "the same")
    assert (_versus_one(2, 1.06), _versus_one(4, 3.51), _versus_one(8, 0.5), _versus_one(1, 1.0)) == (
        "6% faster", "3.5x faster", "2.0x slower", "-")


def test_predicts_step_row_calls_batch_seconds_making_and_copying_the_batch(app):
    """batch_seconds is make_batch's time plus the copy to the GPU (README: the part of the step spent making and
    copying the batch); the table called it "batch creation", two lines above a note giving make_batch's time alone,
    then "of it outside compute", which on 8 GPUs read as no communication beside a scaling efficiency of 79%."""
    profile = Path(__file__).resolve().parents[1] / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"
    data = json.loads(run(app, "predict", "--profile", profile, "--gpu", "H100", "--no-save", "--json").stdout)
    assert data["batch_seconds"] == pytest.approx(data["input_seconds"] + data["transfer_seconds"])
    res = run(app, "predict", "--profile", profile, "--gpu", "H100", "--no-save")
    assert res.exit_code == 0, res.output
    (row,) = [line for line in res.output.splitlines() if "│ step " in line]
    assert f"per micro-step ({format_step(data['batch_seconds'])} of it making and copying the batch)" in row, row
    assert "batch creation" not in row and "outside compute" not in row


def test_history_show_of_a_gpu_prediction_shows_its_start_up_as_predict_printed_it(app):
    """`history show pN` of a `predict --gpu` dropped the instance's start-up and the "with start-up" total
    (`--json`: `instance_startup_seconds` and `total_seconds`), for a short job most of the time paid for."""
    printed = run(app, "predict", "--profile", PROFILE, "--gpu", "A100-80GB", "--startup-gpu", "2m", "--json")
    assert printed.exit_code == 0, printed.output
    saved = json.loads(printed.stdout)
    assert saved["instance_startup_seconds"] == 120.0
    shown = json.loads(run(app, "history", "show", f"p{saved['history_id']}", "--json").stdout)
    assert shown["estimate"] == saved  # the whole estimate as predict --json printed it, start-up and total too
    assert shown["estimate"]["total_seconds"] == pytest.approx(120.0 + saved["seconds"])
    text = run(app, "predict", "--profile", PROFILE, "--gpu", "A100-80GB", "--startup-gpu", "2m").output
    pid = re.search(r"saved as p(\d+) in history", text).group(1)
    again = run(app, "history", "show", f"p{pid}").output
    assert "2m00s start-up of a fresh instance + the job" in again
    table = text[:text.index("  saved as p")]  # predict's table, its notes and its bound line, as shown again
    assert table in again and "  bound: " in table
    cpu = json.loads(run(app, "predict", "--profile", PROFILE, "--device", "cpu", "--json").stdout)
    cpu_shown = json.loads(run(app, "history", "show", f"p{cpu['history_id']}", "--json").stdout)["estimate"]
    assert cpu_shown == cpu and "instance_startup_seconds" not in cpu_shown  # a CPU starts no instance


def test_history_show_json_keeps_the_answers_row_notes(app, saved):
    """`history show N --json` gave `row_notes: {}`: the notes on each table's rows (`--by provider`'s, `--all`'s)
    were not stored with the answer."""
    assert set(saved["row_notes"]) == {"hardware", "provider", "all"}
    shown = json.loads(run(app, "history", "show", saved["id"], "--json").stdout)["recommendation"]
    assert shown["row_notes"] == saved["row_notes"]
    assert shown["notes"] == saved["notes"]


def test_one_thread_is_said_in_the_singular(app):
    """A prediction for one CPU thread (a 2-vCPU instance with 2 threads per core) printed "Predicted job time on
    CPU (1 threads)", and `history list` its target "cpu (1 threads)"."""
    text = run(app, "predict", "--profile", PROFILE, "--threads", "1").output
    assert "Predicted job time on CPU (1 thread)" in text, text
    assert run(app, "predict", "--profile", PROFILE, "--threads", "2").exit_code == 0
    listed = json.loads(run(app, "history", "list", "--json").stdout)
    assert [p["target"] for p in listed["predictions"]] == ["cpu (2 threads)", "cpu (1 thread)"]
