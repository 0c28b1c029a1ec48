"""README's examples run when copied: the service's example tokens are long enough for ``advisor serve`` (they
were "tok1,tok2", refused as shorter than 16 characters), and the ``advisor.track`` decorator's instance type is
one of the recommendation's rows (it was "p4d.24xlarge", not a candidate of README's own recommendation); and
README names every environment variable advisor reads (ADVISOR_FIT_DEBUG was read and not named)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import advisor
from advisor.service.config import parse_tokens

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
PROFILE = REPO / "tests" / "hostile" / "data" / "tabular_profile.json"


def test_the_service_example_tokens_are_accepted_and_the_clients_is_one_of_them():
    listed = re.search(r'export ADVISOR_API_TOKENS=\S+ +# or "([^"]+)"', README).group(1)
    client = re.search(r"export ADVISOR_API_TOKEN=(\S+)", README).group(1)
    tokens = parse_tokens(listed)  # raises ConfigError for one under 16 characters
    assert len(tokens) == 2 and client in tokens


@pytest.mark.filterwarnings("ignore:advisor.track recorded:RuntimeWarning")  # a 10 ms "job": far off its estimate
def test_the_track_decorator_example_records_against_a_row_of_the_recommendation():
    expression = re.search(r"@advisor\.track\(rec\.id, instance_type=(.+?)\) +#", README).group(1)
    rec = advisor.recommend(PROFILE, dataset_size=300_000, epochs=10, batch_size=512)
    instance_type = eval(expression, {"rec": rec})  # noqa: S307 - README's own expression, on README's names

    @advisor.track(rec.id, instance_type=instance_type)
    def train() -> None:
        time.sleep(0.01)  # a block under a millisecond records nothing

    train()
    with advisor.History() as hist:
        outcomes = hist.show(rec.id).outcomes
    assert [o.instance_type for o in outcomes] == [instance_type]
    assert instance_type != rec.chosen.instance_type


def test_readme_names_every_environment_variable_advisor_reads():
    read = set()
    for path in (REPO / "advisor").rglob("*.py"):
        read |= set(re.findall(r"[\"'](ADVISOR_[A-Z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    assert {"ADVISOR_DATABASE_URL", "ADVISOR_FIT_DEBUG"} <= read  # the search finds them
    assert sorted(name for name in read if f"`{name}" not in README) == []
