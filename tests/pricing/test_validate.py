"""``advisor pricing validate``: it agrees with the loader (the shipped catalog validates, its fractional-GPU
rows listed as skipped, not as problems), and each problem's "Fix:" line fits that problem."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.data_files import data_dir
from advisor.errors import CatalogError
from advisor.pricing import check_file, load_catalog
from advisor.pricing.fixes import FRACTIONAL_FIX, format_hint, hint_for

PRICING = data_dir("pricing")
HEADER = "provider,instance_type,region,gpu_model,gpu_count,price_hour_usd\n"


def validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["pricing", "validate", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(p.name for p in PRICING.glob("*.csv")))
def test_every_shipped_catalog_file_validates(name):
    code, output = validate(str(PRICING / name))
    assert code == 0, output
    assert "error:" not in output and "Fix:" not in output
    assert output.splitlines()[0].endswith(("valid offers.", "all valid."))


def test_the_fractional_gpu_rows_are_listed_as_skipped_with_file_line_and_reason():
    code, output = validate(str(PRICING / "instances.csv"))
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == f"{PRICING / 'instances.csv'}: 271 valid offers."
    assert lines[1] == "8 rows skipped, as the loader skips them (not problems):"
    assert lines[2] == ("  instances.csv:52: aws g6f.2xlarge: a fractional GPU (0.25 of one L40); advisor predicts "
                        "whole GPUs only")
    assert len(lines) == 10 and all("a fractional GPU" in line for line in lines[2:])
    code, output = validate(str(PRICING / "instances.csv"), "--json")
    data = json.loads(output)
    assert (code, data["valid"], data["offers"], len(data["skipped"])) == (0, True, 271, 8)
    # The loader's own list is the same rows, each with its file:line.
    assert load_catalog().excluded == data["skipped"]


def test_the_billing_rules_file_is_checked_as_billing_rules():
    code, output = validate(str(PRICING / "billing.csv"))
    assert (code, output.strip()) == (0, f"{PRICING / 'billing.csv'}: billing rules for 7 providers, all valid.")


def test_a_copy_of_the_catalog_is_a_user_file_whose_fractional_rows_are_refused(tmp_path):
    # As --pricing FILE loads it: a user's fractional GPU is an error, with the fix for that (and only that).
    copy = shutil.copy(PRICING / "instances.csv", tmp_path / "mine.csv")
    code, output = validate(str(copy))
    assert code == 1
    assert f"{copy}: 8 problems:" in output and f"{copy}:52: gpu_count '0.25' is not a whole number" in output
    assert output.rstrip().endswith(FRACTIONAL_FIX) and output.count("Fix:") == 1
    assert "each row needs provider" not in output


@pytest.mark.parametrize("row, fix", [
    ("onprem,a,lab,A1OO-80GB,1,10", "Fix: name a GPU that advisor knows (`advisor hardware` lists them"),
    ("onprem,a,lab,A100-80GB,1,-3", "Fix: write price_hour_usd as a plain positive number (e.g. 2.50 US$ per hour)."),
    ("onprem,a,lab,A100-80GB,two,10", "Fix: write gpu_count as a plain whole number (e.g. 8)."),
    ("onprem,a,,A100-80GB,1,10", "Fix: give the region"),
    ("onprem,a,lab,,1,10", "Fix: give a GPU instance both gpu_model and its gpu_count"),
    ("Onprem!,a,lab,,0,10", "Fix: write the provider as a lower-case name"),
    ("onprem,a,lab,A100-80GB,0.5,10", FRACTIONAL_FIX),
])
def test_one_problem_gets_its_own_fix(tmp_path, row, fix):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(CatalogError) as info:
        check_file(path)
    assert info.value.hint.startswith(fix) and "\n" not in info.value.hint


def test_several_kinds_of_problem_get_one_fix_each_in_order(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + "onprem,a,lab,A100-80GB,0.5,10\nonprem,b,lab,A100-80GB,1,-3\n"
                    "onprem,c,lab,A100-80GB,0.25,1\nonprem,d,lab,A100-80GB,1,x\n")
    with pytest.raises(CatalogError) as info:
        check_file(path)
    assert info.value.hint.splitlines() == [
        FRACTIONAL_FIX, "Fix: write price_hour_usd as a plain positive number (e.g. 2.50 US$ per hour)."]


def test_a_header_problem_gets_the_format_summary(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("provider,instance_type,region,gpu_model,gpu_count,price_hour\nonprem,a,lab,,0,1\n")
    with pytest.raises(CatalogError) as info:
        check_file(path)
    assert info.value.hint == format_hint()
    assert hint_for([f"{path}:1: the header has no 'instance_type' column"]) == format_hint()


@pytest.mark.parametrize("vcpus", ["0", "5000000000"])
def test_a_vcpu_count_no_machine_has_is_refused_where_the_file_is_checked(tmp_path, vcpus):
    # validate used to pass it, then recommend failed on it (5e9 vCPUs: a Python-API message) or ranked a
    # 0-vCPU machine
    path = tmp_path / "rates.csv"
    path.write_text("provider,instance_type,region,vcpus,gpu_model,gpu_count,price_hour_usd\n"
                    f"aws,big,us-east-1,{vcpus},,0,0.001\n")
    code, output = validate(str(path))
    assert code == 1 and f"{path}:2: vcpus {int(vcpus):,} is not a machine's count (1 to 10,000" in output
    with pytest.raises(CatalogError, match="is not a machine's count"):
        load_catalog([path])


def test_a_user_file_named_like_a_built_in_file_reports_only_its_own_rows(tmp_path, monkeypatch):
    # origin "instances.csv:52" (a built-in row) began with "instances.csv:", the user file's relative name
    (tmp_path / "instances.csv").write_text(HEADER + "onprem,box,lab,T4,1,1\n")
    monkeypatch.chdir(tmp_path)
    code, output = validate("instances.csv", "--json")
    data = json.loads(output)
    assert (code, data["offers"], data["skipped"]) == (0, 1, [])
    assert [o.instance_type for o in check_file("instances.csv").offers] == ["box"]


def test_one_valid_offer_is_singular(tmp_path):
    rates = tmp_path / "mine.csv"
    rates.write_text("provider,instance_type,region,gpu_model,gpu_count,price_hour_usd\nonprem,box,lab,A100-80GB,1,1\n")
    code, output = validate(str(rates))
    assert code == 0 and output.splitlines()[0] == f"{rates}: 1 valid offer."


@pytest.mark.parametrize(("snapshot", "problem"), [
    ("20260520", "is not a date like 2026-05-20"),
    ("2026-W01-1", "is not a date like 2026-05-20"),
    ("9999-12-31", "is in the future"),
])
def test_a_snapshot_date_is_a_plain_past_date(tmp_path, snapshot, problem):
    """Python reads 20260520 and week dates; "prices as of" then sorted them apart, up to 9999-12-31."""
    rates = tmp_path / "mine.csv"
    rates.write_text("provider,instance_type,region,gpu_model,gpu_count,price_hour_usd,snapshot_date\n"
                     f"onprem,box,lab,A100-80GB,1,1,{snapshot}\n")
    code, output = validate(str(rates))
    assert code == 1 and f"mine.csv:2: snapshot_date '{snapshot}' {problem}" in output


def test_validate_json_of_a_file_with_problems_says_valid_false_and_lists_them(tmp_path):
    # stdout was empty (the problems only on stderr, in English): "valid" could never be false.
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "me,box1,lab,,0,-1\nme,box2,lab,,0,abc\n")
    result = CliRunner().invoke(build_app(), ["pricing", "validate", str(bad), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["file"] == str(bad) and data["schema_version"] == 1
    assert [(p["line"], p["column"]) for p in data["problems"]] == [(2, "price_hour_usd"), (3, "price_hour_usd")]
    assert all(p["file"] == str(bad) and p["fix"].startswith("Fix: ") for p in data["problems"])
    assert data["problems"][0]["message"] == "price_hour_usd '-1' must be a positive number"
    missing = CliRunner().invoke(build_app(), ["pricing", "validate", str(tmp_path / "none.csv"), "--json"])
    assert missing.exit_code == 1 and json.loads(missing.stdout)["valid"] is False


DISCOUNTS = "provider,instance_type,region,gpu_model,gpu_count,price_hour_usd,discount_pct\n"


def test_a_provider_wide_discount_that_a_later_one_overrides_is_a_warning_not_an_error(tmp_path):
    """A file written when provider-wide discounts stacked (``gcp,*,*,10`` then ``gcp,*,*,5``): now an offer takes
    the last that matches, so the 10% row does nothing; validate said only "valid"."""
    rates = tmp_path / "team.csv"
    rates.write_text(DISCOUNTS + "gcp,*,*,,,,10\naws,*,*,,,,15\ngcp,*,*,,,,5\naws,*,us-east-1,,,,30\n")
    code, output = validate(str(rates))
    said = " ".join(output.split())
    assert code == 0 and output.splitlines()[0].endswith("valid offers.")
    assert said.count("warning:") == 1  # aws's us-east-1 row overrides the aws-wide one in one region only
    assert (f"warning: {rates}:2: the 10% provider-wide discount for gcp has no effect: the 5% one on line 4 "
            "overrides it (provider-wide discounts do not add up: an offer takes the last one that matches it). "
            "Fix: keep one row, with the discount you mean.") in said
    code, output = validate(str(rates), "--json")
    data = json.loads(output)
    assert (code, data["valid"], len(data["warnings"])) == (0, True, 1)
    assert data["warnings"][0].startswith(f"{rates}:2: the 10% provider-wide discount for gcp has no effect")
    rates.write_text(DISCOUNTS + "gcp,*,us-central1,,,,10\ngcp,*,*,,,,5\n")  # a region's, then all of gcp's
    assert len(check_file(rates).warnings) == 1
    rates.write_text(DISCOUNTS + "gcp,*,*,,,,10\ngcp,*,us-central1,,,,5\n")  # all of gcp's, then one region's
    assert check_file(rates).warnings == []


def test_validate_given_a_folder_names_the_command_that_took_it(tmp_path):
    # `advisor pricing validate FOLDER` said "Fix: give --pricing or ADVISOR_PRICING the path of a rates CSV file",
    # then "(given to --pricing, ADVISOR_PRICING or `advisor pricing validate FILE`)": only the last was typed.
    result = CliRunner().invoke(build_app(), ["pricing", "validate", str(tmp_path)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert f"{tmp_path}: not a regular file (a directory, device or pipe)." in said
    assert ("Fix: name a rates CSV file, not a folder, device or pipe (given to `advisor pricing validate`)."
            in said)
    assert "--pricing" not in said and "ADVISOR_PRICING" not in said
    missing = CliRunner().invoke(build_app(), ["pricing", "validate", str(tmp_path / "none.csv")])
    said = " ".join(missing.output.split())
    assert missing.exit_code == 1 and "Fix: check the path given to `advisor pricing validate`." in said
    assert "--pricing" not in said


def test_a_folder_loaded_as_rates_names_pricing(tmp_path):
    # The loader's hint still names the two ways a loaded file's path comes in.
    from advisor.pricing.csvfile import read_csv

    with pytest.raises(CatalogError) as caught:
        read_csv(tmp_path)
    assert "(given to --pricing or ADVISOR_PRICING)" in caught.value.hint
