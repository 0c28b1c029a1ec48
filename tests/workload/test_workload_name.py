"""A workload's name, which the history keys its runs by: ``--name`` (``name=``) over the file's ``WORKLOAD_NAME``
constant (read from its text, never run) over the file's name without ``.py``; a name that is not printable text of 1 to
200 characters is one clear error."""

from __future__ import annotations

import pytest

from advisor.errors import WorkloadError
from advisor.workload import read_constants
from advisor.workload.constants import WorkloadFile
from advisor.workload.identity import checked_name, resolved_name

BODY = "import torch\n\ndef build_model():\n    return torch.nn.Linear(4, 2)\n"


def test_the_files_name_constant_is_read_without_running_it():
    assert read_constants('PROJECT = "vision"\nWORKLOAD_NAME = PROJECT + "_resnet"\n').name == "vision_resnet"
    unread = read_constants('import os\nWORKLOAD_NAME = os.environ["RUN"]\n')
    assert unread.name is None and unread.name_source == 'WORKLOAD_NAME = os.environ["RUN"]'
    assert read_constants("WORKLOAD_NAME = None\n").name is None  # None declares nothing
    again = read_constants('WORKLOAD_NAME = os.environ["RUN"]\nWORKLOAD_NAME = "fixed"\n')  # the last assignment counts
    assert again.name == "fixed" and again.name_source is None
    assert read_constants("if True:\n    WORKLOAD_NAME = 'x'\n").name_source.startswith("if True:")
    assert read_constants("BATCH_SIZE = 8\n").name is None


def test_the_file_names_the_workload_and_the_flag_overrides_it(tmp_path):
    train = tmp_path / "train.py"
    train.write_text('WORKLOAD_NAME = "resnet_cifar"\n' + BODY)
    assert resolved_name(WorkloadFile.read(train), None) == "resnet_cifar"
    assert resolved_name(str(train), "  projB  ") == "projB"  # the flag wins, stripped
    plain = tmp_path / "plain.py"
    plain.write_text(BODY)
    assert resolved_name(plain, None) is None  # the stem, as before
    # A file's WORKLOAD_NAME that is not a name is refused, naming the file; a flag works round it without an edit.
    bad = tmp_path / "bad.py"
    bad.write_text("WORKLOAD_NAME = 42\n" + BODY)
    with pytest.raises(WorkloadError) as info:
        resolved_name(bad, None)
    assert str(info.value).startswith(f"{bad}: WORKLOAD_NAME: a workload's name must be text, not int: 42.")
    assert "--name resnet_cifar" in info.value.hint and 'WORKLOAD_NAME = "resnet_cifar"' in info.value.hint
    assert resolved_name(bad, "ok") == "ok"
    env = tmp_path / "env.py"
    env.write_text('import os\nWORKLOAD_NAME = os.environ["RUN"]\n' + BODY)
    with pytest.raises(WorkloadError, match=r'env.py: WORKLOAD_NAME is set by `WORKLOAD_NAME = os.environ\["RUN"\]`, '
                                            "which advisor does not run"):
        resolved_name(env, None)


@pytest.mark.parametrize(("value", "why"), [
    ("", "must not be empty"), ("   ", "must not be empty"),
    ("a\x1b[31mb", "must not hold a control character"), ("two\nlines", "must not hold a control character"),
    ("x" * 201, "must be at most 200 characters, not 201"), (7, "must be text, not int"),
])
def test_a_name_that_is_not_printable_text_of_at_most_200_characters_is_refused(value, why):
    with pytest.raises(WorkloadError) as info:
        checked_name(value, "--name")
    first, fix = str(info.value).split("\n")  # the message, then the fix: the value shown as repr, escaped
    assert first.startswith(f"--name: a workload's name {why}") and "\x1b" not in first
    assert fix.startswith("Fix: ")
    assert checked_name("x" * 200, "--name") == "x" * 200


def test_a_files_own_name_constant_is_not_the_workloads_name(tmp_path):
    """Training scripts set NAME for labels of their own: it neither fails nor renames the workload (the
    constant advisor reads is WORKLOAD_NAME)."""

    for line in ('import os\nNAME = os.environ.get("RUN_NAME", "baseline")\n', 'NAME = "ResNet-50 run"\n'):
        train = tmp_path / "train.py"
        train.write_text(line + BODY)
        assert resolved_name(train, None) is None  # the file's stem, as before the name existed


@pytest.mark.parametrize(("value", "why"), [
    ("a\nb", "must not hold a control character"), ("a\x1b[31mb", "must not hold a control character"),
    ("a\x00b", "must not hold a control character"), ("a\tb", "must not hold a control character"),
    ("   ", "must not be empty"), ("x" * 10_000, "must be at most 200 characters, not 10,000"),
])
def test_a_python_workloads_name_is_checked_as_the_flag_is(value, why):
    # advisor.Workload(name=...) took a newline, an escape, a NUL or a tab, which --name refuses: the history
    # stored 'evil\nname\x1b[31m...' from the Python route alone.
    import torch

    from advisor.workload import Workload

    with pytest.raises(WorkloadError) as info:
        Workload(model=lambda: torch.nn.Linear(4, 2), make_batch=lambda b: (torch.zeros(b, 4), None), name=value)
    first, fix = str(info.value).split("\n")
    assert first.startswith(f"advisor.Workload(name=...): a workload's name {why}")
    assert len(first) < 250 and "\x1b" not in first and fix.startswith("Fix: give a short name")
    named = Workload(model=lambda: torch.nn.Linear(4, 2), make_batch=lambda b: (torch.zeros(b, 4), None),
                     name="  team_model ")
    assert named.name == "team_model"  # stripped, as --name is


def test_a_file_whose_name_is_no_name_is_refused_unless_a_name_is_given(tmp_path):
    # The file's stem was the workload's name unchecked: a file 'tab\tname\x1b[1m.py' was stored under that name.
    path = tmp_path / "tab\tname\x1b[1m.py"
    path.write_text(BODY)
    with pytest.raises(WorkloadError) as info:
        resolved_name(path, None)
    assert str(info.value).startswith(f"{path}: the file's name (without .py): a workload's name must not hold a "
                                      "control character")
    assert resolved_name(path, "plain") == "plain"  # the flag works round it without a rename
    path.write_text('WORKLOAD_NAME = "declared"\n' + BODY)  # or a name the file declares
    assert resolved_name(path, None) == "declared"


@pytest.mark.parametrize("value", ["مدل\u200cها", "my\u00a0model", "🧑\u200d💻 coder", "学習\u3000モデル",
                                   "résumé.v2/x y"])
def test_a_name_in_any_script_is_a_name(value, tmp_path):
    # str.isprintable refused a Persian name's zero-width non-joiner, a no-break space, an emoji's joiner and an
    # ideographic space as "a control character": a file 'مدل\u200cها.py' profiled before the name check reached
    # the file's name, and was refused after it (exit 1, "must not hold a control character ...: 'مدل\\u200cها'").
    import torch

    from advisor.workload import Workload

    assert checked_name(value, "--name") == value
    path = tmp_path / f"{value.replace('/', '_')}.py"
    path.write_text(BODY)
    assert resolved_name(path, None) is None  # the file's name names it, unrefused
    made = Workload(model=lambda: torch.nn.Linear(4, 2), make_batch=lambda b: (torch.zeros(b, 4), None), name=value)
    assert made.name == value


@pytest.mark.parametrize("value", ["evil\u202egnp.exe", "a\u2028b", "a\u2066b\u2069", "a\x85b"])
def test_a_name_that_reorders_or_breaks_the_line_is_refused(value):
    # What a terminal obeys (advisor.text.has_controls): a bidirectional override or isolate, a line separator,
    # a C1 control (NEL).
    with pytest.raises(WorkloadError, match="must not hold a control character"):
        checked_name(value, "--name")


@pytest.mark.parametrize("value", ["\u200b", "\ufeff", " \u200b\u2060 ", "\u00ad"])
def test_a_name_of_invisible_characters_alone_is_refused(value):
    # has_controls (0be71b9) let these through where str.isprintable refused them: '--name $\'\\u200b\''
    # was a workload named by a zero-width space, a blank in every table and note
    with pytest.raises(WorkloadError) as info:
        checked_name(value, "--name")
    assert str(info.value).startswith("--name: a workload's name must hold a visible character, not only "
                                      "invisible ones (a zero-width space, a byte order mark...): ")
    assert checked_name("a\u200bb", "--name") == "a\u200bb"  # among visible ones, text as before
