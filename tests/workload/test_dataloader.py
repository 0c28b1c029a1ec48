"""A workload's make_dataloader and NUM_WORKERS: loading, the make_batch derived from the loader, the workload
check of the loader's first batch, and each way a loader can be wrong as one clear WorkloadError."""

from __future__ import annotations

import pickle

import pytest
import torch
from workload_helpers import GOOD_BATCH, assert_message, write

from advisor.errors import WorkloadError
from advisor.workload import LoaderRun, Workload, check_workload, load_workload, sample_count

# A convolutional model fed 3 x 8 x 8 images, 4 classes.
MODEL = """\
def build_model():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 4))
"""
DATASET = """\
from torch.utils.data import DataLoader, Dataset


class Images(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((3, 8, 8), float(i)), i % 4

"""
LOADER = """\
def make_dataloader(batch_size, num_workers):
    return DataLoader(Images(64), batch_size=batch_size, num_workers=num_workers)
"""


def loader_file(tmp_path, body: str = LOADER, extra: str = ""):
    return write(tmp_path, DATASET + MODEL + extra + body)


def test_make_batch_is_derived_from_the_loader(tmp_path):
    workload = load_workload(loader_file(tmp_path))
    assert workload.make_batch_derived and workload.num_workers is None
    x, y = workload.make_batch(5)
    assert x.shape == (5, 3, 8, 8) and x.dtype == torch.float32
    assert y.tolist() == [0, 1, 2, 3, 0]  # the loader's first batch (no shuffle): samples 0..4
    x.add_(100.0)  # a step that changes its inputs in place does not change the next batch
    again, _ = workload.make_batch(5)
    assert again[1, 0, 0, 0].item() == 1.0
    assert workload.make_batch(3)[0].shape == (3, 3, 8, 8)


def test_the_derived_make_batch_pickles_without_its_tensors(tmp_path):
    workload = load_workload(loader_file(tmp_path))
    workload.make_batch(32)
    copy = pickle.loads(pickle.dumps(workload))
    assert copy.make_batch._cached is None
    assert copy.make_batch(4)[0].shape == (4, 3, 8, 8)


def test_check_runs_a_step_on_the_loaders_first_batch(tmp_path):
    result = check_workload(load_workload(loader_file(tmp_path, extra="NUM_WORKERS = 3\n")))
    assert result.input_summary == "Tensor[2, 3, 8, 8] float32"
    assert result.target_summary == "Tensor[2] int64"
    assert result.param_count == 3 * 4 * 9 + 4 + 4 * 4 + 4


def test_make_batch_stays_when_both_are_given(tmp_path):
    body = LOADER + "\n\ndef make_batch(batch_size):\n    return torch.zeros(batch_size, 3, 8, 8), " \
                    "torch.zeros(batch_size, dtype=torch.long)\n"
    workload = load_workload(loader_file(tmp_path, body))
    assert not workload.make_batch_derived
    assert workload.make_batch(2)[0].sum().item() == 0.0
    check_workload(workload)


def test_neither_make_batch_nor_make_dataloader(tmp_path):
    path = write(tmp_path, MODEL)
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, str(path), "no make_batch function defined")


@pytest.mark.parametrize("body, phrases", [
    ("def make_dataloader(batch_size, num_workers):\n    raise FileNotFoundError('no images in /data')\n",
     ["raise FileNotFoundError", "make_dataloader(2, 0) raised FileNotFoundError: no images in /data"]),
    ("def make_dataloader(batch_size, num_workers):\n    return 42\n",
     ["make_dataloader(2, 0) returned an int, which is not iterable"]),
    ("def make_dataloader(batch_size, num_workers):\n    return []\n", ["make_dataloader(2, 0) yielded no batch"]),
    ("def make_dataloader(batch_size, num_workers):\n    return [('pixels', 'labels')]\n",
     ["make_dataloader(2, 0) yielded inputs that are not tensors", "inputs is a str"]),
    ("def make_dataloader(batch_size, num_workers):\n    return [torch.zeros(batch_size, 3, 8, 8)]\n",
     ["make_dataloader(2, 0) yielded a tensor of shape (2, 3, 8, 8)", "expected a pair (inputs, target)"]),
    ("def make_dataloader(batch_size, num_workers):\n    return [(torch.zeros(batch_size, 3, 8, 8), [1, 2])]\n",
     ["make_dataloader(2, 0) yielded a target that is a list of 2 items"]),
    ("class Broken(Images):\n    def __getitem__(self, i):\n        raise ValueError(f'sample {i} is corrupt')\n\n\n"
     "def make_dataloader(batch_size, num_workers):\n    return DataLoader(Broken(8), batch_size=batch_size)\n",
     ["raise ValueError", "make_dataloader(2, 0) failed while making a batch: ValueError: sample 0 is corrupt"]),
])
def test_a_broken_loader_is_one_clear_error(tmp_path, body, phrases):
    path = loader_file(tmp_path, body)
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(path))
    if phrases[0].startswith("raise "):  # the message names the file's line that raised
        phrases = [f"{path}:{line_of(path, phrases[0])}:", *phrases[1:]]
    assert_message(err, str(path), *phrases)


def line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_loader_error_from_a_worker_process_names_the_file_line(tmp_path):
    body = ("class Broken(Images):\n    def __getitem__(self, i):\n        raise ValueError(f'sample {i} is corrupt')\n"
            "\n\ndef make_dataloader(batch_size, num_workers):\n"
            "    return DataLoader(Broken(8), batch_size=batch_size, num_workers=num_workers)\n")
    path = loader_file(tmp_path, body)
    workload = load_workload(path)
    with pytest.raises(WorkloadError) as err, LoaderRun(workload, 4, 1) as run:
        run.next_batch()
    where = f"{path}:{line_of(path, 'raise ValueError')}:"
    message = assert_message(err, where, "make_dataloader(4, 1) failed while making a batch: ValueError: sample 0 "
                             "is corrupt")
    assert "Original Traceback" not in message and "ValueError: ValueError" not in message


def test_the_derived_make_batch_needs_a_full_first_batch(tmp_path):
    path = loader_file(tmp_path, "def make_dataloader(batch_size, num_workers):\n"
                                 "    return DataLoader(Images(6), batch_size=batch_size)\n")
    workload = load_workload(path)
    with pytest.raises(WorkloadError) as err:
        workload.make_batch(8)
    assert_message(err, "make_dataloader(8, 0) yielded a first batch of 6 samples, not 8", "make_batch(batch_size)")


@pytest.mark.parametrize("value", ["-1", "2.5", "'4'", "True", "None"])
def test_num_workers_must_be_a_whole_number(tmp_path, value):
    path = loader_file(tmp_path, extra=f"NUM_WORKERS = {value}\n")
    if value == "None":  # not set
        assert load_workload(path).num_workers is None
        return
    with pytest.raises(WorkloadError) as err:
        load_workload(path)
    assert_message(err, str(path), f"NUM_WORKERS = {value}", "0 or more")


@pytest.mark.parametrize("value", [0, 4])
def test_num_workers_is_read(tmp_path, value):
    path = write(tmp_path, MODEL + GOOD_BATCH + f"NUM_WORKERS = {value}\n")
    workload = load_workload(path)
    assert workload.num_workers == value and workload.make_dataloader is None and not workload.make_batch_derived


def test_python_workload_arguments():
    def loader(batch_size, num_workers):
        return [(torch.zeros(batch_size, 4), torch.zeros(batch_size, dtype=torch.long))] * 3

    workload = Workload(model=lambda: torch.nn.Linear(4, 2), make_dataloader=loader, num_workers=2, name="api")
    assert workload.num_workers == 2 and workload.make_batch(3)[0].shape == (3, 4)
    check_workload(workload)
    with pytest.raises(WorkloadError) as err:
        Workload(model=lambda: torch.nn.Linear(4, 2), make_dataloader=loader, num_workers=-2)
    assert_message(err, "workload 'workload'", "NUM_WORKERS = -2")
    with pytest.raises(WorkloadError) as err:
        Workload(model=lambda: torch.nn.Linear(4, 2))
    assert_message(err, "no make_batch given")
    with pytest.raises(WorkloadError) as err:
        Workload(model=lambda: torch.nn.Linear(4, 2), make_dataloader="loader.py")
    assert_message(err, "workload 'workload': make_dataloader= must be a function make_dataloader(batch_size, "
                   "num_workers) that returns an iterable of (inputs, target) batches, not a str ('loader.py').")


def test_sample_count():
    assert sample_count((torch.zeros(7, 3), torch.zeros(7))) == 7
    assert sample_count({"ids": torch.zeros(5, 2, dtype=torch.long)}) == 5
    assert sample_count(("text", [1, 2])) is None


def test_the_derived_make_batch_keeps_the_filters_its_loader_added(recwarn):
    """LoaderRun hid the DataLoader's pin_memory warning with ``warnings.catch_warnings()``, which swaps the
    process-wide filter list and puts its copy back at the end: called in the caller's process (the ``make_batch``
    derived from ``make_dataloader``), it threw away a filter the loader's own code added (a data library that
    filters its warnings as it is first imported there), and any that another thread added meanwhile."""
    import warnings

    def make_dataloader(batch_size, num_workers):
        warnings.filterwarnings("ignore", message="the data library's own filter")
        return [(torch.zeros(batch_size, 3), torch.zeros(batch_size, dtype=torch.long))]

    before = list(warnings.filters)
    try:
        inputs, _ = Workload(model=torch.nn.Linear(3, 4), make_dataloader=make_dataloader).make_batch(2)
        added = [f for f in warnings.filters if f not in before]
        assert inputs.shape == (2, 3)
        assert [(f[0], f[1].pattern) for f in added] == [("ignore", "the data library's own filter")]
    finally:
        warnings.filters[:] = before
        getattr(warnings, "_filters_mutated", lambda: None)()


def test_a_loader_run_drops_only_its_own_filter():
    """The pin_memory filter is in place while the loader runs and gone after; a caller's equal filter stays."""
    import warnings

    from advisor.workload.dataloader import _NO_ACCELERATOR_WARNING

    def pinned(f):
        return f[0] == "ignore" and f[1] is not None and f[1].pattern == _NO_ACCELERATOR_WARNING

    seen = []

    def make_dataloader(batch_size, num_workers):
        seen.append(sum(map(pinned, warnings.filters)))
        return [(torch.zeros(batch_size, 3), torch.zeros(batch_size, dtype=torch.long))]

    workload = Workload(model=torch.nn.Linear(3, 4), make_dataloader=make_dataloader)
    before = list(warnings.filters)
    try:
        with LoaderRun(workload, 2, 0) as run:
            assert run.next_batch() is not None
        assert seen == [1] and list(warnings.filters) == before
        warnings.filterwarnings("ignore", message=_NO_ACCELERATOR_WARNING, category=UserWarning)  # the caller's
        callers = warnings.filters[0]
        with LoaderRun(workload, 2, 0) as run:
            assert run.next_batch() is not None
        # the run's own entry beside the caller's while it ran; after it, the caller's alone, the same object
        assert seen == [1, 2] and [f for f in warnings.filters if pinned(f)] == [callers]
        assert any(f is callers for f in warnings.filters)
    finally:
        warnings.filters[:] = before
        getattr(warnings, "_filters_mutated", lambda: None)()


def test_two_threads_loader_runs_each_keep_the_pin_memory_warning_hidden():
    """Two threads' loader runs at once (a thread pool of predictions whose make_batch comes from make_dataloader):
    the second found the first's equal filter, added none of its own, and lost it when the first run ended, so
    its loader's pin_memory warning was shown to the user."""
    import threading
    import warnings

    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()

    def loader(first):
        def make_dataloader(batch_size, num_workers):
            if first:
                first_in.set()
                second_in.wait(10)
            else:
                second_in.set()
                first_done.wait(10)  # the first run has ended: its filter is gone
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                              "pinned memory won't be used.", UserWarning, stacklevel=1)  # as a CPU-only DataLoader
            return [(torch.zeros(batch_size, 3), torch.zeros(batch_size, dtype=torch.long))]
        return Workload(model=torch.nn.Linear(3, 4), make_dataloader=make_dataloader)

    def run(first):
        if not first:
            first_in.wait(10)
        with LoaderRun(loader(first), 2, 0) as loader_run:
            loader_run.next_batch()
        if first:
            first_done.set()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=run, args=(first,)) for first in (True, False)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert first_done.is_set() and not any(t.is_alive() for t in threads)
        assert [str(w.message) for w in caught if "pin_memory" in str(w.message)] == []
