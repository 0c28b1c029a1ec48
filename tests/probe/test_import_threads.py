"""A workload file that sets PyTorch's CPU threads as it is imported (``torch.set_num_threads(1)`` at its top
level): the CPU probe runs on them, as the job would, and a note says so. The prediction for a 2-core machine
said 1 thread, with nothing saying why."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from advisor.probe.defaults import defaults_frame, import_threads_note
from advisor.probe.frames import MAX_SENT_THREADS, WorkloadFrame, encode, parse_child_frame

HELD = SimpleNamespace(dataset_size=10, epochs=1, batch_size=8)


def test_the_note_names_the_file_the_threads_and_the_flag():
    frame = defaults_frame(HELD, (2, 1))
    assert import_threads_note(frame, "threads1.py", ["cpu"]) == [
        "cpu: importing threads1.py set PyTorch's CPU threads to 1 (torch.set_num_threads; 2 here by default): the "
        "CPU probe ran on 1, as the job would, so a prediction for this CPU is for 1 thread; --threads N probes and "
        "predicts N instead."]
    assert "is for 6 threads;" in import_threads_note(defaults_frame(HELD, (2, 6)), None, ["cpu", "cuda:0"])[0]


@pytest.mark.parametrize("threads, devices", [(None, ["cpu"]), ((2, 1), ["cuda:0"]), ((2, 1), [])])
def test_no_note_where_nothing_changed_or_the_cpu_was_not_probed(threads, devices):
    assert import_threads_note(defaults_frame(HELD, threads), "w.py", devices) == []
    assert import_threads_note(None, "w.py", ["cpu"]) == []


def test_the_threads_cross_to_the_parent_and_a_count_out_of_range_is_not_sent():
    frame = parse_child_frame(encode(defaults_frame(HELD, (8, 1)))[8:])  # after the length
    assert isinstance(frame, WorkloadFrame) and frame.import_threads == (8, 1)
    assert defaults_frame(HELD, (8, MAX_SENT_THREADS + 1)).import_threads is None
