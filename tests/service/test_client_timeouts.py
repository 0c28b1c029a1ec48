"""A call that times out: the server goes on with a request its client stopped waiting for, so a POST may have
stored its recommendation (or outcome). The hint said "try again", which stores it twice; it now says how to
look first. A GET still says "try again". A call that got no answer after the client probed a workload says how to
keep the next probe (`advisor profile -o` + `--profile`), as the probe is thrown away."""

from __future__ import annotations

import httpx
import pytest
from service_helpers import profile_data

from advisor.schemas import Profile
from advisor.service.client import Client, ServiceError

URL = "http://advisor.example:8000"


def _timing_out(sent: list[str]) -> Client:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        raise httpx.ReadTimeout("timed out", request=request)

    return Client(URL, "t" * 32, transport=httpx.MockTransport(answer))


def test_a_timed_out_recommendation_says_it_may_be_stored_and_how_to_look():
    sent: list[str] = []
    with _timing_out(sent) as api, pytest.raises(ServiceError) as caught:
        api.recommend(Profile.model_validate(profile_data()), dataset_size=123_457, epochs=3)
    assert sent == ["POST /v1/recommendations"]
    err = caught.value
    assert "did not answer in time (POST /v1/recommendations)" in err.message
    assert "may have done it anyway" in err.hint and "try again" not in err.hint
    assert f"`advisor history list --server {URL}`" in err.hint


def test_a_timed_out_outcome_names_the_recommendation_to_look_at():
    with _timing_out([]) as api, pytest.raises(ServiceError) as caught:
        api.record_outcome(7, 60.0)
    assert f"`advisor history show 7 --server {URL}`" in caught.value.hint


def test_a_timed_out_read_says_try_again():
    with _timing_out([]) as api, pytest.raises(ServiceError) as caught:
        api.show(7)
    assert caught.value.hint.startswith("Fix: try again;")


# ------------------------------------------------------------ no answer after a probe made here (defect: re-probe)

def _gone_after_health(sent: list[str]) -> Client:
    """A server that answers /healthz, then drops the connection of the POST (stopped while the client probed)."""
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    return Client(URL, "t" * 32, transport=httpx.MockTransport(answer))


def test_a_probe_whose_answer_never_came_says_how_to_keep_it(monkeypatch):
    from advisor import api

    probed = Profile.model_validate(profile_data())
    monkeypatch.setattr(api, "job_profile", lambda source, **_kw: probed)  # the probe, made here
    sent: list[str] = []
    with _gone_after_health(sent) as client, pytest.raises(ServiceError) as caught:
        client.recommend("examples/tabular_mlp.py", dataset_size=20_000, epochs=2)
    assert sent == ["GET /healthz", "POST /v1/recommendations"]
    assert caught.value.message.startswith(f"Cannot reach the advisor server at {URL}")
    assert caught.value.hint.endswith(
        "The probe made here is not kept: to send it again without probing again, probe once to a file, "
        "`advisor profile examples/tabular_mlp.py -o profile.json`, and pass `--profile profile.json` (in Python, "
        "the profile .json path or a Profile).")


def test_a_dropped_connection_is_told_with_one_full_stop():
    # httpx's "Server disconnected without sending a response." came out as "...a response.." (a port that is no
    # advisor server, as --server http://127.0.0.1:5432 to PostgreSQL).
    with _gone_after_health([]) as client, pytest.raises(ServiceError) as caught:
        client.show(7)
    assert caught.value.message == (f"Cannot reach the advisor server at {URL}: Server disconnected without sending "
                                    "a response.")


def test_a_saved_profile_gets_no_such_hint():
    with _gone_after_health([]) as client, pytest.raises(ServiceError) as caught:
        client.recommend(Profile.model_validate(profile_data()), dataset_size=20_000, epochs=2)
    assert "advisor profile" not in caught.value.hint
