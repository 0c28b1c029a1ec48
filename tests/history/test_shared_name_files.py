"""The shared-name note (``advisor.history.name_paths``) compared the recorded workload paths as strings: the same
file reached through a symbolic link (or the Python API's ``a/../w.py``, stored as typed) was "another file", and
a workload edited since its runs were recorded was told its own runs came from elsewhere. Files probed here are now
compared as files where both exist; a recorded file gone, or a saved profile's paths, as normalized text."""

from __future__ import annotations

import os
from pathlib import Path

from history_helpers import candidate, recommendation

import advisor
from advisor import api
from advisor.history.name_paths import other_paths, shared_name_notes
from advisor.history.repository import History

PROFILE = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
NOTE = "the history's runs under this name were recorded from another file"


def info_at(path: Path | str, sha: str):
    """The saved profile's workload as the file ``w`` at ``path`` with hash ``sha``."""
    return api.load_profile(PROFILE).workload.model_copy(update={"name": "w", "path": str(path), "file_sha256": sha})


def project(tmp_path: Path) -> Path:
    """``real/w.py``, ``link`` -> ``real`` (a symbolic link to the folder), ``hard.py`` (a hard link to it)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "w.py").write_text("# w\n")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    os.link(tmp_path / "real" / "w.py", tmp_path / "hard.py")
    return tmp_path / "real" / "w.py"


def test_one_file_by_any_spelling_is_not_another_file(tmp_path):
    real = project(tmp_path)
    recorded = [(str(real), "a" * 64)]  # recorded before the file was edited: the hashes differ
    for spelling in (tmp_path / "link" / "w.py", tmp_path / "real" / "." / "w.py",
                     tmp_path / "link" / ".." / "real" / "w.py", tmp_path / "hard.py"):
        assert other_paths(recorded, info_at(spelling, "b" * 64), on_disk=True) == [], spelling
    # Another file is still another file, and one file recorded under two spellings is named once.
    (tmp_path / "other.py").write_text("# other\n")
    twice = [(str(real), "a" * 64), (str(tmp_path / "link" / "w.py"), "c" * 64)]
    assert other_paths(twice, info_at(tmp_path / "other.py", "b" * 64), on_disk=True) == [str(real)]


def test_a_recorded_file_gone_or_a_saved_profile_is_compared_as_text(tmp_path):
    real = project(tmp_path)
    gone = [(f"{tmp_path}/gone/./sub/../w.py", "a" * 64)]
    assert other_paths(gone, info_at(f"{tmp_path}/gone/w.py", "b" * 64), on_disk=True) == []
    assert other_paths(gone, info_at(real, "b" * 64), on_disk=True) == [gone[0][0]]
    # A saved profile's paths may be another machine's (a server's client's): not looked up on this disk.
    linked = [(str(tmp_path / "link" / "w.py"), "a" * 64)]
    assert other_paths(linked, info_at(real, "b" * 64)) == [str(tmp_path / "link" / "w.py")]
    assert other_paths(linked, info_at(tmp_path / "link" / "." / "w.py", "b" * 64)) == []


def test_predict_through_a_symbolic_link_has_no_note(tmp_path, monkeypatch):
    """The wiring in ``api``: a workload file is compared on disk; the same paths in a saved profile are not."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    real = project(tmp_path)
    prof = api.load_profile(PROFILE)
    recorded = prof.model_copy(update={"workload": info_at(real, "a" * 64)})
    w = recorded.workload
    workload = {"name": w.name, "params": w.param_count, "flops_per_sample": w.flops_per_sample,
                "file_sha256": w.file_sha256, "path": w.path}
    with History(url) as hist:
        cand = candidate(0, seconds=100.0, method="measured", instance_type="e2-standard-2", provider="gcp", vcpus=2)
        rec = recommendation("w", n=0, excluded=0, workload=workload, dataset_size=50_000, epochs=2, batch_size=64,
                             candidates=[cand]).model_copy(update={"chosen": cand})
        hist.record_outcome(hist.save_recommendation(rec), 200.0)
    linked = prof.model_copy(update={"workload": info_at(tmp_path / "link" / "w.py", "b" * 64)})
    monkeypatch.setattr(api, "_job_profile", lambda *args, **kwargs: linked)  # the probe's answer, here at once
    job = dict(dataset_size=50_000, epochs=2, batch_size=64, target=advisor.Target.cpu(2))
    est = advisor.predict(str(tmp_path / "link" / "w.py"), **job)
    assert [n for n in est.notes if NOTE in n] == []
    from_profile = advisor.predict(linked, **job)
    assert [n for n in from_profile.notes if NOTE in n] == [
        f"workload 'w': {NOTE}, '{real}', not this one, '{tmp_path / 'link' / 'w.py'}'; the history keys a workload "
        "by its name, so the learned correction and its intervals take those runs as this workload's. Fix: if that "
        "is another project, give this one a name of its own: --name NAME, or WORKLOAD_NAME = \"...\" in the file "
        "(name= in Python)."]
    assert shared_name_notes(None, linked.workload, on_disk=True) == []


def test_a_dot_dot_through_a_symbolic_link_is_not_taken_for_the_file_its_text_names(tmp_path):
    """Where both files exist they are compared as files only: their normalized texts were compared too, and
    ``normpath`` drops a ``..`` lexically, so ``x/link/../w.py`` (the Python API keeps a ``..``; ``link`` ->
    ``y/z``, so the file is ``y/w.py``) was taken for the other file ``x/w.py``, and its runs got no note."""
    (tmp_path / "x").mkdir()
    (tmp_path / "y" / "z").mkdir(parents=True)
    (tmp_path / "y" / "w.py").write_text("# this project\n")
    (tmp_path / "x" / "w.py").write_text("# another project\n")
    (tmp_path / "x" / "link").symlink_to(tmp_path / "y" / "z", target_is_directory=True)
    dotted = f"{tmp_path}/x/link/../w.py"
    assert os.path.samefile(dotted, tmp_path / "y" / "w.py")
    other = str(tmp_path / "x" / "w.py")
    assert other_paths([(other, "a" * 64)], info_at(dotted, "b" * 64), on_disk=True) == [other]
    assert other_paths([(dotted, "a" * 64)], info_at(other, "b" * 64), on_disk=True) == [dotted]
    # The same file by that spelling is still the same file.
    assert other_paths([(dotted, "a" * 64)], info_at(tmp_path / "y" / "w.py", "b" * 64), on_disk=True) == []
