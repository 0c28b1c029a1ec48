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


@pytest.mark.parametrize(("method", "kwargs"), [
    ("recommend", {"spot": "no"}), ("recommend", {"save": "false"}), ("recommend", {"spot": 1}),
    ("predict", {"save": "false"}), ("predict", {"use_history": "no"}), ("recommend", {"progress": "x"}),
])
def test_a_switch_that_is_not_a_bool_is_refused_as_locally(unprobed, method, kwargs):
    """spot="no" was read as False (and "y" as True) by the request's lax bool; advisor.recommend refuses it."""
    with pytest.raises(AdvisorError) as local:
        getattr(advisor, method)(PROFILE_FILE, dataset_size=2000, epochs=1, **{"save": False, **kwargs})
    with Client("http://127.0.0.1", TOKEN, transport=unsent()) as client, pytest.raises(AdvisorError) as caught:
        getattr(client, method)(WORKLOAD_FILE, dataset_size=2000, epochs=1, **kwargs)
    assert type(caught.value) is type(local.value) is advisor.ConfigError
    assert (caught.value.message, caught.value.hint) == (local.value.message, local.value.hint)


def test_no_feasible_candidate_carries_the_same_nearest_misses(client):
    """The client's NoFeasibleCandidateError had .nearest == [] where the local one lists the three nearest."""
    job = {"dataset_size": 20000, "epochs": 2, "deadline": "1s"}
    with pytest.raises(advisor.NoFeasibleCandidateError) as local:
        advisor.recommend(PROFILE_FILE, save=False, **job)
    with pytest.raises(advisor.NoFeasibleCandidateError) as remote:
        client.recommend(PROFILE_FILE, save=False, **job)
    assert len(local.value.nearest) == 3
    assert [type(c) for c in remote.value.nearest] == [advisor.schemas.Candidate] * 3
    assert [(c.provider, c.instance_type, c.region, c.seconds) for c in remote.value.nearest] == [
        (c.provider, c.instance_type, c.region, c.seconds) for c in local.value.nearest]
    assert remote.value.recommendation is not None and remote.value.message == local.value.message
