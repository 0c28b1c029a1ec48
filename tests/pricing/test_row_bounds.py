"""A rates file's numbers stay in the range the rest of advisor computes with: an hourly price between
$0.0001 and $10,000, and a GPU count a ``Target`` holds. A row past them is refused on load, as file:line
with its fix, rather than accepted by ``pricing validate`` and failing later in ``recommend``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app
from advisor.errors import CatalogError
from advisor.pricing import load_catalog
from advisor.schemas.devices import MAX_TARGET_GPUS

HEADER = "provider,instance_type,region,vcpus,gpu_model,gpu_count,price_hour_usd,spot_price_hour_usd\n"


def validate(path) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["pricing", "validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize(("row", "col", "value"), [
    ("big,cpu-huge,lab,8,,0,1.7e308,", "price_hour_usd", "1.7e308"),  # the cost overflowed to inf
    ("big,cpu-tiny,lab,8,,0,1e-300,", "price_hour_usd", "1e-300"),  # 300-digit dollar figures
    ("big,cpu-dear,lab,8,,0,10000.01,", "price_hour_usd", "10000.01"),
    ("big,gpu-spot,lab,,A100-80GB,1,2,0.00001", "spot_price_hour_usd", "0.00001"),
])
def test_a_price_outside_the_hourly_range_is_refused_with_file_line_and_fix(tmp_path, row, col, value):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + row + "\n")
    code, output = validate(path)
    assert code == 1, output
    assert f"{path}:2: {col} '{value}' is not an hourly price ($0.0001 to $10,000 per instance)." in output
    assert f"Fix: give {col} in US$ per hour for one instance" in output
    assert "Traceback" not in output


def test_the_ends_of_the_hourly_range_are_prices(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + "big,cheap,lab,8,,0,0.0001,\nbig,dear,lab,,A100-80GB,8,10000,0.0001\n")
    offers = {o.instance_type: o for o in load_catalog([path]).offers if o.provider == "big"}
    assert offers["cheap"].price_usd_per_hour == 0.0001
    assert (offers["dear"].price_usd_per_hour, offers["dear"].spot_price_usd_per_hour) == (10_000, 0.0001)


def test_a_gpu_count_a_target_cannot_hold_is_refused_with_file_line(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + f"lab,many,x,64,A100-80GB,{MAX_TARGET_GPUS + 1},1,\n"
                    + f"lab,most,x,64,A100-80GB,{MAX_TARGET_GPUS},1,\n")
    with pytest.raises(CatalogError) as info:
        load_catalog([path])
    assert info.value.message == (f"{path}:2: gpu_count {MAX_TARGET_GPUS + 1:,} is more GPUs than advisor predicts "
                                  f"for (at most {MAX_TARGET_GPUS:,}).")
    assert "Fix: give gpu_count as the instance's number of GPUs" in info.value.hint
