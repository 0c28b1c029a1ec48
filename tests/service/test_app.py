"""The app in this process (no server started): authentication, limits, errors as JSON, the cache, the web page.

The same checks against a real server process are in test_server.py; these are the fast, exhaustive ones.
"""

from __future__ import annotations

import html
import json

import pytest
from service_helpers import OTHER_TOKEN, TOKEN, auth


def _post(client, profile, **fields):
    return client.post("/v1/recommendations", json={"profile": profile, "dataset_size": 20000, "epochs": 2,
                                                     **fields}, headers=auth())


def _error(response) -> dict:
    body = response.json()
    assert set(body) <= {"error", "recommendation"}, body
    assert body["error"]["message"] and body["error"]["hint"].startswith("Fix:"), body
    text = response.text
    assert "Traceback" not in text and 'File "' not in text
    return body["error"]


# ----------------------------------------------------------------------------------------- auth, limits


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-wrong-token"},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"}])
def test_the_api_needs_a_valid_bearer_token(app_client, headers):
    response = app_client.get("/v1/history", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _error(response)["type"] == "Unauthorized"


def test_health_and_docs_need_no_token(app_client):
    health = app_client.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok" and health.json()["auth"] == "bearer"
    spec = app_client.get("/openapi.json").json()
    assert {"/v1/recommendations", "/v1/predictions", "/v1/catalog", "/v1/history", "/v1/compare",
            "/v1/recommendations/{recommendation_id}", "/v1/recommendations/{recommendation_id}/outcome"} <= set(
        spec["paths"])
    assert app_client.get("/docs").status_code == 200


def test_the_nav_api_link_is_a_page_the_server_serves_whole(app_client):
    """The nav's "API" went to /docs, Swagger UI loaded from cdn.jsdelivr.net: a blank page on a network without
    internet access. /api lists the endpoints from the schema, with no script and nothing from elsewhere."""
    login = app_client.get("/login")
    assert '<a href="/api">API</a>' in login.text and 'href="/docs"' not in login.text.split("</nav>")[0]
    app_client.cookies.clear()
    page = app_client.get("/api")  # open, as /openapi.json is
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in page.text and "src=" not in page.text and 'href="http' not in page.text
    spec = app_client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert (f"<tr><td>{method.upper()}</td><td><code>{html.escape(path)}</code></td>"
                    f"<td>{html.escape(op['summary'])}</td></tr>") in page.text
    assert "<td><code>/healthz</code></td>" in page.text and '<a href="/openapi.json">' in page.text
    assert "it needs internet access" in page.text  # what /docs needs, said where it is linked


def test_a_body_over_the_limit_is_413_before_it_is_read(app_client, profile):
    big = json.dumps({"profile": profile, "padding": "x" * 100_000})
    response = app_client.post("/v1/recommendations", content=big, headers={**auth(), "Content-Type":
                                                                              "application/json"})
    assert response.status_code == 413
    assert _error(response)["type"] == "RequestTooLarge"


def test_a_streamed_body_without_length_is_stopped_at_the_limit(app_client):
    def chunks():
        for _ in range(100):
            yield b" " * 4096

    response = app_client.post("/v1/recommendations", content=chunks(), headers={**auth(), "Content-Type":
                                                                                  "application/json"})
    assert response.status_code == 413
    assert "limit" in _error(response)["message"]


def test_the_rate_per_token_is_429_with_retry_after(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from advisor.service.app import create_app
    from advisor.service.config import ServiceConfig
    from advisor.settings import Settings

    config = ServiceConfig(tokens=(TOKEN, OTHER_TOKEN), rate_per_minute=3,
                           settings=Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        codes = [client.get("/v1/history", headers=auth()).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/v1/history", headers=auth())
        assert int(limited.headers["retry-after"]) >= 1
        assert _error(limited)["type"] == "TooManyRequests"
        assert client.get("/v1/history", headers=auth(OTHER_TOKEN)).status_code == 200  # per token


# ------------------------------------------------------------------------------------------ validation


def test_an_out_of_range_profile_is_422_naming_the_field(app_client, profile):
    profile["devices"][0]["measurements"][0]["batch_size"] = 0
    error = _error(_post(app_client, profile))
    assert error["type"] == "ValidationError"
    assert error["fields"][0]["field"] == "profile.devices.0.measurements.0.batch_size"
    assert "profile.devices.0.measurements.0.batch_size" in error["message"]
    assert "greater than or equal to 1" in error["fields"][0]["problem"]
    assert "a profile comes from `advisor profile -o FILE`" in error["hint"]


@pytest.mark.parametrize(("fields", "named"), [
    ({"pricing_files": ["/etc/passwd"]}, "pricing_files"),  # no option the server does not offer
    ({"top": 0}, "top"),
    ({"budget": -5}, "budget"),
    ({"objective": "cheap"}, "objective"),
    ({"dataset_size": "many"}, "dataset_size"),
])
def test_bad_request_fields_are_422_naming_the_field(app_client, profile, fields, named):
    response = _post(app_client, profile, **fields)
    assert response.status_code == 422, response.text
    assert _error(response)["fields"][0]["field"] == named
    # The fix names the request's own fields, not a profile that was never the problem.
    assert "profile" not in _error(response)["hint"] and "each endpoint's" in _error(response)["hint"]


def test_json_that_is_not_json_is_422(app_client):
    response = app_client.post("/v1/recommendations", content=b"{not json", headers={
        **auth(), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert _error(response)["fields"][0]["problem"] == "is not valid JSON"


def test_nan_in_a_profile_is_refused(app_client, profile):
    text = json.dumps({"profile": profile, "dataset_size": 100, "epochs": 1}).replace(
        '"compute_seconds": 0.0019', '"compute_seconds": NaN, "x": 0.0019', 1)
    response = app_client.post("/v1/recommendations", content=text, headers={**auth(), "Content-Type":
                                                                               "application/json"})
    assert response.status_code == 422
    assert "compute_seconds" in _error(response)["fields"][0]["field"]


def test_advisor_errors_keep_the_clis_what_and_fix(app_client, profile):
    response = _post(app_client, profile, deadline="soon")
    assert response.status_code == 422
    error = _error(response)
    assert error["type"] == "ConfigError" and "deadline" in error["message"].lower()
    unknown_gpu = app_client.post("/v1/predictions", json={
        "profile": profile, "dataset_size": 1000, "epochs": 1, "target": {"kind": "gpu", "gpu": "A10O"}},
        headers=auth())
    assert unknown_gpu.status_code == 422
    assert "Did you mean" in _error(unknown_gpu)["message"]


def test_an_unknown_id_and_an_unknown_route_are_404_json(app_client):
    missing = app_client.get("/v1/recommendations/424242", headers=auth())
    assert missing.status_code == 404 and _error(missing)["type"] == "HistoryError"
    assert app_client.get("/v1/nothing", headers=auth()).status_code == 404
    assert _error(app_client.get("/v1/nothing", headers=auth()))["type"] == "NotFound"


def test_guessing_tokens_is_throttled_per_address(app_client):
    from advisor.service.security import GUESSES_PER_MINUTE

    wrong = {"Authorization": "Bearer " + "a" * 32}
    answers = [app_client.get("/v1/history", headers=wrong).status_code for _ in range(GUESSES_PER_MINUTE + 1)]
    assert answers[:GUESSES_PER_MINUTE] == [401] * GUESSES_PER_MINUTE and answers[-1] == 429
    limited = app_client.get("/v1/history", headers=wrong)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert app_client.get("/v1/history", headers=auth()).status_code == 200  # a caller with a token is not held


def test_a_json_body_sent_as_a_form_says_to_send_its_content_type(app_client, profile):
    body = json.dumps({"profile": profile, "dataset_size": 1000, "epochs": 1, "batch_size": 64})
    sent = app_client.post("/v1/predictions", content=body.encode(), headers={
        **auth(), "Content-Type": "application/x-www-form-urlencoded"})  # curl --data's default
    assert sent.status_code == 422
    assert "Content-Type: application/json" in _error(sent)["hint"] and "x-www-form-urlencoded" in _error(sent)["hint"]


def test_a_value_the_database_refuses_is_a_500_not_an_outage(app_client, monkeypatch):
    """PostgreSQL's "value too long" was answered 503 "the history database is unavailable, try again" (and
    logged as an outage): retrying cannot help, and the operator chased a database that was up."""
    from sqlalchemy.exc import DataError

    from advisor.service.backend import Backend

    def refused(self, **_kwargs):
        return self._db_call(lambda: (_ for _ in ()).throw(
            DataError("INSERT ...", {}, Exception("value too long for type character varying(64)"))))

    monkeypatch.setattr(Backend, "list", refused)
    response = app_client.get("/v1/history", headers=auth())
    assert response.status_code == 500 and _error(response)["type"] == "InternalError"
    assert "varying" not in response.text


def test_a_bug_is_500_with_an_id_and_no_traceback(app_client, monkeypatch):
    from advisor.service.backend import Backend

    def broken(self, **_kwargs):
        raise RuntimeError("secret detail at /srv/advisor/internal.py line 3")

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    monkeypatch.setattr(Backend, "list", broken)
    # As a real server answers: the exception is not re-raised into the test (test_server.py has the process).
    quiet = TestClient(app_client.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    response = quiet.get("/v1/history", headers=auth())
    assert response.status_code == 500
    error = _error(response)
    assert error["type"] == "InternalError" and error["request_id"] in error["message"]
    assert "secret" not in response.text and "/srv" not in response.text
    # The answer is the last word: nothing is raised past it (starlette's TestClient re-raises what the server
    # raises, as uvicorn then closes the connection: a keep-alive client's next, valid, request was reset)
    again = app_client.get("/v1/history", headers=auth())
    assert again.status_code == 500 and again.headers["x-request-id"] == _error(again)["request_id"]


# ------------------------------------------------------------------------------------ recommendations


def test_a_recommendation_is_stored_and_read_back(app_client, profile):
    response = _post(app_client, profile)
    assert response.status_code == 201, response.text
    rec = response.json()
    assert rec["id"] >= 1 and response.headers["location"] == f"/v1/recommendations/{rec['id']}"
    assert rec["chosen"]["instance_type"] and rec["workload"]["name"] == "tabular_mlp"
    stored = app_client.get(f"/v1/recommendations/{rec['id']}", headers=auth()).json()
    assert stored["recommendation"]["chosen"]["instance_type"] == rec["chosen"]["instance_type"]
    assert stored["recommendation"]["chosen"]["cost_usd"] == pytest.approx(rec["chosen"]["cost_usd"])
    listed = app_client.get("/v1/history", params={"workload": "tabular_mlp"}, headers=auth()).json()
    assert [e["id"] for e in listed["entries"]] == [rec["id"]]


def test_one_profile_is_stored_once_for_its_many_jobs(app_client, profile):
    """A pipeline asking about many dataset sizes of one model: each request is ranked and stored as its own
    row, all of them pointing at one stored profile (with its measurements once)."""
    ids = []
    for dataset_size in (10_000, 20_000, 30_000):
        response = app_client.post("/v1/recommendations", json={"profile": profile, "dataset_size": dataset_size,
                                                                "epochs": 1}, headers=auth())
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    stored = [app_client.get(f"/v1/recommendations/{i}", headers=auth()).json() for i in ids]
    assert [s["recommendation"]["dataset_size"] for s in stored] == [10_000, 20_000, 30_000]
    assert len({s["profile_id"] for s in stored}) == 1 and stored[0]["profile_id"] is not None
    assert app_client.app.state.backend.cache.misses == 3


def test_the_stored_profile_and_workload_rows_removed_by_hand_are_stored_again(app_client, profile):
    """A worker remembers the rows of a profile it stored (and its workload's); rows removed in between (by
    hand, or a clean-up) are stored again instead of failing the request."""
    from sqlalchemy import delete, func, select

    from advisor.history.tables import (
        CandidateTable,
        MeasurementTable,
        ProfileTable,
        RecommendationTable,
        WorkloadTable,
    )

    engine = app_client.app.state.backend.history.engine
    assert _post(app_client, profile).status_code == 201
    with engine.begin() as conn:
        for table in (CandidateTable, RecommendationTable, MeasurementTable, ProfileTable, WorkloadTable):
            conn.execute(delete(table))
    again = app_client.post("/v1/recommendations", json={"profile": profile, "dataset_size": 12_345, "epochs": 1},
                            headers=auth())
    assert again.status_code == 201, again.text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(WorkloadTable)).scalar_one() == 1
        row = conn.execute(select(RecommendationTable.profile_id, RecommendationTable.workload_id)).one()
        assert row.profile_id is not None and row.workload_id is not None


def test_identical_requests_share_one_ranking_but_each_is_stored(app_client, profile):
    backend = app_client.app.state.backend
    first, second = _post(app_client, profile).json(), _post(app_client, profile).json()
    assert (backend.cache.misses, backend.cache.hits) == (1, 1)
    assert first["id"] != second["id"]
    assert first["candidates"] == second["candidates"]
    # The identical profile is stored once; both rows point at it.
    stored = [app_client.get(f"/v1/recommendations/{r['id']}", headers=auth()).json() for r in (first, second)]
    assert stored[0]["profile_id"] == stored[1]["profile_id"] is not None
    # A recorded outcome changes what the learned correction may do: the next one is ranked again.
    outcome = app_client.post(f"/v1/recommendations/{first['id']}/outcome",
                              json={"actual_seconds": first["chosen"]["seconds"] * 1.2}, headers=auth())
    assert outcome.status_code == 201 and outcome.json()["recommendation_id"] == first["id"]
    _post(app_client, profile)
    assert backend.cache.misses == 2


def test_a_run_here_is_recorded_through_the_api_against_the_here_estimate(app_client, profile):
    rec = _post(app_client, profile).json()
    (here,) = [r for r in rec["here"] if r["seconds"] is not None]
    outcome = app_client.post(f"/v1/recommendations/{rec['id']}/outcome",
                              json={"actual_seconds": here["seconds"] * 2, "instance_type": "here"}, headers=auth())
    assert outcome.status_code == 201, outcome.text
    assert outcome.json()["instance_type"] == f"here:{here['device']}"
    rows = app_client.get("/v1/compare", headers=auth()).json()["rows"]
    assert [(r["instance_type"], r["predicted_seconds"], r["error_pct"]) for r in rows] == [
        (f"here:{here['device']}", here["seconds"], pytest.approx(-50.0))]
    missing = app_client.post(f"/v1/recommendations/{rec['id']}/outcome",
                              json={"actual_seconds": 60, "instance_type": "here:cuda:5"}, headers=auth())
    assert missing.status_code == 422  # as an instance that is not a candidate
    assert "is not a device of the machine" in missing.json()["error"]["message"]


def test_no_feasible_candidate_is_409_with_the_nearest_misses(app_client, profile):
    response = _post(app_client, profile, budget=0.000001)
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["type"] == "NoFeasibleCandidateError"
    assert body["recommendation"]["candidates"], "the ranking"
    nearest = body["nearest"]  # NoFeasibleCandidateError.nearest, nearest first: the client's error has them too
    assert len(nearest) == 3 and all(not c["meets_constraints"] for c in nearest)
    assert nearest[0]["total_seconds"] > 0 and {"provider", "instance_type", "cost_usd"} <= set(nearest[0])
    assert app_client.get("/v1/history", headers=auth()).json()["entries"] == []  # nothing stored


def test_a_prediction_returns_the_json_contract(app_client, profile):
    response = app_client.post("/v1/predictions", json={
        "profile": profile, "dataset_size": 50000, "epochs": 2, "batch_size": 512,
        "target": {"kind": "gpu", "gpu": "A100-80GB", "count": 4}}, headers=auth())
    assert response.status_code == 200, response.text
    est = response.json()
    assert est["target"] == {"kind": "gpu", "gpu": "A100-80GB", "count": 4}
    assert est["method"] == "scaled" and 0 < est["low"] <= est["seconds"] <= est["high"]
    cpu = app_client.post("/v1/predictions", json={"profile": profile, "dataset_size": 50000, "epochs": 2,
                                                    "batch_size": 512, "target": "cpu"}, headers=auth()).json()
    assert cpu["method"] == "measured" and cpu["target"]["kind"] == "cpu"


def test_the_catalog_filters_like_pricing_list(app_client):
    data = app_client.get("/v1/catalog", params={"gpu": "H100", "max_price": 200}, headers=auth()).json()
    assert data["count"] == len(data["offers"]) > 0
    assert all("H100" in o["gpu"] and o["price_usd_per_hour"] <= 200 for o in data["offers"])
    prices = [o["price_usd_per_hour"] for o in data["offers"]]
    assert prices == sorted(prices)


def test_the_catalog_dates_spot_prices_as_pricing_list_json_does(app_client):
    """pricing list --json gave each offer spot_snapshot_date (None for the undated AWS spot prices); the
    service's listing of the same offers lacked it."""
    from typer.testing import CliRunner

    from advisor.cli.app import build_app

    served = app_client.get("/v1/catalog", params={"provider": "aws", "gpu": "T4"}, headers=auth()).json()
    listed = json.loads(CliRunner().invoke(build_app(), ["pricing", "list", "--provider", "aws", "--gpu", "T4",
                                                         "--json"]).output)
    by_type = {o["instance_type"]: o for o in listed["offers"]}
    assert served["offers"] and all("spot_snapshot_date" in o for o in served["offers"])
    assert all(o["spot_snapshot_date"] == by_type[o["instance_type"]]["spot_snapshot_date"] for o in served["offers"])
    assert any(o["spot_price_usd_per_hour"] is not None and o["spot_snapshot_date"] is None for o in served["offers"])


def test_the_catalog_does_not_read_a_gpu_name_as_another_model_that_starts_with_it(app_client):
    # ?gpu=L40 listed L40S offers (a different, faster card), as pricing list --gpu L40 did.
    response = app_client.get("/v1/catalog", params={"gpu": "L40"}, headers=auth())
    assert response.status_code == 422, response.text
    assert _error(response)["message"] == "No GPU 'L40' in the catalog. Did you mean 'L40S' or 'L4'?"


# -------------------------------------------------------------------------------------------- web page


def test_the_web_page_needs_a_login_and_sets_a_session_cookie(app_client, profile):
    from advisor.service.security import SESSION_COOKIE

    profile["workload"]["name"] = "<script>alert(1)</script>"
    rec = _post(app_client, profile).json()
    app_client.cookies.clear()
    first = app_client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    bad = app_client.post("/login", content="token=nope", headers={"Content-Type":
                                                                   "application/x-www-form-urlencoded"})
    assert bad.status_code == 401 and SESSION_COOKIE not in app_client.cookies
    good = app_client.post("/login", content=f"token={TOKEN}", follow_redirects=False,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert good.status_code == 303
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    page = app_client.get("/")
    assert page.status_code == 200 and "script-src" not in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'href="/recommendations/{rec["id"]}"' in page.text
    # a filter that matches nothing says so, not "Nothing stored yet." over a history that has rows
    none = app_client.get("/", params={"workload": "<b>other</b>"})
    assert "No stored recommendation of a workload named &lt;b&gt;other&lt;/b&gt;." in none.text
    assert "Nothing stored yet." not in none.text
    detail = app_client.get(f"/recommendations/{rec['id']}")
    assert detail.text.count('<circle') >= len(rec["candidates"]) and 'id="pareto"' in detail.text
    assert "<script>" not in detail.text
    assert f"<p>Here: {html.escape(rec['verdict']['here'], quote=True)}</p>" in detail.text
    # The cookie is no bearer token: the API still wants the header.
    assert app_client.get("/v1/history").status_code == 401


def test_log_out_says_a_copy_of_the_cookie_stays_valid(app_client):
    """The session cookie is checked without any state: logging out deletes it from this browser only, and a copy
    of it still logs in for its 12 h. The logout said nothing of it; its login form now does."""
    from advisor.service.security import SESSION_COOKIE

    good = app_client.post("/login", content=f"token={TOKEN}", follow_redirects=False,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    copied = good.cookies[SESSION_COOKIE]
    out = app_client.get("/logout", follow_redirects=False)
    assert out.status_code == 303 and SESSION_COOKIE not in app_client.cookies
    form = app_client.get(out.headers["location"])
    said = " ".join(form.text.split())
    assert form.status_code == 200 and "Logged out in this browser: its session cookie is deleted." in said
    assert ("a copy of that cookie (another browser profile, a proxy&#x27;s log) stays valid until it expires, 12 h "
            "after the login, or until its token is taken off the server&#x27;s ADVISOR_API_TOKENS") in said
    assert "Logged out" not in app_client.get("/login").text  # only after a logout
    app_client.cookies.set(SESSION_COOKIE, copied)
    assert app_client.get("/", follow_redirects=False).status_code == 200  # as it says
