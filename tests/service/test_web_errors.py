"""A browser's request for a web page that fails is answered as a page (a browser shows JSON as raw text); a
program's, and anything under /v1, keeps the JSON error body."""

from __future__ import annotations

import pytest
from service_helpers import auth

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _page_error(response, status: int, *phrases: str) -> str:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    for phrase in phrases:
        assert phrase in response.text, (phrase, response.text)
    assert "Traceback" not in response.text and '"error"' not in response.text
    return response.text


def test_an_unknown_recommendation_page_is_a_404_page(app_client):
    text = _page_error(app_client.get("/recommendations/424242", headers={**auth(), **BROWSER}), 404,
                       "<title>Not found - advisor</title>", "No recommendation", "request id")
    assert '<a href="/">' in text


def test_a_bad_query_on_a_page_is_a_422_page(app_client):
    _page_error(app_client.get("/?limit=0", headers={**auth(), **BROWSER}), 422,
                "Invalid request", "query.limit")


def test_an_unknown_page_is_a_404_page_with_the_hint(app_client):
    _page_error(app_client.get("/nothing/here", headers={**auth(), **BROWSER}), 404,
                "There is no GET /nothing/here on this server.", "the web page is at /")


def test_a_page_whose_database_is_down_is_a_503_page_with_retry_after(app_client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from advisor.history.repository import History

    def down(self, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(History, "list", down)
    response = app_client.get("/", headers={**auth(), **BROWSER})
    _page_error(response, 503, "The history database is unavailable")
    assert response.headers["retry-after"] == "5" and "refused" not in response.text


@pytest.mark.parametrize("path", ["/v1/recommendations/424242", "/v1/nothing"])
def test_the_api_answers_json_even_to_a_browser(app_client, path):
    response = app_client.get(path, headers={**auth(), **BROWSER})
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    assert response.json()["error"]["type"] in ("HistoryError", "NotFound")


def test_a_program_asking_for_a_page_gets_json(app_client):
    response = app_client.get("/recommendations/424242", headers={**auth(), "Accept": "application/json"})
    assert response.status_code == 404 and response.json()["error"]["type"] == "HistoryError"
