"""What the service and ``advisor.Client`` make of bad input: text with a NUL character (which PostgreSQL cannot
store) is a 422 naming the field, never a 500; precision "mixed" means bf16 as in the local API; and the client
raises only ``AdvisorError``s, an argument the server would refuse before anything is sent."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from service_helpers import PROFILE_FILE, TOKEN, Server, auth, in_process_app, unsent

import advisor
from advisor.errors import ConfigError, HistoryError, WorkloadError
from advisor.service.client import Client, ServiceError

JOB = {"dataset_size": 20000, "epochs": 2}
NUL_PROBLEM = "contains a NUL character (\\x00); remove it (no name, path or note has one)"


def _with_nul(profile: dict, *where: str | int) -> dict:
    node = profile
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "a\x00b"
    return profile


def _refused(response, field: str) -> None:
    """A 422 whose message and ``fields`` name ``field`` and the NUL, without a traceback."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "ValidationError"
    assert error["fields"][0] == {"field": field, "problem": NUL_PROBLEM}
    assert error["message"].startswith(f"Invalid request: {field}: {NUL_PROBLEM}")
    assert error["hint"].startswith("Fix:") and "Traceback" not in response.text



# ----------------------------------------------------------------------------------------------- NUL


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/history?workload=a%00b", "query.workload"), ("/v1/compare?workload=a%00b", "query.workload"),
    ("/v1/history?since=7d%00", "query.since"), ("/v1/catalog?provider=aws%00", "query.provider"),
])
def test_a_nul_in_query_text_is_422_naming_the_parameter(app_client, path, field):
    _refused(app_client.get(path, headers=auth()), field)


@pytest.mark.parametrize("route", ["/v1/recommendations", "/v1/predictions"])
@pytest.mark.parametrize(("where", "field"), [
    (("workload", "name"), "profile.workload.name"), (("devices", 0, "name"), "profile.devices.0.name"),
    (("host", "hostname"), "profile.host.hostname"), (("analysis", "ops", 0, "op"), "profile.analysis.ops.0.op"),
])
def test_a_nul_in_a_profile_is_422_naming_the_field(app_client, profile, route, where, field):
    response = app_client.post(route, json={"profile": _with_nul(profile, *where), **JOB}, headers=auth())
    _refused(response, field)


@pytest.mark.parametrize(("route", "fields", "field"), [
    ("/v1/predictions", {"target": "A100\x00"}, "target"),
    ("/v1/predictions", {"target": {"kind": "gpu", "gpu": "A100\x00"}}, "target.gpu"),
    ("/v1/recommendations", {"regions": ["us-east-1", "x\x00"]}, "regions"),
    ("/v1/recommendations", {"deadline": "6h\x00"}, "deadline"),
])
def test_a_nul_in_a_request_field_is_422_naming_it(app_client, profile, route, fields, field):
    _refused(app_client.post(route, json={"profile": profile, **JOB, **fields}, headers=auth()), field)


def test_a_nul_in_an_outcome_is_422_and_nothing_is_recorded(app_client, profile):
    created = app_client.post("/v1/recommendations", json={"profile": profile, **JOB}, headers=auth())
    rec_id = created.json()["id"]
    response = app_client.post(f"/v1/recommendations/{rec_id}/outcome", headers=auth(),
                               json={"actual_seconds": 60, "instance_type": "m5\x00"})
    _refused(response, "instance_type")
    assert app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"] == []


@pytest.mark.postgres
def test_on_postgresql_a_nul_is_422_and_the_server_goes_on(pg_url, profile):
    with in_process_app(pg_url) as client:
        _refused(client.get("/v1/history?workload=a%00b", headers=auth()), "query.workload")
        _refused(client.get("/v1/compare?workload=a%00b", headers=auth()), "query.workload")
        for route in ("/v1/recommendations", "/v1/predictions"):
            for where in (("workload", "name"), ("devices", 0, "name"), ("host", "hostname")):
                body = {"profile": _with_nul(json.loads(json.dumps(profile)), *where), **JOB}
                _refused(client.post(route, json=body, headers=auth()), "profile." + ".".join(map(str, where)))
        created = client.post("/v1/recommendations", json={"profile": profile, **JOB}, headers=auth())
        assert created.status_code == 201, created.text
        _refused(client.post(f"/v1/recommendations/{created.json()['id']}/outcome", headers=auth(),
                             json={"actual_seconds": 60, "instance_type": "m5\x00"}), "instance_type")
        assert [e["id"] for e in client.get("/v1/history", headers=auth()).json()["entries"]] == [
            created.json()["id"]]


@pytest.mark.postgres
def test_a_real_server_keeps_the_connection_after_a_nul(tmp_path, pg_url, profile):
    """uvicorn closed the connection after each 500; a 422 leaves it open for the client's next request."""
    with Server(tmp_path, database_url=pg_url) as server, httpx.Client(base_url=server.url, headers=auth(),
                                                                       timeout=60) as http:
        first = http.get("/v1/history", params={"workload": "a\x00b"})
        assert first.status_code == 422 and first.headers.get("connection") != "close"
        body = {"profile": _with_nul(profile, "workload", "name"), **JOB}
        assert http.post("/v1/predictions", json=body).status_code == 422
        assert http.get("/v1/history").status_code == 200
    assert "unexpected error" not in server.log


# ---------------------------------------------------------------------------------------- lone surrogates

SURROGATE_PROBLEM = ("contains a lone surrogate (a \\ud800-\\udfff escape that is not half of a pair), which is "
                     "not text; remove it, or send the character itself as UTF-8")


def _post_escaped(client, route: str, body: dict):
    """``body`` as JSON with every non-ASCII character escaped (``\\ud800``): valid UTF-8 whatever it holds."""
    return client.post(route, content=json.dumps(body, ensure_ascii=True).encode(), headers={
        **auth(), "Content-Type": "application/json"})


@pytest.mark.parametrize(("route", "save"), [("/v1/recommendations", True), ("/v1/predictions", True),
                                             ("/v1/recommendations", False), ("/v1/predictions", False)])
@pytest.mark.parametrize(("where", "text", "field"), [
    (("workload", "name"), "a\ud800b", "profile.workload.name"), (("devices", 0, "name"), "\udfff",
                                                                   "profile.devices.0.name"),
    (("notes",), ["fine", "x\udc80"], "profile.notes.1"),
])
def test_a_lone_surrogate_in_a_profile_is_422_naming_the_field(app_client, profile, route, save, where, text, field):
    node = profile
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = text
    response = _post_escaped(app_client, route, {"profile": profile, **JOB, "save": save})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "ValidationError" and error["fields"][0] == {"field": field, "problem": SURROGATE_PROBLEM}
    assert error["message"].startswith(f"Invalid request: {field}: {SURROGATE_PROBLEM}")
    assert app_client.get("/v1/history", headers=auth()).json()["entries"] == []


def test_a_lone_surrogate_in_a_request_field_is_422_and_a_whole_pair_is_text(app_client, profile):
    response = _post_escaped(app_client, "/v1/recommendations", {"profile": profile, **JOB, "regions": ["x\ud800"]})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0] == {"field": "regions.0", "problem": SURROGATE_PROBLEM}
    profile["workload"]["name"] = "mlp \U0001f600"  # sent as the pair \ud83d\ude00: one character, stored as it is
    created = _post_escaped(app_client, "/v1/recommendations", {"profile": profile, **JOB})
    assert created.status_code == 201, created.text
    rec_id = created.json()["id"]
    outcome = _post_escaped(app_client, f"/v1/recommendations/{rec_id}/outcome",
                            {"actual_seconds": 60, "instance_type": "m5\udbff"})
    assert outcome.status_code == 422
    assert outcome.json()["error"]["fields"][0] == {"field": "instance_type", "problem": SURROGATE_PROBLEM}
    assert app_client.get(f"/v1/recommendations/{rec_id}", headers=auth()).json()["outcomes"] == []
    assert app_client.get("/v1/history", headers=auth()).json()["entries"][0]["workload"] == "mlp \U0001f600"


# ---------------------------------------------------------------------------------------- unreadable bodies


@pytest.mark.parametrize(("route", "body", "headers", "problem", "fix"), [
    ("/v1/recommendations", b'{"profile": "\xff\xfe"}', {}, "is not UTF-8 text (byte 13 is not valid UTF-8)",
     "encoded as UTF-8"),
    ("/v1/predictions", b"[" * 20000 + b"]" * 20000, {}, "nests arrays or objects too deeply to be read",
     "as the CLI writes it"),
    ("/v1/recommendations/1/outcome", gzip.compress(b'{"actual_seconds": 60}'), {"Content-Encoding": "gzip"},
     "is compressed (Content-Encoding: gzip), which this server does not read", "without a Content-Encoding"),
])
def test_a_body_that_cannot_be_read_is_422_saying_what_is_wrong(app_client, route, body, headers, problem, fix):
    response = app_client.post(route, content=body, headers={**auth(), "Content-Type": "application/json", **headers})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "ValidationError" and error["message"] == f"Invalid request: body: {problem}."
    assert error["fields"] == [{"field": "body", "problem": problem}]
    assert error["hint"].startswith("Fix: ") and fix in error["hint"] and error["request_id"]


# ------------------------------------------------------------------------------------- mixed precision


def test_mixed_precision_is_bf16_in_the_service_as_in_the_api(app_client, profile):
    target = {"kind": "gpu", "gpu": "A100-80GB", "count": 2}
    answers = {}
    for precision in ("mixed", "MIXED", "bf16"):
        response = app_client.post("/v1/predictions", headers=auth(), json={
            "profile": profile, **JOB, "target": target, "precision": precision, "save": False,
            "use_history": False})
        assert response.status_code == 200, response.text
        answers[precision] = response.json()
    assert {a["precision"] for a in answers.values()} == {"bf16"}
    assert answers["mixed"]["seconds"] == answers["bf16"]["seconds"] == answers["MIXED"]["seconds"]
    local = advisor.predict(PROFILE_FILE, **JOB, target=advisor.Target.gpu("A100-80GB", 2), precision="mixed",
                            use_history=False)
    assert answers["mixed"]["seconds"] == local.seconds
    rec = app_client.post("/v1/recommendations", headers=auth(),
                          json={"profile": profile, **JOB, "precision": "mixed", "save": False})
    assert rec.status_code == 200, rec.text
    assert rec.json()["constraints"]["precision"] == "bf16"
    bad = app_client.post("/v1/predictions", headers=auth(), json={"profile": profile, "precision": "fp8"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["problem"] == "Input should be 'fp32', 'tf32', 'bf16', 'fp16' or 'mixed'"


@pytest.mark.parametrize("field", ["epochs", "dataset_size", "batch_size"])
def test_a_boolean_job_count_is_422_not_read_as_one(app_client, profile, field):
    response = app_client.post("/v1/predictions", headers=auth(), json={
        "profile": profile, **{**JOB, field: True}, "save": False, "use_history": False})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0] == {"field": field,
                                                     "problem": "Input should be a whole number, not true or false"}


def test_the_openapi_schema_lists_mixed(app_client):
    spec = app_client.get("/openapi.json").json()["components"]["schemas"]["PredictionRequest"]
    assert "mixed" in spec["properties"]["precision"]["anyOf"][0]["enum"]


# ------------------------------------------------------------------------------------------- the client




def test_the_client_predicts_in_mixed_precision_as_the_api_does(client):
    target = advisor.Target.gpu("A100-80GB", 2)
    remote = client.predict(PROFILE_FILE, **JOB, target=target, precision="mixed", save=False, use_history=False)
    local = advisor.predict(PROFILE_FILE, **JOB, target=target, precision="mixed", use_history=False)
    assert remote.precision == local.precision == "bf16" and remote.seconds == local.seconds


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda c: c.recommend(PROFILE_FILE, epochs=0), WorkloadError, "epochs must be a positive whole number, got 0"),
    (lambda c: c.recommend(PROFILE_FILE, top=0), ConfigError, "top= must be a whole number, 1 or more, got 0."),
    (lambda c: c.recommend(PROFILE_FILE, precision="fp8"), ConfigError, "Invalid precision: Input should be 'fp32', "
                                                                        "'tf32', 'bf16', 'fp16' or 'mixed' (got "
                                                                        "'fp8')."),
    (lambda c: c.recommend(PROFILE_FILE, objective="fastest"), ConfigError, "Unknown objective 'fastest'."),
    (lambda c: c.recommend(PROFILE_FILE, providers=["aws\x00"]), ConfigError, f"Invalid providers: {NUL_PROBLEM} "
                                                                              "(got ['aws\\x00'])."),
    (lambda c: c.recommend(42), WorkloadError, "Cannot predict from 42 (type int)."),
    (lambda c: c.predict(PROFILE_FILE, target=5), ConfigError, "target must be advisor.Target.cpu(threads)"),
    (lambda c: c.predict(PROFILE_FILE, batch_size=1.5), WorkloadError, "batch size must be a positive whole"),
    (lambda c: c.record_outcome(1, 0), HistoryError,
     "actual_seconds= must be a positive duration, got 0 (0 only for a run recorded as failed, failed=True)."),
    (lambda c: c.record_outcome(1, 60, instance_type="m5\x00"), ConfigError, f"Invalid instance_type: {NUL_PROBLEM}"),
    (lambda c: c.show("abc"), ConfigError, "A recommendation id is a positive whole number, got 'abc'."),
    (lambda c: c.record_outcome(-1, 60), ConfigError, "A recommendation id is a positive whole number, got -1."),
])
def test_a_bad_argument_is_an_advisor_error_before_anything_is_sent(call, error, message):
    with Client("http://127.0.0.1", TOKEN, transport=unsent()) as api, pytest.raises(error) as caught:
        call(api)
    assert type(caught.value) is error
    assert caught.value.message.startswith(message), caught.value.message
    assert caught.value.hint.startswith("Fix:")


def test_what_the_server_refuses_is_an_advisor_error(client):
    with pytest.raises(ServiceError) as caught:
        client.list(workload="a\x00b")
    assert caught.value.status == 422 and NUL_PROBLEM in caught.value.message


@pytest.mark.parametrize(("value", "shown"), [("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("-1", "-1.0")])
def test_a_max_price_that_is_no_price_is_refused_saying_why(app_client, client, value, shown):
    # nan was refused as "Input should be greater than or equal to 0": the route's own check never saw it
    response = app_client.get("/v1/catalog", params={"max_price": value}, headers=auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["type"], error["message"], error["hint"]) == (
        "ConfigError", f"max_price must be a finite number of US$ per hour, 0 or more, got {shown}.",
        "Fix: e.g. max_price=5.")
    with pytest.raises(ConfigError, match="must be a finite number of US\\$ per hour, 0 or more"):
        client.catalog(max_price=float(value))
    assert app_client.get("/v1/catalog", params={"max_price": "0"}, headers=auth()).status_code == 200


@pytest.mark.parametrize(("answer", "call"), [
    ({"schema_version": 1, "id": "not an id"}, lambda c: c.recommend(PROFILE_FILE, **JOB)),
    ({"target": "x"}, lambda c: c.predict(PROFILE_FILE, **JOB)),
    ({"entries": "none"}, lambda c: c.list()),
    ({"entries": [{"id": "x"}]}, lambda c: c.list()),
    ({"offers": [{"provider": 1}]}, lambda c: c.catalog()),
])
def test_an_answer_that_is_not_the_object_is_a_service_error(answer, call):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    with Client("http://127.0.0.1", TOKEN, transport=transport) as api, pytest.raises(ServiceError) as caught:
        call(api)
    assert "http://127.0.0.1" in caught.value.message and caught.value.hint.startswith("Fix:")


@pytest.mark.parametrize("call", ["recommend", "predict"])
def test_an_unreachable_server_fails_before_the_workload_is_probed(call, tmp_path):
    """Client.recommend of a workload file ran the whole probe (14.5 s here) before "Cannot reach"."""
    from service_helpers import free_port

    progress: list[str] = []
    with Client(f"http://127.0.0.1:{free_port()}", TOKEN, retries=1) as client:
        with pytest.raises(ServiceError, match="Cannot reach"):
            getattr(client, call)("examples/tabular_mlp.py", dataset_size=2000, epochs=1, probe_seconds=2,
                                  progress=lambda *args: progress.append(str(args)))
    assert progress == []  # nothing probed


def test_a_web_server_that_is_not_advisor_fails_before_the_workload_is_probed():
    """Any answer let the probe run (8.5 s), then "answered HTTP 501 without an advisor error body"."""
    import threading
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    web = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    progress: list[str] = []
    try:
        with Client(f"http://127.0.0.1:{web.server_port}", TOKEN, retries=1) as client:
            with pytest.raises(ServiceError, match="HTTP 404"):
                client.recommend("examples/tabular_mlp.py", dataset_size=2000, epochs=1, probe_seconds=2,
                                 progress=lambda *args: progress.append(str(args)))
    finally:
        web.shutdown()
    assert progress == []


# ----------------------------------------------------------------------------------------------- profile version


@pytest.mark.parametrize("route", ["/v1/recommendations", "/v1/predictions"])
@pytest.mark.parametrize(("version", "problem", "fix"), [
    (2, "profile schema version 2 is newer than this server's advisor understands (1): the profile was written by a "
        "newer advisor than the server runs",
     "Fix: upgrade advisor on the server (pip install -U advisor, then restart `advisor serve`)"),
    (0, "profile schema version 0 is not one advisor writes (versions start at 1; this server's advisor understands "
        "up to 1)",
     'Fix: send "schema_version": 1 (or leave it out), or write the profile with `advisor profile -o FILE`.')])
def test_a_profile_version_out_of_range_says_which_advisor_is_older(app_client, profile, route, version, problem,
                                                                    fix):
    """A newer advisor's profile got pydantic's "less than or equal to 1" and "correct the field": a program calling
    the API after its clients were upgraded was not told the server's advisor is the older one (the CLI reads the
    version before sending and says "upgrade"). Its other problems, perhaps only the old server's, come after."""
    profile["schema_version"] = version
    profile["devices"] = 7
    response = app_client.post(route, json={"profile": profile, **JOB}, headers=auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == f"Invalid request: profile.schema_version: {problem} (and 1 more)."
    assert error["fields"][0] == {"field": "profile.schema_version", "problem": problem}
    assert error["hint"].startswith(fix)
    assert "less than" not in response.text and "greater than" not in response.text
