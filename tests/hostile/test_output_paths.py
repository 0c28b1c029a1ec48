"""Output paths are checked before any probe, results are written atomically, and nothing is saved when an
output fails."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

JOB = ["--dataset-size", "1000", "--epochs", "1", "--batch-size", "64"]


def _saved(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        if "recommendations" not in inspect(conn).get_table_names():
            return 0
        return conn.execute(text("SELECT count(*) FROM recommendations")).scalar()


@pytest.mark.parametrize("where", ["missing/dir/x.png", "/proc/x.png", "folder"])
def test_bad_plot_path_fails_first_and_saves_nothing(invoke, tmp_path, history_url, profile_file, where):
    (tmp_path / "folder").mkdir()
    target = tmp_path / where if not where.startswith("/") else where
    target = f"{target}.png" if where == "folder" else target
    if where == "folder":
        (tmp_path / "folder.png").mkdir()
    result = invoke("recommend", "--profile", profile_file, *JOB, "--plot", target)
    assert result.exit_code == 1, result.output
    assert "--plot" in result.output and "Fix:" in result.output and "Traceback" not in result.output
    assert _saved(history_url) == 0


def test_a_plot_that_fails_to_render_saves_nothing_and_leaves_no_file(invoke, tmp_path, history_url,
                                                                         profile_file, monkeypatch):
    from advisor.cli import plot

    def broken(rec, path):
        path.write_bytes(b"half a png")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plot, "plot_recommendation", broken)
    target = tmp_path / "x.png"
    result = invoke("recommend", "--profile", profile_file, *JOB, "--plot", target)
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.output
    assert _saved(history_url) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("history.db")) == ["profile.json"]


def test_the_plot_is_written_and_the_row_saved_when_all_is_well(invoke, tmp_path, history_url, profile_file):
    target = tmp_path / "x.svg"
    result = invoke("recommend", "--profile", profile_file, *JOB, "--plot", target)
    assert result.exit_code == 0, result.output
    assert target.read_text().lstrip().startswith("<?xml") and _saved(history_url) == 1


def test_a_save_that_fails_leaves_an_older_plot_in_place(invoke, tmp_path, history_url, profile_file,
                                                         monkeypatch):
    # A locked or unreachable history fails at the save, after the plot was drawn: the plot of a recommendation
    # that was not stored must not replace the one already there ("Nothing was written." stays true).
    from advisor.errors import HistoryError
    from advisor.history.repository import History

    def locked(self, *args, **kwargs):
        raise HistoryError("The history database failed: database is locked. Nothing was written.")

    monkeypatch.setattr(History, "save_recommendation", locked)
    target = tmp_path / "x.svg"
    target.write_text("the plot of the last green run")
    result = invoke("recommend", "--profile", profile_file, *JOB, "--plot", target)
    assert result.exit_code == 1, result.output
    assert "Nothing was written." in result.output and "Traceback" not in result.output
    assert target.read_text() == "the plot of the last green run"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("history.db")) == [
        "profile.json", "x.svg"]


def test_profile_output_is_checked_before_the_probe(invoke, tmp_path):
    import time

    started = time.monotonic()
    result = invoke("profile", "examples/tabular_mlp.py", "-o", tmp_path / "nope" / "p.json")
    assert result.exit_code == 1 and "does not exist" in result.output and "Traceback" not in result.output
    assert time.monotonic() - started < 5  # no probe ran


def test_unusable_history_fails_before_the_probe(invoke, tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("ADVISOR_DATABASE_URL", "sqlite:////proc/advisor/h.db")
    started = time.monotonic()
    result = invoke("recommend", "examples/tabular_mlp.py", *JOB)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert time.monotonic() - started < 5  # refused before any probe


@pytest.mark.parametrize(("flag_args", "flag", "tail"), [
    (("recommend", "--profile", "PROFILE", *JOB, "--plot"), "--plot", "NAME.png"),
    (("history", "export", "--format", "csv", "-o"), "--output", "NAME.csv"),
    (("profile", "examples/tabular_mlp.py", "-o"), "-o", "NAME.json"),
    (("history", "export", "--format", "csv", "-o"), "--output", "NAME/x.csv"),
])
def test_a_name_over_255_bytes_is_one_message_before_the_run(invoke, tmp_path, history_url, profile_file,
                                                             flag_args, flag, tail):
    """Path.is_dir() raises ENAMETOOLONG for such a name (it does not say False), which was a traceback: the
    length check came after it."""
    target = tmp_path / tail.replace("NAME", "é" * 150)  # 300 bytes in UTF-8
    args = [profile_file if a == "PROFILE" else a for a in flag_args]
    result = invoke(*args, target)
    assert result.exit_code == 1
    words = ("the file name is longer than 255 bytes.\nFix: a shorter name." if tail.startswith("NAME.")
             else f"cannot be used (File name too long).\nFix: pass {flag} with a shorter path.")
    assert result.output == f"error: {flag} {target}: {words}\n"
    assert _saved(history_url) == 0


def test_a_plot_path_in_a_loop_of_links_fails_before_the_run(invoke, tmp_path, history_url, profile_file):
    """is_dir() says False for a loop, so the path passed the check and failed only after the run, told to "free
    some space"."""
    (tmp_path / "la.png").symlink_to("lb.png")
    (tmp_path / "lb.png").symlink_to("la.png")
    result = invoke("recommend", "--profile", profile_file, *JOB, "--plot", tmp_path / "la.png")
    assert result.exit_code == 1
    assert result.output == (f"error: --plot {tmp_path / 'la.png'}: cannot be used (Too many levels of symbolic "
                             "links).\nFix: the path goes through symbolic links that lead back to themselves; point "
                             "the link at a file, or pass --plot with another path.\n")
    assert _saved(history_url) == 0


@pytest.mark.parametrize(("error", "hint"), [
    (OSError(28, "No space left on device"), "Fix: free some space, or pass --plot with another path."),
    (PermissionError(13, "Permission denied"), "Fix: pass --plot with another path."),
])
def test_free_some_space_only_where_space_ran_out(invoke, tmp_path, history_url, profile_file, monkeypatch,
                                                 error, hint):
    from advisor.cli import plot

    def broken(rec, path):
        raise error

    monkeypatch.setattr(plot, "plot_recommendation", broken)
    result = invoke("recommend", "--profile", profile_file, *JOB, "--plot", tmp_path / "x.png")
    assert result.exit_code == 1
    assert result.output.endswith(f"({error.strerror}).\n{hint}\n"), result.output
