"""``advisor.probe.line_end``: the probe child's streams record whether the last text written left a line open,
so that the parent's error starts a line of its own (it followed an input() prompt: "continue? error: ...")."""

from __future__ import annotations

import io

from advisor.probe.line_end import LineEnd


def tracked_pair(tmp_path):
    target = open(tmp_path / "stderr.txt", "w+", encoding="utf-8")  # noqa: SIM115 - closed by the test
    line_end = LineEnd()
    return line_end, line_end.track(target), target


def test_a_line_left_open_is_closed_and_an_ended_one_is_not(tmp_path):
    line_end, stream, target = tracked_pair(tmp_path)
    stream.write("loading\ncontinue? ")
    line_end.close_line(stream)
    stream.write("done\n")
    line_end.close_line(stream)
    stream.flush()
    target.seek(0)
    assert target.read() == "loading\ncontinue? \ndone\n"
    target.close()


def test_the_last_stream_written_decides(tmp_path):
    # stdout and stderr share the descriptor in the child: a print after a prompt on the other ends the line.
    line_end, err, target = tracked_pair(tmp_path)
    out = line_end.track(target)
    err.write("continue? ")
    err.flush()
    print("answer", file=out)
    out.flush()
    line_end.close_line(err)
    err.flush()
    target.seek(0)
    assert target.read() == "continue? answer\n"
    target.close()


def test_a_stream_without_a_descriptor_is_kept_as_it_is():
    notebook = io.StringIO()  # fileno() raises, as a notebook's stream does
    assert LineEnd().track(notebook) is notebook
    assert LineEnd().track(None) is None
