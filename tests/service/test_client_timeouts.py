"""A call that times out: the server goes on with a request its client stopped waiting for, so a POST may have
stored its recommendation (or outcome). The hint said "try again", which stores it twice; it now says how to
look first. A GET still says "try again"."""

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
