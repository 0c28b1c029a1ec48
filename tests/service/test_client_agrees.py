"""``advisor.Client`` answers a bad argument as the local API does: the same error, and before the workload is
probed or anything is sent."""

from __future__ import annotations

import pytest
from service_helpers import PROFILE_FILE, TOKEN, unsent

import advisor
from advisor import api
from advisor.errors import AdvisorError
from advisor.service.client import Client

WORKLOAD_FILE = "examples/tabular_mlp.py"


@pytest.fixture
def unprobed(monkeypatch):
    """A probe fails the test: the error must come first."""
    def probed(*args, **kwargs):
        raise AssertionError("probed")

    monkeypatch.setattr(api, "job_profile", probed)


def _local_error(**kwargs) -> AdvisorError:
    with pytest.raises(AdvisorError) as caught:
        advisor.recommend(PROFILE_FILE, save=False, **kwargs)
    return caught.value


@pytest.mark.parametrize("kwargs", [
    {"deadline": "soon"}, {"deadline": "0s"}, {"deadline": "-3h"}, {"budget": "$x"}, {"budget": -1},
    {"startup_seconds_gpu": "x"}, {"startup_seconds_cpu": "5 parsecs"}, {"objective": "speed"}, {"top": 0},
    {"deadline": "60", "startup_seconds_cpu": 120, "startup_seconds_gpu": 300},
])
def test_a_constraint_the_server_would_refuse_is_the_local_error_before_the_probe(unprobed, kwargs):
    """Client.recommend probed the workload (a minute by default) before "Cannot read the deadline 'soon'"."""
    local = _local_error(**kwargs)
    with Client("http://127.0.0.1", TOKEN, transport=unsent()) as client, pytest.raises(AdvisorError) as caught:
        client.recommend(WORKLOAD_FILE, dataset_size=2000, epochs=1, **kwargs)
    assert type(caught.value) is type(local)
    assert (caught.value.message, caught.value.hint) == (local.message, local.hint)


def test_a_bare_deadline_is_left_to_the_server_whose_start_up_is_not_known_here(unprobed):
    """"60" is refused locally as shorter than the default start-ups; the server's may be shorter: it judges."""
    with Client("http://127.0.0.1", TOKEN, transport=unsent()) as client, pytest.raises(AssertionError,
                                                                                        match="probed|sent"):
        client.recommend(WORKLOAD_FILE, dataset_size=2000, epochs=1, deadline="60")
