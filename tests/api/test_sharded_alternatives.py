"""A machine ``recommend`` names beside its choice (a row of the table, the Best value line, a what-if, the safe
alternative) that is priced sharded (FSDP/ZeRO-3) where the choice is DDP says so: the table read "1.1x slower,
0.29x the cost" for 8 x H100 that hold the Llama-7B-shaped job only sharded, and a user who took it with the DDP
script the choice assumes ran out of memory."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from advisor import api
from advisor.cli.app import build_app

PROFILE = Path(__file__).resolve().parent / "data" / "llama7b_analysis_profile.json"
RATES = ("provider,instance_type,region,vcpus,memory_gib,gpu_model,gpu_count,gpu_memory_gib,price_hour_usd\n"
         "mycloud,b200-8,here-1,208,2900,B200,8,180,53.52\nmycloud,h100-8,here-1,208,2000,H100-SXM,8,80,15.0\n")
SHARDED = "priced sharded (FSDP/ZeRO-3): the script must shard, plain DDP runs out of memory"


def test_a_sharded_row_beside_a_ddp_choice_says_the_script_must_shard(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    rec = api.recommend(api.load_profile(PROFILE), dataset_size=20_000, epochs=1, batch_size=8, objective="time",
                        save=False, pricing_files=[rates], providers="mycloud")
    by_name = {c.instance_type: c for c in rec.candidates}
    assert rec.chosen.instance_type == "b200-8" and not rec.chosen.sharded
    assert by_name["h100-8"].sharded and by_name["h100-8"].reason.endswith(f"; {SHARDED}")
    assert "sharded" not in rec.chosen.reason
    assert rec.verdict.best_value.startswith("-$") and f"total, $4.98; {SHARDED}" in rec.verdict.best_value
    out = CliRunner().invoke(build_app(), ["recommend", "--profile", str(PROFILE), "--batch-size", "8",
                                           "--dataset-size", "20000", "--epochs", "1", "--objective", "time",
                                           "--no-save", "--providers", "mycloud", "--pricing", str(rates)],
                             env={"COLUMNS": "400"})
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "Best value: " in text and f"; {SHARDED}" in text.split("Best value: ")[1].split("Warning")[0]


def test_a_sharded_choice_does_not_repeat_it_on_rows_that_are_sharded_too(tmp_path):
    """Where the choice is priced sharded its "Why" says so; its sharded neighbours then run the same script."""
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    rec = api.recommend(api.load_profile(PROFILE), dataset_size=20_000, epochs=1, batch_size=8, objective="cost",
                        save=False, pricing_files=[rates], providers="mycloud")
    assert rec.chosen.instance_type == "h100-8" and rec.chosen.sharded
    assert "priced sharded (FSDP FULL_SHARD / ZeRO-3)" in rec.chosen.reason
    assert all(SHARDED not in c.reason for c in rec.candidates)


def test_a_sharded_neighbour_of_a_sharded_choice_has_no_empty_clause(tmp_path):
    # A second H100 offer, sharded like the choice: its reason read 'as fast, 1.1x the cost; ' (an empty part).
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES + "mycloud,h100-8b,here-1,208,2000,H100-SXM,8,80,17.0\n")
    rec = api.recommend(api.load_profile(PROFILE), dataset_size=20_000, epochs=1, batch_size=8, objective="cost",
                        save=False, pricing_files=[rates], providers="mycloud")
    by_name = {c.instance_type: c for c in rec.candidates}
    assert rec.chosen.instance_type == "h100-8" and by_name["h100-8b"].sharded
    assert by_name["h100-8b"].reason == "as fast, 1.1x the cost"
