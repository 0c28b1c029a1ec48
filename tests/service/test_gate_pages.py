"""Without tokens the gate's 429 says the limit is per client address, which every user of one machine shares
(it named a token nobody had)."""

from __future__ import annotations

import warnings

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
