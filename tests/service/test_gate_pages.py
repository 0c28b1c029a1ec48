"""Without tokens the gate's 429 says the limit is per client address, which every user of one machine shares
(it named a token nobody had); and its refusals (429, 413) answer a browser's request for a web page with a page,
as the app's errors do (they were raw JSON)."""

from __future__ import annotations

import warnings

import pytest
from service_helpers import auth


def _app(tmp_path, tokens: tuple[str, ...]):
    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what it runs on here
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from advisor.service.app import create_app
    from advisor.service.config import ServiceConfig
    from advisor.settings import Settings

    config = ServiceConfig(tokens=tokens, max_body_bytes=1024, rate_per_minute=2,
                           settings=Settings(database_url=f"sqlite:///{tmp_path / 'gate.db'}"))
    return TestClient(create_app(config), base_url="http://127.0.0.1")


def test_without_tokens_the_429_is_per_client_address(tmp_path):
    with _app(tmp_path, ()) as app:
        assert [app.get("/v1/history").status_code for _ in range(2)] == [200, 200]
        api = app.get("/v1/history")
        assert api.status_code == 429 and api.headers["content-type"] == "application/json"
        error = api.json()["error"]
        assert error["message"] == "Too many requests: the limit is 2 a minute per client address (no tokens are " \
                                   "configured)."
        assert "per token" not in error["message"] and "ADVISOR_API_TOKENS each token has its own" in error["hint"]


def test_with_tokens_the_429_says_per_token(tmp_path):
    from service_helpers import TOKEN

    with _app(tmp_path, (TOKEN,)) as app:
        for _ in range(2):
            app.get("/v1/history", headers=auth())
        error = app.get("/v1/history", headers=auth()).json()["error"]
        assert error["message"] == "Too many requests: the limit is 2 a minute per token."


# ------------------------------------------------------------------ a browser's page request refused by the gate

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _is_page(response, status: int, *phrases: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    for phrase in phrases:
        assert phrase in response.text, (phrase, response.text)
    assert '"error"' not in response.text


def test_a_429_is_a_page_for_a_browser(tmp_path):
    with _app(tmp_path, ()) as app:
        for _ in range(2):
            app.get("/", headers=BROWSER)
        page = app.get("/", headers=BROWSER)
        _is_page(page, 429, "<title>Too many requests - advisor</title>", "per client address", "request id")
        assert page.headers["retry-after"].isdigit()
        assert app.get("/v1/history", headers=BROWSER).headers["content-type"] == "application/json"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_a_413_page_for_a_browser(tmp_path, chunked):
    body = b"token=" + b"x" * 4096
    with _app(tmp_path, ("t" * 32,)) as app:
        response = app.post("/login", content=iter([body]) if chunked else body, headers={
            **BROWSER, "Content-Type": "application/x-www-form-urlencoded"})
        _is_page(response, 413, "<title>Request too large - advisor</title>", "over the server&#x27;s limit")
        api = app.post("/v1/recommendations", content=body, headers={**auth("t" * 32), **BROWSER})
        assert api.status_code == 413 and api.json()["error"]["type"] == "RequestTooLarge"
