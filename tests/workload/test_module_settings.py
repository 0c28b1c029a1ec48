"""Settings a workload file sets in a way its text does not show (``from config import *``, nanoGPT's
``exec(open('configurator.py').read())``, a function setting them with ``global`` at import, a walrus): the
reader lists what such a statement may set, the probe child reports what the module holds, and the module's
value is the job's, with a note; a module holding nothing gets no note."""

from __future__ import annotations

from types import SimpleNamespace

from advisor.probe.defaults import defaults_frame, with_module_settings
from advisor.schemas import WorkloadInfo
from advisor.workload import read_constants, resolve_settings
from advisor.workload.constants import MAYBE_SET
from advisor.workload.job import module_settings

SETTINGS = ("PRECISION", "COMPILE", "GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS")


def test_a_star_import_or_exec_may_set_every_constant_not_read_yet():
    star = read_constants("from train_config import *\nBATCH_SIZE = 8\n")
    assert star.values == {"BATCH_SIZE": 8}
    assert set(star.unread) == {"DATASET_SIZE", "EPOCHS", "NUM_WORKERS", *SETTINGS}
    assert star.unread["PRECISION"] == f"{MAYBE_SET}`from train_config import *` at line 1)"
    nano = read_constants("GRAD_ACCUM_STEPS = 5\nexec(open('configurator.py').read())\n")
    assert nano.values == {"GRAD_ACCUM_STEPS": 5}  # read: the child reports it if exec changed it
    assert nano.unread["EVAL_STEPS"] == f"{MAYBE_SET}`exec(open('configurator.py').read())` at line 2)"
    assert set(read_constants("globals().update(cfg)\n").unread) >= set(SETTINGS)
    assert read_constants("from cfg import BATCH_SIZE\n").unread.keys() == {"BATCH_SIZE"}  # named: only that


def test_a_top_level_walrus_is_an_assignment_and_one_inside_a_call_is_unread():
    found = read_constants("(GRAD_ACCUM_STEPS := 2 * 2)\nprint(EVAL_STEPS := 3)\n")
    assert found.values == {"GRAD_ACCUM_STEPS": 4}
    assert found.unread == {"EVAL_STEPS": "... (set by the statement at line 2)"}


def _star():
    return read_constants("from train_config import *\nDATASET_SIZE = 10\nEPOCHS = 1\nBATCH_SIZE = 8\n")


def test_the_modules_settings_are_the_jobs_with_a_note_each():
    reported = {"PRECISION": "bf16", "COMPILE": True, "GRAD_ACCUM_STEPS": 4, "EVAL_EVERY": 100, "EVAL_STEPS": 50}
    steps = resolve_settings({}, _star(), label="model.py", reported=reported)
    assert (steps.precision, steps.compiled, steps.grad_accum_steps, steps.eval_every, steps.eval_steps) == (
        "bf16", True, 4, 100, 50)
    for const, value in reported.items():
        assert any(n.startswith(f"model.py: {const} = ... (may be set by `from train_config import *` at line 1) "
                                "could not be read without running the file: the module's value "
                                f"{value!r}, which the probe child reported, is the job's") for n in steps.notes)
    assert any("pass --precision bf16 to probe at it too" in n for n in steps.notes)
    flagged = resolve_settings({"precision": "fp16", "grad_accum_steps": 2}, _star(), reported=reported)
    assert (flagged.precision, flagged.grad_accum_steps) == ("fp16", 2)  # a flag still wins
    assert not any("PRECISION" in n or "GRAD_ACCUM_STEPS" in n for n in flagged.notes)


def test_a_star_import_the_module_holds_nothing_from_gets_no_note_once_probed():
    reported = dict.fromkeys(SETTINGS)
    steps = resolve_settings({}, _star(), label="model.py", reported=reported)
    assert (steps.precision, steps.compiled, steps.grad_accum_steps, steps.eval_every) == (None, False, 1, None)
    assert steps.notes == ()
    unprobed = resolve_settings({}, _star(), label="model.py")  # nothing reported: each is noted as unread
    assert sum("could not be read without running the file" in n for n in unprobed.notes) == len(SETTINGS) + 1


def test_a_setting_code_changed_at_import_is_the_modules():
    text = read_constants("PRECISION = 'fp32'\ndef _setup():\n    global PRECISION\n    PRECISION = 'bf16'\n_setup()\n")
    steps = resolve_settings({}, text, label="m.py", reported={"PRECISION": "bf16", "COMPILE": True})
    assert (steps.precision, steps.compiled) == ("bf16", True)
    assert any(n.startswith("m.py: PRECISION reads 'fp32' in the file's text, but the module held 'bf16' once "
                            "imported (code that ran at import changed it)") for n in steps.notes)
    assert any(n.startswith("m.py: COMPILE is not set in the file's text, but the module held True once imported "
                            "(code that ran at import set it)") for n in steps.notes)
    same = resolve_settings({}, read_constants("PRECISION = 'mixed'\n"), reported={"PRECISION": "bf16"})
    assert same.precision == "bf16" and same.notes == ()  # mixed is bf16: no difference to tell


def test_the_child_reports_the_settings_and_the_parent_keeps_the_valid_ones():
    held = SimpleNamespace(dataset_size=10, epochs=1, batch_size=8, precision="amp", compile=True,
                           grad_accum_steps=2.0, eval_every=100, eval_steps=None)
    frame = defaults_frame(held)
    assert frame.settings == {"PRECISION": "amp", "COMPILE": True, "EVAL_EVERY": 100}
    assert frame.shown == {"GRAD_ACCUM_STEPS": "2.0"}
    valid, invalid = module_settings(frame.settings, frame.shown)
    assert valid == {"compile": True, "eval_every": 100}
    assert set(invalid) == {"PRECISION", "GRAD_ACCUM_STEPS"}
    info = with_module_settings(WorkloadInfo(name="m", precision="bf16"), frame, in_memory=False)
    assert (info.precision, info.compile, info.eval_every, info.grad_accum_steps) == (None, True, 100, None)
    steps = resolve_settings({}, read_constants("from cfg import *\n"), label="m.py",
                             reported=info.job_constants())
    assert steps.precision is None  # the default: 'amp' is no precision
    text = resolve_settings({}, read_constants(""), label="m.py", reported=info.job_constants())
    assert text.compiled is True
    from advisor.workload.constants import FileConstants

    noted = resolve_settings({}, FileConstants(unread=dict(info.unread)), label="m.py",
                             reported=info.job_constants())
    assert any(n.startswith("m.py: PRECISION = 'amp' (the module's value once imported, which must be one of fp32")
               and n.endswith("not used, the default (fp32) was; --precision P sets it.") for n in noted.notes)
    assert with_module_settings(WorkloadInfo(name="m", precision="bf16"), frame, in_memory=True).precision == "bf16"
