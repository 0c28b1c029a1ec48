"""An HTTP caller's errors in HTTP words: a bad ``since`` names the query parameter, not the CLI's ``--since``
(a Python or CLI caller, whose client reads it before sending, still gets its own words); a 405 says which
methods the path takes (its hint said "the API is under /v1" of a path already under it)."""

from __future__ import annotations

import pytest
from service_helpers import TOKEN, auth

from advisor.errors import ConfigError


@pytest.mark.parametrize("path", ["/v1/history", "/v1/predictions", "/v1/history/export"])
def test_a_bad_since_names_the_query_parameter(app_client, path):
    response = app_client.get(path, params={"since": "yesterday"}, headers=auth())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == ("Cannot read the `since` query parameter 'yesterday': it is neither an age like 7d "
                                "nor a date like 2026-11-01.")
    assert error["hint"] == "Fix: e.g. ?since=7d, ?since=12h or ?since=2026-11-01."
    assert "--since" not in response.text


def test_the_python_client_reads_since_itself_in_its_own_words(client):
    with pytest.raises(ConfigError) as caught:
        client.list(since="yesterday")
    assert caught.value.message.startswith("Cannot read since='yesterday':")
    assert "query parameter" not in caught.value.message
    assert client.list(since="7d") == []  # sent as the time it means


def test_a_405_says_which_methods_the_path_takes(app_client):
    response = app_client.put("/v1/recommendations", headers=auth(), json={})
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["message"] == "/v1/recommendations does not take PUT; it takes POST."
    assert error["hint"] == "Fix: send POST (see /api)." and "under /v1" not in error["hint"]


def test_an_unknown_api_path_is_not_told_the_api_is_under_v1(app_client):
    error = app_client.get("/v1/nothing", headers=auth()).json()["error"]
    assert error["hint"] == "Fix: see /api for the API's paths; the web page is at /."


@pytest.mark.parametrize(("path", "extra"), [("/v1/v1/history", "/v1"), ("/api/v1/history", "/api"),
                                             ("/advisor/v1/recommendations", "/advisor")])
def test_a_server_url_given_with_a_path_is_told_to_give_the_root(app_client, path, extra):
    # `advisor history list --server http://host:8000/v1` asked GET /v1/v1/history and was told "see /api for the
    # API's paths", which did not say that the --server URL was the mistake.
    response = app_client.get(path, headers=auth())
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"] == f"There is no GET {path} on this server."
    assert error["hint"] == (f"Fix: the API's paths start with /v1, and this one has {extra} before it: give "
                             f"--server (advisor.Client's URL) the server's root, http://HOST:PORT, without {extra} "
                             "(see /api).")


def test_a_client_given_the_api_url_is_told_to_give_the_root(app_client):
    from advisor import ServiceError
    from advisor.service.client import Client

    with Client("http://127.0.0.1/v1", TOKEN, transport=app_client._transport) as api:
        with pytest.raises(ServiceError) as caught:
            api.list()
    assert caught.value.message == "There is no GET /v1/v1/history on this server."
    assert "the server's root, http://HOST:PORT, without /v1" in caught.value.hint
