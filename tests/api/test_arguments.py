"""The Python API at its boundary: a wrong argument is one ``AdvisorError`` naming it, its value and what is
accepted (never a TypeError, a pydantic ValidationError, or a wrong value quietly read as something else); text
with a NUL character, which PostgreSQL cannot store, is refused where it comes in; and the README's promise
about the API's objects and the CLI's ``--json`` holds."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

import advisor
from advisor.api import load_profile
from advisor.cli.app import build_app
from advisor.errors import ConfigError, ProbeError, WorkloadError
from advisor.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PROFILE_FILE = REPO / "tests" / "hostile" / "data" / "tabular_profile.json"
POSTGRES_URL = os.environ.get("ADVISOR_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
JOB = {"dataset_size": 20_000, "epochs": 2}


@pytest.fixture(scope="module")
def prof():
    return load_profile(PROFILE_FILE)


def _with_text(path: Path, text: str, *where: str | int) -> Path:
    """The saved profile with ``text`` at ``where`` (keys and list indices), written to ``path`` as JSON (ASCII: a
    lone surrogate is a \\ud800 escape, as a JSON file can hold it)."""
    data = json.loads(PROFILE_FILE.read_text())
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = text
    path.write_text(json.dumps(data))
    return path


def _with_nul(tmp_path: Path, *where: str | int) -> Path:
    """The saved profile with a NUL in the text at ``where``, as a file."""
    return _with_text(tmp_path / "nul.json", "a\x00b", *where)


# ------------------------------------------------------------------------------------------ wrong types


@pytest.mark.parametrize("source", [42, 1.5, None, ["model.py"], {"workload": {}}])
def test_a_source_of_the_wrong_type_is_a_workload_error(prof, source):
    for call in (advisor.recommend, advisor.predict):
        with pytest.raises(WorkloadError) as caught:
            call(source, save=False, **JOB)
        assert caught.value.message == f"Cannot predict from {source!r} (type {type(source).__name__})."
        assert "a Profile or a profile .json path" in caught.value.hint


@pytest.mark.parametrize("top", ["3", 1.5, 0, -2, True, None, [3]])
def test_top_must_be_a_positive_whole_number(prof, top):
    with pytest.raises(ConfigError) as caught:
        advisor.recommend(prof, save=False, top=top, **JOB)
    assert caught.value.message == f"top= must be a whole number, 1 or more, got {top!r}."  # the parameter
    assert caught.value.cli_message == f"--top must be a whole number, 1 or more, got {top!r}."


def test_top_as_an_integral_float_is_taken(prof):
    rec = advisor.recommend(prof, save=False, top=3.0, **JOB)
    assert rec.constraints.top == 3 and isinstance(rec.constraints.top, int)
    assert len(rec.candidates) == 3


@pytest.mark.parametrize("target", [5, -3, ["x"], 1.5, b"cpu", True, "", "   "])
def test_a_target_that_names_nothing_is_refused_not_read_as_the_cpu(prof, target):
    with pytest.raises(ConfigError) as caught:
        advisor.predict(prof, target=target, **JOB)
    assert caught.value.message.startswith("target must be advisor.Target.cpu(threads), advisor.Target.gpu(NAME, "
                                           "COUNT), \"cpu\" or a GPU name")
    assert f"got {target!r} ({type(target).__name__})" in caught.value.message


def test_the_ways_to_name_a_target_still_work(prof):
    assert advisor.predict(prof, target="cpu", **JOB).target.kind == "cpu"
    assert advisor.predict(prof, target=advisor.Target.cpu(2), **JOB).target.threads == 2
    gpu = advisor.predict(prof, target="A100-80GB", **JOB).target
    assert (gpu.kind, gpu.gpu_name, gpu.count) == ("gpu", "A100-80GB", 1)


def test_an_objective_of_the_wrong_type_is_a_config_error(prof):
    with pytest.raises(ConfigError, match=r"Unknown objective 5\."):
        advisor.recommend(prof, save=False, objective=5, **JOB)


def test_mixed_precision_is_bf16_and_the_hint_says_so(prof):
    gpu = advisor.Target.gpu("A100-80GB", 2)
    mixed = advisor.predict(prof, target=gpu, precision="mixed", **JOB)
    bf16 = advisor.predict(prof, target=gpu, precision="bf16", **JOB)
    assert mixed.precision == bf16.precision == "bf16" and mixed.seconds == bf16.seconds
    with pytest.raises(ConfigError) as caught:
        advisor.predict(prof, target=gpu, precision="fp8", **JOB)
    assert caught.value.hint == "Fix: use one of fp32, tf32, bf16, fp16, or mixed (= bf16)."


# ----------------------------------------------------------------------------------------------- NUL


@pytest.mark.parametrize(("where", "field"), [
    (("workload", "name"), "workload.name"), (("devices", 0, "name"), "devices.0.name"),
    (("host", "hostname"), "host.hostname"), (("notes",), "notes"),
    (("analysis", "ops", 3, "op"), "analysis.ops.3.op"),
])
def test_a_profile_file_with_a_nul_is_a_probe_error_naming_the_field(tmp_path, where, field):
    if where == ("notes",):
        data = json.loads(PROFILE_FILE.read_text())
        data["notes"] = ["fine", "a\x00b"]
        path = tmp_path / "nul.json"
        path.write_text(json.dumps(data))
    else:
        path = _with_nul(tmp_path, *where)
    with pytest.raises(ProbeError) as caught:
        advisor.recommend(path, save=False, **JOB)
    assert f"{field} contains a NUL character (\\x00); remove it" in caught.value.message
    assert caught.value.hint.startswith("Fix: pass a file written by `advisor profile")


@pytest.mark.parametrize(("where", "field"), [(("workload", "name"), "workload.name"),
                                              (("devices", 0, "name"), "devices.0.name")])
def test_a_profile_file_with_a_lone_surrogate_is_one_message_naming_the_field(tmp_path, where, field):
    """It was accepted, and `recommend` died printing it with a UnicodeEncodeError and a traceback."""
    path = _with_text(tmp_path / "surrogate.json", "small\ud800cnn", *where)
    with pytest.raises(ProbeError) as caught:
        advisor.recommend(path, save=False, **JOB)
    expected = (f"{path}: not a valid advisor profile: {field} contains a lone surrogate (a \\ud800-\\udfff escape "
                "that is not half of a pair), which is not text.")
    assert caught.value.message == expected
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(path), "--no-save", "-q"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{field} contains a lone surrogate" in " ".join(result.output.split())


def test_a_workload_name_or_path_with_a_nul_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(WorkloadError) as caught:  # refused where it is given, as --name refuses it
        advisor.Workload(model=lambda: None, make_batch=lambda b: None, name="a\x00b")
    assert caught.value.message == ("advisor.Workload(name=...): a workload's name must not hold a control character "
                                    "(a tab, a newline, an escape...): 'a\\x00b'.")
    for path in ("model\x00.py", tmp_path / "profile\x00.json"):
        with pytest.raises(WorkloadError, match="The workload's path .* contains a NUL character"):
            advisor.recommend(path, save=False, **JOB)


def test_profiles_and_results_without_a_nul_load_as_before(prof):
    assert prof.workload.name == "tabular_mlp"
    rec = advisor.recommend(prof, save=False, **JOB)
    assert rec.candidates and rec.workload.name == "tabular_mlp"


@pytest.fixture
def pg_history():
    """A PostgreSQL history in a fresh schema (dropped afterwards); skipped when the server is unreachable."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        schema = f"advisor_api_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # noqa: BLE001 - skipped with the reason
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is unreachable")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_a_nul_profile_with_a_postgresql_history_is_one_message(tmp_path, pg_history, monkeypatch):
    path = _with_nul(tmp_path, "workload", "name")
    with pytest.raises(ProbeError, match=r"workload\.name contains a NUL character"):
        advisor.recommend(path, settings=Settings(database_url=pg_history), **JOB)
    monkeypatch.setenv("ADVISOR_DATABASE_URL", pg_history)
    result = CliRunner().invoke(build_app(), ["recommend", "--profile", str(path), "--epochs", "2"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "ValueError" not in result.output
    assert "workload.name contains a NUL character (\\x00); remove it" in result.output
    # The same profile without the NUL is stored in that history.
    rec = advisor.recommend(PROFILE_FILE, settings=Settings(database_url=pg_history), **JOB)
    assert rec.id is not None


# -------------------------------------------------------------------------------------- the CLI's JSON


def test_json_contract_is_what_predict_json_prints():
    est = advisor.predict(PROFILE_FILE, target=advisor.Target.gpu("A100-80GB", 4), **JOB)
    result = CliRunner().invoke(build_app(), ["predict", "--profile", str(PROFILE_FILE), "--gpu", "A100-80GB",
                                              "--gpus", "4", "--dataset-size", "20000", "--epochs", "2", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["target"] == {"kind": "gpu", "gpu": "A100-80GB", "count": 4}
    # The CLI saves (and says where); the API saves only with save=True.
    assert isinstance(printed.pop("history_id"), int) and est.history_id is None
    # A GPU model you would rent: the CLI adds its paid start-up (--startup-gpu) and the total the text shows.
    startup = Settings.from_env().startup_seconds_gpu
    assert (printed["instance_startup_seconds"], printed["total_seconds"]) == (startup, startup + est.seconds)
    contract = est.json_contract(instance_startup_seconds=startup)
    assert printed == {k: v for k, v in json.loads(json.dumps(contract)).items() if k != "history_id"}
    assert "total_seconds" not in est.json_contract()
    # model_dump is the object's own shape, which the README says apart.
    assert est.model_dump(mode="json")["target"]["gpu_name"] == "A100-80GB"


@pytest.mark.parametrize("make, message", [
    (lambda: advisor.Target.gpu("H100", 0), "Target.gpu: count input should be greater than or equal to 1, got 0."),
    (lambda: advisor.Target.cpu(0), "Target.cpu: threads input should be greater than or equal to 1, got 0."),
])
def test_a_target_built_with_a_bad_count_is_a_config_error_not_pydantics(make, message):
    with pytest.raises(ConfigError) as caught:
        make()
    assert caught.value.message == message


@pytest.mark.parametrize("fields, message", [
    ({"kind": "gpu"}, "Target.gpu's name must be a GPU model's name, got None."),
    ({"kind": "gpu", "gpu": "  "}, "Target.gpu's name must be a GPU model's name, got '  '."),
    ({"kind": "cpu", "gpu_name": "H100", "count": 4}, "A CPU target takes no GPU name, GPU count or peer_to_peer, "
                                                      "got gpu='H100', count=4, peer_to_peer=None."),
    ({"kind": "cpu", "count": 2}, "A CPU target takes no GPU name, GPU count or peer_to_peer, got gpu=None, "
                                  "count=2, peer_to_peer=None."),
])
def test_a_target_missing_or_mixing_its_kinds_fields_is_refused_when_built(fields, message):
    # Target(kind="gpu") was accepted, then predict crashed with AttributeError; a CPU target dropped a GPU count.
    with pytest.raises(ConfigError) as caught:
        advisor.Target(**fields)
    assert caught.value.message == message and caught.value.hint.startswith("Fix: ")


@pytest.mark.parametrize(("make", "message"), [
    (lambda: advisor.Target.gpu("H100", True), "Target.gpu: count input should be a valid integer, got True."),
    (lambda: advisor.Target.gpu("H100", "2"), "Target.gpu: count input should be a valid integer, got '2'."),
    (lambda: advisor.Target.cpu(True), "Target.cpu: threads input should be a valid integer, got True."),
    (lambda: advisor.Target.cpu("4"), "Target.cpu: threads input should be a valid integer, got '4'."),
])
def test_a_target_count_is_a_whole_number_not_a_boolean_or_a_string(make, message):
    # Target.gpu("H100", True) was 1 GPU and "2" was 2, where predict(dataset_size=True) and profiles refuse them.
    with pytest.raises(ConfigError) as caught:
        make()
    assert caught.value.message == message


@pytest.mark.parametrize("value", ["no", "yes", "false", 0, 1])
def test_a_target_peer_to_peer_is_true_or_false_not_a_word_or_a_number(value):
    # Target.gpu("A100-80GB", 2, "no") was peer_to_peer=False (pydantic's lax bool), where the service refuses it.
    with pytest.raises(ConfigError) as caught:
        advisor.Target.gpu("A100-80GB", 2, value)
    assert caught.value.message == ("Target.gpu: peer_to_peer input should be True or False (None: the card's own "
                                    f"guess), got {value!r}.")
    assert "peer_to_peer=False" in caught.value.hint
    assert [advisor.Target.gpu("A100-80GB", 2, p2p).peer_to_peer for p2p in (True, False, None)] == [True, False, None]


def test_a_cpu_target_past_this_machine_is_probed_on_its_cpus_and_scaled(tmp_path, monkeypatch):
    # predict --device cpu --threads 4096 is a what-if: the probe ran at 100000 threads (libgomp refused
    # them) and its profile said so; now `profile --threads` refuses that, so the what-if probes on what is here.
    asked = {}

    def probe(source, **kwargs):
        asked.update(kwargs)
        raise ProbeError("stop here: the probe's arguments are the test's")

    monkeypatch.setattr("advisor.probe.run_profile", probe)
    monkeypatch.setattr("advisor.hardware.cpu.usable_logical_cpus", lambda: 2)
    path = tmp_path / "w.py"
    path.write_text("def build_model(): ...\ndef make_batch(batch_size): ...\n")
    for threads, probed in ((4096, 2), (1, 1)):
        with pytest.raises(ProbeError, match="stop here"):
            advisor.predict(path, target=advisor.Target.cpu(threads), batch_size=8, save=False, **JOB)
        assert asked["threads"] == probed


# ------------------------------------------------------------------ an argument of the wrong type


@pytest.mark.parametrize(("call", "named"), [
    (lambda: advisor.profile(REPO / "examples" / "tabular_mlp.py", batch_sizes="8,16"),
     "batch_sizes must be a list, got '8,16' (str)"),
    (lambda: advisor.profile(REPO / "examples" / "tabular_mlp.py", devices=5),
     "devices must be a device name or a list of them"),
    (lambda: advisor.Target.gpu(None, 1), "Target.gpu's name must be a GPU model's name, got None"),
    (lambda: advisor.History(5), "The history database URL must be a string, got 5 (int)"),
    (lambda: advisor.Client(5), "The server's URL must be a string, got 5 (int)"),
])
def test_an_argument_of_the_wrong_type_is_an_advisor_error_naming_it(call, named):
    with pytest.raises(advisor.AdvisorError) as caught:
        call()
    assert named in caught.value.message and caught.value.hint.startswith("Fix: e.g.")


def test_a_lone_pricing_file_is_one_file_not_its_characters(prof, tmp_path):
    rates = tmp_path / "mine.csv"
    rates.write_text("provider,instance_type,region,vcpus,memory_gib,gpu_model,gpu_count,price_hour_usd\n"
                     "mycloud,box-1,here-1,8,32,,0,0.05\n")
    rec = advisor.recommend(prof, **JOB, pricing_files=str(rates), save=False, providers="mycloud")
    assert rec.chosen.instance_type == "box-1"


def test_the_local_api_takes_the_ranges_a_server_does(prof):
    """A target or an outcome the service refuses is refused here too, with the same bound."""
    with pytest.raises(ConfigError, match="4096"):
        advisor.predict(prof, **JOB, batch_size=16, target=advisor.Target.cpu(10_000_000))
    with pytest.raises(ConfigError, match="65536"):
        advisor.Target.gpu("T4", 100_000)
    with pytest.raises(advisor.AdvisorError, match=r"is more than 31 years \(1e9 s\)"):
        advisor.api.record_outcome(1, 1e300, force=True)
    for tiny in (1e-300, 5e-324, 0.0005):  # "10^300 x shorter" was the message; the service refuses it too
        with pytest.raises(advisor.AdvisorError, match="less than a millisecond"):
            advisor.api.record_outcome(1, tiny, force=True)


@pytest.mark.parametrize(("call", "named"), [
    # "false" is true in Python: the recommendation was saved.
    (lambda p: advisor.recommend(p, **JOB, save="false"), "save is True or False, got 'false'"),
    (lambda p: advisor.predict(p, **JOB, save="no"), "save is True or False, got 'no'"),
    (lambda p: advisor.recommend(p, **JOB, spot="yes", save=False), "spot is True or False"),
    (lambda p: advisor.profile(REPO / "examples" / "tabular_mlp.py", analyze="no"), "analyze is True or False"),
    (lambda p: advisor.profile(REPO / "examples" / "tabular_mlp.py", progress="x"), "progress must be a function"),
    (lambda p: advisor.recommend(p, **JOB, before_save="x", save=False),
     "before_save must be a function, got 'x'.\nFix: before_save=None, or before_save=callback(recommendation)"),
    (lambda p: advisor.recommend(p, **JOB, pricing_files=5, save=False), "pricing_files is a list of rate-file"),
    (lambda p: advisor.profile(p), "advisor.profile was given a Profile: it is already probed"),
    (lambda p: advisor.Workload(object(), lambda b: None, name=5), "a workload's name must be text, not int: 5"),
    (lambda p: advisor.recommend(p, **JOB, settings="x", save=False), "settings must be an advisor Settings"),
    (lambda p: advisor.recommend(p, **JOB, history="x", save=False), "history must be an advisor History"),
    (lambda p: advisor.predict(p, **JOB, settings="x"), "settings must be an advisor Settings (or None), got 'x'"),
])
def test_a_switch_a_callback_or_a_source_of_the_wrong_kind_is_refused_before_anything_runs(prof, tmp_path,
                                                                                          monkeypatch, call, named):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    with pytest.raises(advisor.AdvisorError) as caught:
        call(prof)
    assert named in str(caught.value) and caught.value.hint.startswith("Fix:")
    assert not (tmp_path / "h.db").exists()  # nothing saved


def test_profile_takes_mixed_as_bf16_as_predict_does(monkeypatch):
    """`profile --precision mixed` and advisor.profile(precision="mixed") were "unknown precision 'mixed'"."""
    import advisor.probe

    asked = []
    monkeypatch.setattr(advisor.probe, "run_profile",
                        lambda source, **kw: asked.append(kw) or load_profile(PROFILE_FILE))
    example = REPO / "examples" / "tabular_mlp.py"
    advisor.profile(example, precision="mixed", devices=["cpu"], probe_seconds=5)
    advisor.profile(example, precision="fp32", analysis_precision="mixed", devices=["cpu"], probe_seconds=5)
    result = CliRunner().invoke(build_app(), ["profile", str(example), "--precision", "mixed", "--device", "cpu",
                                              "--probe-seconds", "5", "--json"])
    assert result.exit_code == 0, result.output
    assert [(kw["precision"], kw["analysis_precision"]) for kw in asked] == [("bf16", None), ("fp32", "bf16"),
                                                                             ("bf16", None)]
    monkeypatch.undo()  # the probe's own check of the precision, before anything runs
    with pytest.raises(ConfigError) as caught:
        advisor.profile(example, precision="fp8", devices=["cpu"], probe_seconds=5)
    assert caught.value.hint == "Fix: use one of fp32, tf32, bf16, fp16, or mixed (= bf16)."
