"""A workload file's DATASET_SIZE, EPOCHS, BATCH_SIZE and NUM_WORKERS of the wrong type or range: one message
naming the file, the constant and its value, before any probe starts (never "no batch size given" after it)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner
from workload_helpers import GOOD_BATCH, GOOD_MODEL, assert_message, write

import advisor.probe
from advisor.cli.app import build_app
from advisor.errors import WorkloadError
from advisor.workload import read_constants, read_defaults, resolve_settings
from advisor.workload.settings import job_settings

BAD = [
    ("BATCH_SIZE", "'sixty-four'", "the batch size", "--batch-size"),
    ("BATCH_SIZE", "12.5", "the batch size", "--batch-size"),
    ("BATCH_SIZE", "-8", "the batch size", "--batch-size"),
    ("BATCH_SIZE", "True", "the batch size", "--batch-size"),
    ("EPOCHS", "'ten'", "the epochs", "--epochs"),
    ("EPOCHS", "0", "the epochs", "--epochs"),
    ("DATASET_SIZE", "'big'", "the dataset size", "--dataset-size"),
]


@pytest.mark.parametrize("const, text, what, flag", BAD)
def test_a_bad_data_constant_names_the_file_the_constant_and_the_value(const, text, what, flag):
    with pytest.raises(WorkloadError) as err:
        resolve_settings({}, read_constants(f"{const} = {text}"), label="w.py")
    assert err.value.message == f"w.py: {const} = {text}: {what} must be a positive whole number."
    assert err.value.hint == (f"Fix: set {const} to a whole number of 1 or more in the workload file, or pass "
                              f"{flag} N (which overrides it).")


def test_an_integral_float_says_to_write_an_int():
    with pytest.raises(WorkloadError) as err:
        resolve_settings({}, read_constants("DATASET_SIZE = 1e6"), label="w.py")
    assert err.value.message == ("w.py: DATASET_SIZE = 1000000.0: the dataset size must be a positive whole number "
                                 "(write 1_000_000, an int, not 1000000.0).")


@pytest.mark.parametrize("const, text, what, flag", BAD)
def test_the_flag_replaces_a_bad_constant(const, text, what, flag):
    keyword = flag[2:].replace("-", "_")
    got = resolve_settings({keyword: 16}, read_constants(f"{const} = {text}"), label="w.py")
    assert got.notes == ()


def test_good_unset_and_unread_constants_pass():
    got = resolve_settings({}, read_constants("import os\nDATASET_SIZE = 10 * 5\nEPOCHS = None\n"
                                              "BATCH_SIZE = int(os.environ['B'])\nNUM_WORKERS = 0"), label="w.py")
    (note,) = got.notes  # only the unread one
    assert note.startswith("w.py: BATCH_SIZE = int(os.environ['B']) could not be read without running the file")


def test_num_workers_is_checked_before_the_probe():
    with pytest.raises(WorkloadError) as err:
        resolve_settings({}, read_constants("NUM_WORKERS = 'many'"), label="w.py")
    assert err.value.message.startswith("w.py: NUM_WORKERS = 'many': the number of data loader worker processes")


def test_job_settings_of_a_file_names_the_file(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "EPOCHS = 'ten'\n")
    with pytest.raises(WorkloadError) as err:
        job_settings(path, {})
    assert_message(err, f"{path}: EPOCHS = 'ten': the epochs must be a positive whole number", "--epochs N")
    assert job_settings(path, {"epochs": 3}).notes == ()


def test_read_defaults_rejects_a_bad_batch_size_and_leaves_out_other_bad_values(tmp_path):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "BATCH_SIZE = -8\n")
    with pytest.raises(WorkloadError) as err:
        read_defaults(path)
    assert_message(err, f"{path}: BATCH_SIZE = -8: the batch size must be a positive whole number", "--batch-size N")
    # EPOCHS is not the probe's: a flag may still replace it, and resolve_settings checks it against the flags.
    path.write_text(GOOD_MODEL + GOOD_BATCH + "EPOCHS = 'ten'\nBATCH_SIZE = 8\n")
    assert read_defaults(path) == {"batch_size": 8}


@pytest.fixture
def no_probe(monkeypatch):
    """Any probe is a test failure: the error must come before one starts."""
    def refuse(*args, **kwargs):
        raise AssertionError("a probe was started")

    monkeypatch.setattr(advisor.probe, "run_profile", refuse)


@pytest.mark.parametrize("body, message", [
    ('BATCH_SIZE = "sixty-four"\n', "BATCH_SIZE = 'sixty-four': the batch size must be a positive whole number."),
    ("BATCH_SIZE = 12.5\n", "BATCH_SIZE = 12.5: the batch size must be a positive whole number."),
    ("BATCH_SIZE = -8\n", "BATCH_SIZE = -8: the batch size must be a positive whole number."),
    ('EPOCHS = "ten"\nBATCH_SIZE = 8\n', "EPOCHS = 'ten': the epochs must be a positive whole number."),
])
@pytest.mark.parametrize("command", ["recommend", "predict"])
def test_the_cli_stops_before_the_probe(tmp_path, no_probe, body, message, command):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + body)
    args = [command, str(path), "--dataset-size", "1000", "--no-save"]
    if not body.startswith("EPOCHS"):
        args += ["--epochs", "1"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 1, result.output
    assert f"{path}: {message}" in result.output
    assert "Traceback" not in result.output and "no batch size given" not in result.output


def test_profile_stops_before_the_probe(tmp_path, no_probe):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "BATCH_SIZE = -8\n")
    out = tmp_path / "p.json"
    result = CliRunner().invoke(build_app(), ["profile", str(path), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert f"{path}: BATCH_SIZE = -8: the batch size must be a positive whole number." in result.output
    assert not out.exists()


def test_a_flag_on_the_command_line_replaces_a_bad_constant(tmp_path, no_probe):
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + 'BATCH_SIZE = "sixty-four"\n')
    result = CliRunner().invoke(build_app(), ["recommend", str(path), "--batch-size", "16", "--dataset-size", "1000",
                                              "--epochs", "1", "--no-save"])
    # Past every check, to the probe (which no_probe refuses).
    assert "BATCH_SIZE" not in result.output
    assert isinstance(result.exception, AssertionError) and "a probe was started" in str(result.exception)


def _in_memory(**defaults):
    import torch

    return advisor.Workload(model=lambda: torch.nn.Linear(4, 1),
                            make_batch=lambda b: (torch.randn(b, 4), torch.randn(b, 1)), name="mine", **defaults)


@pytest.mark.parametrize("keyword, value", [
    ("batch_size", "x"), ("batch_size", -3), ("batch_size", 2.5), ("dataset_size", "many"), ("dataset_size", True),
    ("epochs", 2.5), ("epochs", 0), ("dataset_size", 10**13),
])
@pytest.mark.parametrize("call", ["predict", "recommend"])
def test_an_in_memory_workloads_bad_default_is_named_before_the_probe(no_probe, keyword, value, call):
    given = {k: v for k, v in (("dataset_size", 1000), ("epochs", 1), ("batch_size", 8)) if k != keyword}
    with pytest.raises(WorkloadError) as err:
        getattr(advisor, call)(_in_memory(**{keyword: value}), save=False, **given)
    if value == 10**13:  # the one wording and bound of every job figure past it, as the flags and the file's
        assert_message(err, f"workload 'mine': {keyword}={value!r} is more than 10^12, beyond any real job",
                       "at most 1,000,000,000,000")
        assert f"pass {keyword}=N to the call, with N" in err.value.hint and "--" not in err.value.hint
    else:
        assert_message(err, f"workload 'mine': {keyword}={value!r}: the {keyword.replace('_', ' ')} must be a "
                       "positive whole number", f"{keyword}=N")


@pytest.mark.parametrize("keyword, value, must, flag", [
    ("precision", "int8", "one of fp32, tf32, bf16, fp16, mixed", "precision=P"),
    ("compile", "yes", "True or False", "compile=True / compile=False"),
    ("grad_accum_steps", 0, "a whole number from 1 to 10^12", "grad_accum_steps=N"),
])
def test_an_in_memory_workloads_bad_job_setting_names_its_keyword_not_a_file(no_probe, keyword, value, must, flag):
    """Workload(precision="int8") was told to set PRECISION "in the workload file": there is none."""
    with pytest.raises(WorkloadError) as err:
        advisor.predict(_in_memory(**{keyword: value}), dataset_size=1000, epochs=1, batch_size=8, save=False)
    assert err.value.message == f"workload 'mine': {keyword}={value!r}: must be {must}."
    assert err.value.hint == (f"Fix: give the workload {keyword}= {must}; or pass {flag} to the call, which "
                              "overrides it.")
    assert "workload file" not in str(err.value) and keyword.upper() not in str(err.value)


def test_an_in_memory_workloads_bad_default_is_unused_when_the_call_replaces_it(no_probe):
    with pytest.raises(AssertionError, match="a probe was started"):
        advisor.predict(_in_memory(batch_size="x", epochs="two"), dataset_size=1000, epochs=1, batch_size=8,
                        target="cpu", save=False)


def test_an_in_memory_workloads_whole_number_defaults_are_accepted():
    from advisor.probe.runner import _describe

    label, info = _describe(_in_memory(dataset_size=5e4, epochs=2, batch_size=64.0))
    assert label == "workload 'mine'"
    assert (info.dataset_size, info.epochs, info.batch_size) == (50_000, 2, 64)


# ------------------------------------------------------------------ past the job's bound (10^12), as the flags

PAST_THE_BOUND = [
    ("BATCH_SIZE", "10**13", "10000000000000", "--batch-size"),
    ("BATCH_SIZE", "10**30", "1000000000000000000000000000000", "--batch-size"),
    ("BATCH_SIZE", "1e30", "1e+30", "--batch-size"),  # not "write 1_000_..._656, an int": that is past it too
    ("DATASET_SIZE", "10**13", "10000000000000", "--dataset-size"),
    ("EPOCHS", "10**13", "10000000000000", "--epochs"),
]


@pytest.mark.parametrize("const, text, value, flag", PAST_THE_BOUND)
def test_a_data_constant_past_ten_to_the_twelve_gets_the_flags_message(const, text, value, flag):
    with pytest.raises(WorkloadError) as err:
        resolve_settings({}, read_constants(f"{const} = {text}"), label="w.py")
    assert err.value.message == f"w.py: {const} = {value} is more than 10^12, beyond any real job."
    assert err.value.hint == (f"Fix: pass {flag} N (which overrides it), or set {const} to the real figure (at most "
                              "1,000,000,000,000).")
    assert resolve_settings({}, read_constants(f"{const} = 10**12"), label="w.py").notes == ()  # the bound is taken


@pytest.mark.parametrize("const, text, value, flag", PAST_THE_BOUND)
def test_the_cli_refuses_a_constant_past_ten_to_the_twelve_before_the_probe(tmp_path, no_probe, const, text, value,
                                                                            flag):
    # DATASET_SIZE / EPOCHS = 10**13 were refused only after the whole probe, as "not a positive whole number";
    # BATCH_SIZE = 10**13 reached the probe child, whose schema refused it as "probably a bug in advisor".
    job = {"DATASET_SIZE": "1000", "EPOCHS": "1", "BATCH_SIZE": "8", const: text}
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "".join(f"{k} = {v}\n" for k, v in job.items()))
    result = CliRunner().invoke(build_app(), ["recommend", str(path), "--no-save"])
    assert result.exit_code == 1, result.output
    assert f"{path}: {const} = {value} is more than 10^12, beyond any real job." in result.output
    assert "Traceback" not in result.output and "bug in advisor" not in result.output


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "8,100000000000000"], "batch size 100000000000000 (--batch-sizes) is more than 10^12"),
    (["--batch-size", "10000000000000"], "batch size 10000000000000 (--batch-size) is more than 10^12"),
    (["--threads", "100000"], "--threads 100000 is more than this machine's"),
])
def test_profile_refuses_what_the_probe_cannot_run_before_it_starts(tmp_path, monkeypatch, args, message):
    def refuse(*args, **kwargs):
        raise AssertionError("a probe process was started")

    # Checked by the probe's request (advisor.probe.request), before the child starts.
    monkeypatch.setattr("advisor.probe.runner._probe", refuse)
    monkeypatch.setattr("advisor.hardware.cpu.usable_logical_cpus", lambda: 2)
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH)
    out = tmp_path / "p.json"
    result = CliRunner().invoke(build_app(), ["profile", str(path), "-o", str(out), *args])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Fix:" in result.output
    assert not out.exists()


def test_a_profile_keeps_a_declared_figure_the_job_takes():
    # A workload declaring DATASET_SIZE = 10**10 (under the job's bound) was written to a profile that
    # `predict --profile` then refused to load ("less than or equal to 2147483648"); GRAD_ACCUM_STEPS =
    # 5_000_000_000 made the probe's WorkloadInfo raise a pydantic traceback in the parent.
    from advisor.schemas import Profile, WorkloadInfo

    info = WorkloadInfo(name="w", dataset_size=10**10, epochs=10**12, batch_size=5 * 10**9,
                        grad_accum_steps=5 * 10**9, eval_every=10**12, eval_steps=10**12)
    assert Profile.model_validate_json(Profile(workload=info).model_dump_json()).workload == info


# ------------------------------------------------------------------ a default only the probe child could read


def test_the_child_shows_a_default_it_cannot_send_as_an_int():
    """What the frame carries, through the wire's own encoding (an int of 5,000 digits broke its JSON)."""
    from types import SimpleNamespace

    from advisor.probe.defaults import defaults_frame
    from advisor.probe.frames import encode, parse_child_frame

    frame = defaults_frame(SimpleNamespace(dataset_size=float("nan"), epochs=10**5000, batch_size=64))
    sent = parse_child_frame(encode(frame)[8:])
    assert (sent.dataset_size, sent.epochs, sent.batch_size) == (None, None, 64)
    assert sent.unusable == {"dataset_size": "nan", "epochs": "an int of about 5,001 digits"}
    assert defaults_frame(SimpleNamespace(dataset_size="x" * 500, epochs=None, batch_size=True)).unusable == {
        "dataset_size": repr("x" * 500)[:77] + "...", "batch_size": "True"}


def test_a_numpy_int_default_is_sent_as_the_number_it_is():
    """``BATCH_SIZE = np.int64(64)`` is 64 to every integer check; it was refused after the probe as "not a
    positive whole number". A float stays refused (the flags take whole numbers only)."""
    from types import SimpleNamespace

    import numpy as np

    from advisor.probe.defaults import defaults_frame

    class Raises:
        def __index__(self):
            raise RuntimeError("the user's __index__")

    frame = defaults_frame(SimpleNamespace(dataset_size=np.int64(1000), epochs=np.int32(2), batch_size=Raises()))
    assert (frame.dataset_size, frame.epochs, frame.batch_size) == (1000, 2, None)
    assert type(frame.dataset_size) is int and set(frame.unusable) == {"batch_size"}
    assert defaults_frame(SimpleNamespace(dataset_size=64.0, epochs=None, batch_size=None)).unusable == {
        "dataset_size": "64.0"}


@pytest.mark.parametrize("body, message", [
    ('DATASET_SIZE = float("nan")\n',
     'DATASET_SIZE = nan (the module\'s value, which the probe child reported): the dataset size must be a positive '
     'whole number.'),
    ("import math\nDATASET_SIZE = math.factorial(2000)\n",
     "DATASET_SIZE = an int of about 5,736 digits (the module's value, which the probe child reported) is more "
     "than 10^12"),
])
def test_a_default_only_the_probe_child_read_is_named_with_its_value(tmp_path, body, message):
    """A real probe: the file's DATASET_SIZE is set by a call, so only the child, which imports it, sees it."""
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + body)
    result = CliRunner().invoke(build_app(), ["predict", str(path), "--epochs", "1", "--batch-size", "8",
                                              "--device", "cpu", "--no-save", "--probe-seconds", "2"])
    assert result.exit_code == 1, result.output
    assert f"{path}: {message}" in " ".join(result.output.split())
    assert "no dataset size given" not in result.output and "malformed" not in result.output
    # The flag gives the figure: the module's value is not used, nor checked (README).
    given = CliRunner().invoke(build_app(), ["predict", str(path), "--epochs", "1", "--batch-size", "8",
                                             "--dataset-size", "64", "--device", "cpu", "--no-save",
                                             "--probe-seconds", "2", "--json"])
    assert given.exit_code == 0, given.output


def test_a_profile_keeps_the_constants_its_file_did_not_give_and_its_predictions_note_them(tmp_path):
    """``predict --profile`` gave GRAD_ACCUM_STEPS 1 silently where ``predict FILE`` noted that the file's
    ``int(os.environ.get(...))`` was not read: the probe now records the unread constants in the profile."""
    from advisor.probe.runner import _describe
    from advisor.schemas import Profile

    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "import os\nGRAD_ACCUM_STEPS = int(os.environ.get('GA', '8'))\n"
                                                   "PRECISION = 'bf16'\n")
    _label, info = _describe(path)
    assert info.unread == {"GRAD_ACCUM_STEPS": "int(os.environ.get('GA', '8'))"} and info.precision == "bf16"
    prof = Profile.model_validate_json(Profile(workload=info).model_dump_json())  # as saved and loaded
    from_profile = job_settings(prof, {})
    from_file = job_settings(path, {})
    assert from_profile.notes == from_file.notes and len(from_file.notes) == 1
    assert "GRAD_ACCUM_STEPS = int(os.environ.get('GA', '8')) could not be read" in from_profile.notes[0]
    assert (from_profile.precision, from_profile.grad_accum_steps) == ("bf16", 1)
    # A flag settles it, on the profile's path too.
    assert job_settings(prof, {"grad_accum_steps": 8}).notes == ()
