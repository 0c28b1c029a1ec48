"""A workload file's job constants, read without running it (constant arithmetic only), and the job settings
resolved from flags over the file over the defaults, with a note for what could not be read."""

from __future__ import annotations

import pytest

from advisor.errors import ConfigError, WorkloadError
from advisor.schemas import JobSpec
from advisor.workload import read_constants, read_defaults, resolve_settings
from advisor.workload.constants import evaluate_constant

NANOGPT_STYLE = """
import os
PER_GPU = 12
GPUS = 8
BATCH_SIZE = PER_GPU * GPUS
GRAD_ACCUM_STEPS = 5
DATASET_SIZE = 600_000 * BATCH_SIZE * GRAD_ACCUM_STEPS
EPOCHS = 1
PRECISION = "bf" + "16"
COMPILE = True
EVAL_EVERY: int = 10 ** 3
EVAL_STEPS = (400 // 2) % 1000
"""


def test_constant_arithmetic_is_read():
    found = read_constants(NANOGPT_STYLE)
    assert found.values["BATCH_SIZE"] == 96
    assert found.values["DATASET_SIZE"] == 600_000 * 96 * 5 == 288_000_000
    assert found.values["PRECISION"] == "bf16" and found.values["COMPILE"] is True
    assert (found.values["EVAL_EVERY"], found.values["EVAL_STEPS"], found.values["EPOCHS"]) == (1000, 200, 1)
    assert found.unread == {}


@pytest.mark.parametrize("text, name, unread_source", [
    ("import os\nBATCH_SIZE = int(os.environ['B'])", "BATCH_SIZE", "int(os.environ['B'])"),
    ("import cfg\nGRAD_ACCUM_STEPS = cfg.steps", "GRAD_ACCUM_STEPS", "cfg.steps"),
    ("EVAL_STEPS = [1, 2][0]", "EVAL_STEPS", "[1, 2][0]"),
    ("EPOCHS = UNDEFINED * 2", "EPOCHS", "UNDEFINED * 2"),
    ("EPOCHS = 10 ** 10 ** 10", "EPOCHS", "10 ** 10 ** 10"),  # bounded: never computed
    ("EPOCHS = 1 // 0", "EPOCHS", "1 // 0"),
    ("PRECISION = 'x' * 10 ** 6", "PRECISION", "'x' * 10 ** 6"),
    ("EPOCHS = (lambda: 3)()", "EPOCHS", "(lambda: 3)()"),
])
def test_anything_else_is_unread_with_its_source(text, name, unread_source):
    found = read_constants(text)
    assert name not in found.values
    assert found.unread[name] == unread_source


def test_a_name_rebound_by_code_is_unknown_from_there_on():
    text = "B = 8\nfrom config import B\nBATCH_SIZE = B * 2\nEPOCHS = 3\nif True:\n    EPOCHS = 4\n"
    found = read_constants(text)
    assert found.unread == {"BATCH_SIZE": "B * 2", "EPOCHS": "... (set by the if block at line 5)"}
    unpacked = read_constants("from cfg import EPOCHS\nPRECISION, LR = 'bf16', 1e-3\n").unread
    assert unpacked == {"EPOCHS": "... (set by the import at line 1)",
                        "PRECISION": "... (set by the unpacking assignment at line 2)"}
    # Re-assigned with a readable value later: read again.
    assert read_constants("EPOCHS = f()\nEPOCHS = 2 + 1").values == {"EPOCHS": 3}


def test_a_main_guard_never_runs_in_the_child_so_its_assignments_are_not_the_jobs():
    """The child imports the file under another name: a value set under ``if __name__ == "__main__":`` is not
    the job's, and must not make a readable constant before it unread (it read GRAD_ACCUM_STEPS 8 as 1)."""
    text = ("GRAD_ACCUM_STEPS = 8\nBATCH_SIZE = 64\nif __name__ == '__main__':\n    GRAD_ACCUM_STEPS = 1\n"
            "    BATCH_SIZE = 2\nelse:\n    EPOCHS = 3\n")
    found = read_constants(text)
    assert found.values == {"GRAD_ACCUM_STEPS": 8, "BATCH_SIZE": 64, "EPOCHS": 3} and found.unread == {}
    flipped = read_constants("EPOCHS = 1\nif '__main__' == __name__:\n    EPOCHS = 9\n")
    assert flipped.values == {"EPOCHS": 1}
    # Any other test may run at import: unknown, as before.
    other = read_constants("EPOCHS = 1\nif __name__ != '__main__':\n    EPOCHS = 9\n")
    assert other.unread == {"EPOCHS": "... (set by the if block at line 2)"}


def test_an_augmented_assignment_is_quoted_as_written():
    found = read_constants("import os\nGRAD_ACCUM_STEPS = int(os.environ.get('GA', '4'))\nGRAD_ACCUM_STEPS *= 2\n"
                           "BATCH_SIZE = int(os.environ.get('B', '8'))\nBATCH_SIZE**=2\n")
    assert found.unread == {"GRAD_ACCUM_STEPS": "GRAD_ACCUM_STEPS *= 2", "BATCH_SIZE": "BATCH_SIZE**=2"}
    notes = resolve_settings({}, found, label="w.py", reported={"BATCH_SIZE": 64}).notes
    # once each: "GRAD_ACCUM_STEPS = GRAD_ACCUM_STEPS *= 2" read the name twice
    assert notes[0].startswith("w.py: GRAD_ACCUM_STEPS *= 2 could not be read")
    assert notes[1].startswith("w.py: BATCH_SIZE**=2 could not be read")


def test_half_an_evaluation_whose_other_half_was_not_read_has_only_that_note():
    found = read_constants("import os\nEVAL_EVERY = int(os.environ.get('EE', '100'))\nEVAL_STEPS = 5\n")
    got = resolve_settings({}, found, label="w.py")
    assert (got.eval_every, got.eval_steps) == (None, 0)
    assert len(got.notes) == 1 and got.notes[0].startswith("w.py: EVAL_EVERY = int(os.environ.get('EE', '100')) "
                                                           "could not be read")


def test_the_evaluator_runs_no_calls_attributes_or_subscripts():
    import ast

    for text in ("print(1)", "os.system('x')", "x[0]", "{'a': 1}", "f'{x}'", "[i for i in range(3)]"):
        with pytest.raises(ValueError):
            evaluate_constant(ast.parse(text, mode="eval").body, {"x": [1], "os": None})
    assert evaluate_constant(ast.parse("-(A + 2) * 3 / 2", mode="eval").body, {"A": 2}) == -6.0


def test_read_defaults_reads_arithmetic(tmp_path):
    path = tmp_path / "w.py"
    path.write_text(NANOGPT_STYLE)
    assert read_defaults(path) == {"dataset_size": 288_000_000, "epochs": 1, "batch_size": 96}


def test_flags_override_the_file_and_the_file_overrides_the_defaults():
    found = read_constants(NANOGPT_STYLE)
    from_file = resolve_settings({}, found)
    assert (from_file.precision, from_file.compiled, from_file.grad_accum_steps, from_file.eval_every,
            from_file.eval_steps, from_file.notes) == ("bf16", True, 5, 1000, 200, ())
    flagged = resolve_settings({"precision": "fp16", "compile": False, "grad_accum_steps": 2, "eval_every": 10,
                                "eval_steps": 0}, found)
    assert (flagged.precision, flagged.compiled, flagged.grad_accum_steps, flagged.eval_every,
            flagged.eval_steps) == ("fp16", False, 2, None, 0)  # --eval-steps 0: no evaluation runs
    plain = resolve_settings({}, read_constants("EPOCHS = 1"))
    assert (plain.precision, plain.compiled, plain.grad_accum_steps, plain.eval_every, plain.eval_steps) == \
           (None, False, 1, None, 0)
    assert plain.apply(JobSpec(100, 1, 10)) == JobSpec(100, 1, 10)  # the plain job every old caller had
    assert flagged.apply(JobSpec(100, 1, 10)) == JobSpec(100, 1, 10, 2, None, 0, False)
    assert resolve_settings({"precision": "mixed"}).precision == "bf16"


def test_an_unread_constant_gets_a_note_naming_the_default_and_the_flag():
    found = read_constants("import os\nGRAD_ACCUM_STEPS = int(os.environ.get('A', 5))\nCOMPILE = os.name == 'x'")
    got = resolve_settings({}, found, label="w.py")
    assert got.grad_accum_steps == 1 and got.compiled is False
    compile_note, accum_note = got.notes  # in JOB_SETTINGS' order
    assert accum_note.startswith("w.py: GRAD_ACCUM_STEPS = int(os.environ.get('A', 5)) could not be read")
    precision = resolve_settings({}, read_constants("import os\nPRECISION = os.environ.get('P', 'bf16')")).notes
    assert "the default (fp32) was used; --precision P sets it." in precision[0]
    assert "the default (1) was used; --grad-accum-steps N sets it." in accum_note
    assert "COMPILE = os.name == 'x'" in compile_note and "--compile / --no-compile" in compile_note
    # The flag settles it: no note.
    assert resolve_settings({"grad_accum_steps": 4, "compile": True}, found).notes == ()


def test_an_unread_batch_size_says_the_probe_reported_the_module_value():
    found = read_constants("import os\nBATCH_SIZE = int(os.environ.get('B', 96))")
    got = resolve_settings({}, found, label="w.py", probed_batch_size=32, reported={"BATCH_SIZE": 96})
    assert got.notes == ("w.py: BATCH_SIZE = int(os.environ.get('B', 96)) could not be read without running the "
                         "file: the module's value 96, which the probe child reported, is the job's; the probe "
                         "timed batch sizes up to 32 (the default), pass --batch-size N to probe at the job's.",)


def test_an_unread_data_constant_a_flag_replaced_gets_no_note():
    """BATCH_SIZE = int(os.environ.get("BS", "16")) with BS=64 and --batch-size 16: the note called 64 the job's
    (the flag's 16 was), 16 "the default", and asked for the --batch-size the user had given."""
    found = read_constants("import os\nBATCH_SIZE = int(os.environ.get('BS', '16'))\n"
                           "EPOCHS = int(os.environ.get('E', '3'))")
    got = resolve_settings({"batch_size": 16, "epochs": 1}, found, label="w.py", probed_batch_size=16,
                           reported={"BATCH_SIZE": 64, "EPOCHS": 3})
    assert got.notes == ()
    only_epochs = resolve_settings({"batch_size": 16}, found, label="w.py", probed_batch_size=16,
                                   reported={"BATCH_SIZE": 64, "EPOCHS": 3})
    assert only_epochs.notes == ("w.py: EPOCHS = int(os.environ.get('E', '3')) could not be read without running "
                                 "the file: the module's value 3, which the probe child reported, is the job's.",)


@pytest.mark.parametrize("module, advice", [
    ("fp32", ""), ("bf16", "; the probe ran before it was known, pass --precision bf16 to probe at it too"),
])
def test_an_unread_precision_asks_for_the_flag_only_where_the_probe_ran_at_another(module, advice):
    """PRECISION = os.environ.get("PREC", "bf16") with PREC=fp32: the probe ran at fp32 (the text gave none), which
    the note asked the user to pass --precision fp32 to probe at."""
    found = read_constants("import os\nPRECISION = os.environ.get('PREC', 'bf16')")
    got = resolve_settings({}, found, label="w.py", reported={"PRECISION": module})
    assert got.precision == module
    assert got.notes == (f"w.py: PRECISION = os.environ.get('PREC', 'bf16') could not be read without running the "
                         f"file: the module's value {module!r}, which the probe child reported, is the job's{advice}.",)


def test_a_data_constant_the_module_changed_at_import_says_the_module_value_is_the_jobs():
    """BATCH_SIZE = 64 in the text, and a function called at import set it to 128 with ``global``: the probe ran
    at 64, the job took 128, and the only note was a generic "outside the measured range"."""
    found = read_constants("BATCH_SIZE = 64\nEPOCHS = 2\ndef f():\n    global BATCH_SIZE\n    BATCH_SIZE = 128\nf()\n")
    assert found.values == {"BATCH_SIZE": 64, "EPOCHS": 2}
    got = resolve_settings({}, found, label="w.py", reported={"BATCH_SIZE": 128, "EPOCHS": 2})
    assert got.notes == ("w.py: BATCH_SIZE reads 64 in the file's text, but the module held 128 once imported (code "
                         "that ran at import changed it): 128 is the job's; the probe timed batch sizes up to the "
                         "text's, pass --batch-size N to probe at the job's.",)
    # The flag gives the figure: neither is the job's, nothing to say.
    assert resolve_settings({"batch_size": 32}, found, reported={"BATCH_SIZE": 128}).notes == ()


@pytest.mark.parametrize("text, message", [
    ("GRAD_ACCUM_STEPS = 0", "GRAD_ACCUM_STEPS = 0: must be a whole number from 1 to 10^12."),
    ("GRAD_ACCUM_STEPS = 10**30", f"GRAD_ACCUM_STEPS = {10**30}: must be a whole number from 1 to 10^12."),
    ("PRECISION = 'fp8'", "PRECISION = 'fp8': must be one of fp32, tf32, bf16, fp16, mixed."),
    ("COMPILE = 1", "COMPILE = 1: must be True or False."),
    ("EVAL_STEPS = -1", "EVAL_STEPS = -1: must be a whole number from 0 to 10^12."),
    # Floats are refused as they are for EPOCHS, even whole ones: one rule for every count a file declares.
    ("GRAD_ACCUM_STEPS = 2.0", "GRAD_ACCUM_STEPS = 2.0: must be an int from 1 to 10^12 (write 2, not 2.0)."),
    ("EVAL_EVERY = 10.0", "EVAL_EVERY = 10.0: must be an int from 1 to 10^12 (write 10, not 10.0)."),
    ("EVAL_STEPS = 5.0", "EVAL_STEPS = 5.0: must be an int from 0 to 10^12 (write 5, not 5.0)."),
    ("EVAL_STEPS = 0.0", "EVAL_STEPS = 0.0: must be an int from 0 to 10^12 (write 0, not 0.0)."),
    ("GRAD_ACCUM_STEPS = 2.5", "GRAD_ACCUM_STEPS = 2.5: must be an int from 1 to 10^12."),
])
def test_a_bad_file_value_is_a_workload_error(text, message):
    with pytest.raises(WorkloadError) as err:
        resolve_settings({}, read_constants(text), label="w.py")
    assert err.value.message == f"w.py: {message}"


@pytest.mark.parametrize("keyword, value, flag", [
    ("grad_accum_steps", 0, "--grad-accum-steps"), ("eval_every", -5, "--eval-every"),
    ("eval_steps", 1.5, "--eval-steps"), ("precision", "fp64", "--precision"),
])
def test_a_bad_flag_is_a_config_error(keyword, value, flag):
    with pytest.raises(ConfigError) as err:
        resolve_settings({keyword: value})
    assert err.value.message.startswith(f"{flag} must be")


def test_half_an_evaluation_is_noted_not_counted_naming_what_the_user_gave():
    """The note names the flag where a flag was given (it blamed the file's EVAL_STEPS for a typed --eval-steps),
    the constant where the file set it, and covers --eval-every without batches as well (counted nothing, silently)."""
    got = resolve_settings({"eval_steps": 50})
    assert got.eval_every is None and got.eval_steps == 0  # the evaluation that runs: none
    assert got.notes == ("--eval-steps 50 without EVAL_EVERY or --eval-every: no evaluation is counted; "
                         "--eval-every N says how many optimizer steps apart they run.",)
    assert got.apply(JobSpec(1000, 1, 10)).evaluations == 0
    filed = resolve_settings({}, module_values={"EVAL_STEPS": 50}, label="w.py")
    assert filed.notes[0].startswith("w.py: EVAL_STEPS = 50 without EVAL_EVERY or --eval-every")
    every = resolve_settings({"eval_every": 10})
    assert every.notes == ("--eval-every 10 without EVAL_STEPS or --eval-steps: evaluations of no batches, so no "
                           "evaluation is counted; --eval-steps N says how many forward-only batches each runs.",)
    assert every.apply(JobSpec(1000, 1, 10)).evaluations == 0
    assert resolve_settings({"eval_every": 10, "eval_steps": 2}).notes == ()
    # Evaluation turned off, by the flag over the file or by the file itself: no note of "half an evaluation".
    off = resolve_settings({"eval_steps": 0}, module_values={"EVAL_EVERY": 100, "EVAL_STEPS": 50})
    assert (off.eval_every, off.eval_steps, off.notes) == (None, 0, ())  # the evaluation that runs: none
    assert resolve_settings({}, module_values={"EVAL_EVERY": 100, "EVAL_STEPS": 0}).notes == ()
    assert JobSpec(1000, 2, 10, grad_accum_steps=4, eval_every=5, eval_steps=3).evaluations == 10  # 50 updates


def test_an_expression_deeper_than_the_evaluator_follows_is_unread_not_a_crash():
    from advisor.workload.constants import MAX_DEPTH, read_constants

    # Python runs both files; a recursive evaluator of 1+1+...+1 would overflow the stack in the parent
    deep = "+".join(["1"] * 1500)
    assert read_constants(f"BATCH_SIZE = 64\nSCALE = {deep}\n").values == {"BATCH_SIZE": 64}
    got = read_constants(f"BATCH_SIZE = {deep}\n")
    assert got.values == {} and got.unread["BATCH_SIZE"].startswith("1+1+")
    assert read_constants("BATCH_SIZE = " + "+".join(["1"] * MAX_DEPTH) + "\n").values == {"BATCH_SIZE": MAX_DEPTH}
    assert read_constants("X = " + "+".join(["1"] * 40_000) + "\n").values == {}  # too deep for ast.parse itself


@pytest.mark.parametrize("const", ["PRECISION", "COMPILE", "GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS"])
def test_a_setting_set_to_none_declares_nothing(const):
    """README: "A constant set to None declares nothing": the default, no error and no note."""
    got = resolve_settings({}, read_constants(f"{const} = None\nEPOCHS = 1"), label="w.py")
    assert (got.precision, got.compiled, got.grad_accum_steps, got.eval_every, got.eval_steps, got.notes) == \
           (None, False, 1, None, 0, ())


def test_a_float_setting_names_the_int_in_its_fix():
    with pytest.raises(WorkloadError) as err:
        resolve_settings({}, read_constants("GRAD_ACCUM_STEPS = 2.0"), label="w.py")
    assert err.value.hint == ("Fix: set GRAD_ACCUM_STEPS to an int from 1 to 10^12 in the workload file, or pass "
                              "--grad-accum-steps N.")


def test_an_evaluation_interval_longer_than_the_job_is_noted():
    """--eval-every 1000000 on a job of 60 optimizer steps counted no evaluation, silently (half an evaluation
    has a note), and the JSON kept 1000000 and 10 where the other no-evaluation cases show null and 0."""
    from pathlib import Path

    import advisor

    profile = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
    est = advisor.predict(str(profile), dataset_size=10_000, epochs=3, batch_size=512, eval_every=1_000_000,
                          eval_steps=10, target="cpu", use_history=False)
    assert est.eval_seconds is None and est.eval_every is None and est.eval_steps == 0
    assert est.notes[0] == ("--eval-every 1000000 is more than the job's 60 optimizer steps: no evaluation runs, so "
                            "none is counted; --eval-every 60 or fewer counts one.")
    within = advisor.predict(str(profile), dataset_size=10_000, epochs=3, batch_size=512, eval_every=60,
                             eval_steps=10, target="cpu", use_history=False)
    assert within.eval_seconds > 0 and not any("optimizer steps: no evaluation" in n for n in within.notes)
