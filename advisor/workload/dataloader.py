"""Calls into a workload's ``make_dataloader``: one pass over its batches (``LoaderRun``: build, iterate, shut the
worker processes down), the ``make_batch`` derived from it (``FirstLoaderBatch``), and the small facts read from
any batch (``sample_count``) or user traceback (``user_line``).

Torch-free (tensors are handled by duck typing: ``shape``, ``nbytes``, ``clone``), so that ``advisor.workload``
loads without torch; what the user's code raised becomes a ``WorkloadError`` naming make_dataloader, with the
workload file's line where there is one (also for an error raised in a DataLoader worker process, whose traceback
comes back as text).
"""

from __future__ import annotations

import gc
import re
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from advisor.errors import WorkloadError
from advisor.workload.describe import describe, exception_text


class FirstLoaderBatch:
    """``make_batch`` derived from ``make_dataloader``: the first batch of ``make_dataloader(batch_size, 0)``.

    Made once per batch size (the latest one is kept) and handed out as copies, so that a step that changes
    its inputs in place cannot change the next; not pickled with the workload (the copy is remade where needed).
    """

    def __init__(self, workload: Any) -> None:
        self.workload = workload
        self._cached: tuple[int, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"workload": self.workload, "_cached": None}

    def __call__(self, batch_size: int) -> Any:
        if self._cached is None or self._cached[0] != batch_size:
            self._cached = None  # the previous batch size's tensors go before the new ones are made
            self._cached = (batch_size, self._make(batch_size))
        return _copied(self._cached[1])

    def _make(self, batch_size: int) -> Any:
        workload = self.workload
        with LoaderRun(workload, batch_size, 0) as run:
            batch = run.next_batch()
        if batch is None:
            raise run.empty_error()
        count = sample_count(batch)
        if count is not None and count != batch_size:
            raise WorkloadError(
                f"{workload.label}: make_dataloader({batch_size}, 0) yielded a first batch of {count} samples, not "
                f"{batch_size}; without a make_batch, the training step is timed on the loader's first batch.",
                hint="Fix: pass batch_size to the DataLoader (DataLoader(dataset, batch_size=batch_size, ...)) "
                f"and give it at least {batch_size} samples, or define make_batch(batch_size).")
        return batch


def _copied(obj: Any) -> Any:
    """Tensors cloned inside tuples/lists/dicts; anything else as it is."""
    if hasattr(obj, "clone") and hasattr(obj, "shape"):
        return obj.clone()
    if isinstance(obj, dict):
        return {k: _copied(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(_copied(v) for v in obj)
    return obj


def sample_count(batch: Any) -> int | None:
    """How many samples a batch holds: the leading dimension of its first tensor (None: no tensor in it)."""
    if hasattr(batch, "shape") and hasattr(batch, "nbytes"):
        return int(batch.shape[0]) if len(batch.shape) else 1
    items = batch.values() if isinstance(batch, dict) else batch if isinstance(batch, (tuple, list)) else ()
    for item in items:
        count = sample_count(item)
        if count is not None:
            return count
    return None


# What DataLoader warns when pin_memory=True meets a machine without a GPU: expected here, and the probe records
# the loader's intent (pin_memory) itself.
_NO_ACCELERATOR_WARNING = ".*pin_memory.*no accelerator.*|.*pin_memory.*CUDA is not available.*"


class LoaderRun:
    """One pass over ``workload.make_dataloader(batch_size, num_workers)``: batches one at a time, what the
    user's code raised as a WorkloadError naming make_dataloader, and on exit the worker processes shut down
    (the iterator's ``_shutdown_workers``, then a garbage collection), so that none outlives the run.

    Use as a context manager: ``with LoaderRun(w, 64, 2) as run: batch = run.next_batch()``.
    """

    def __init__(self, workload: Any, batch_size: int, num_workers: int) -> None:
        self.workload = workload
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.loader: Any = None
        self._iterator: Iterator[Any] | None = None
        self._filter: tuple | None = None

    @property
    def call(self) -> str:
        return f"make_dataloader({self.batch_size}, {self.num_workers})"

    def __enter__(self) -> LoaderRun:
        self._filter = _add_ignore(_NO_ACCELERATOR_WARNING, UserWarning)
        try:
            self._open()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _open(self) -> None:
        workload = self.workload
        if workload.make_dataloader is None:
            raise WorkloadError(f"{workload.label}: no make_dataloader defined.",
                                hint="Fix: define make_dataloader(batch_size, num_workers) in the workload.")
        try:
            self.loader = workload.make_dataloader(self.batch_size, self.num_workers)
        except Exception as exc:  # noqa: BLE001 - user code: make_dataloader
            raise self._error("raised", exc) from exc
        if not hasattr(self.loader, "__iter__"):
            raise WorkloadError(
                f"{workload.label}: {self.call} returned {describe(self.loader)}, which is not iterable.",
                hint="Fix: return an iterable of (inputs, target) batches, e.g. "
                "torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=num_workers).")
        try:
            self._iterator = iter(self.loader)
        except Exception as exc:  # noqa: BLE001 - user code: the loader's __iter__ (starts its workers)
            raise self._error("failed to start iterating", exc) from exc

    def restart(self) -> None:
        """A new pass over the loader (its data ran out): the old iterator's workers shut down, new ones start;
        a loader with ``persistent_workers=True`` keeps them (its next ``iter`` resets them, as a job's next
        epoch does: shutting them down left it a closed queue to start from)."""
        if getattr(self.loader, "persistent_workers", False) is not True \
                or getattr(self.loader, "_iterator", None) is None:
            self._shutdown()
        try:
            self._iterator = iter(self.loader)
        except Exception as exc:  # noqa: BLE001 - user code: the loader's __iter__ (starts its workers)
            raise self._error("failed to start iterating", exc) from exc

    def worker_pids(self) -> list[int]:
        """The process ids of the current pass's worker processes (a DataLoader's; none for other iterables)."""
        workers = getattr(self._iterator, "_workers", None) or []
        return [int(w.pid) for w in workers if isinstance(getattr(w, "pid", None), int)]

    def next_batch(self) -> Any:
        """The next batch, or None at the end of the loader's data."""
        try:
            return next(self._iterator)
        except StopIteration:
            return None
        except Exception as exc:  # noqa: BLE001 - user code: the dataset, its transforms, the collate
            raise self._error("failed while making a batch", exc) from exc

    def empty_error(self) -> WorkloadError:
        return WorkloadError(f"{self.workload.label}: {self.call} yielded no batch.",
                             hint="Fix: give the loader's dataset at least one batch of samples (a DataLoader "
                             "with drop_last=True yields nothing from fewer than batch_size samples).")

    def _error(self, what: str, exc: BaseException) -> WorkloadError:
        text = exception_text(exc, 100_000)
        where = user_line(exc, self.workload.path)
        if "Original Traceback" in text:
            # Raised in a worker process: DataLoader re-raises it here with the worker's traceback as text.
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            text = lines[-1].removeprefix(f"{type(exc).__name__}: ")
            path = self.workload.path
            found = [n for f, n in re.findall(r'File "([^"]+)", line (\d+)', str(exc))
                     if path is not None and _same_file(f, path)]
            where = f":{found[-1]}" if found else where
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:300]
        return WorkloadError(
            f"{self.workload.label}{where}: {self.call} {what}{' ' if what == 'raised' else ': '}"
            f"{type(exc).__name__}: {line}",
            hint="Fix: make make_dataloader(batch_size, num_workers) run on its own (e.g. "
            "`next(iter(make_dataloader(8, 2)))` in plain Python) and yield (inputs, target) batches, at any "
            "batch size and with worker processes.")

    def _shutdown(self) -> None:
        iterator, self._iterator = self._iterator, None
        for owner in (iterator, getattr(self.loader, "_iterator", None)):
            shutdown = getattr(owner, "_shutdown_workers", None)
            if callable(shutdown):
                try:
                    shutdown()
                except Exception:  # noqa: BLE001 - user code: a loader's own shutdown; the gc below ends it
                    pass
        del iterator

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self._shutdown()
            self.loader = None
            gc.collect()
        finally:
            _drop_filter(self._filter)
            self._filter = None


def _add_ignore(message: str, category: type[Warning]) -> tuple:
    """Put an ``ignore`` filter for ``message`` at the front of ``warnings.filters`` and return it: an entry of
    this run's own, even where an equal one is there already, so that ``_drop_filter`` takes out this one only.
    Not ``warnings.catch_warnings()``: that swaps the process-wide list and, when it puts its copy back, undoes
    every filter added meanwhile, by the loader's own code (a data library imported there) or by another thread
    of the caller's process. Not shared with an equal entry either: two threads' runs at once, the second reusing
    the first's, lost it when the first ended, and its loader's pin_memory warning was shown."""
    entry = ("ignore", re.compile(message, re.I), category, None, 0)  # as filterwarnings makes it
    warnings.filters.insert(0, entry)  # not filterwarnings(): it takes an equal entry out first (the caller's)
    getattr(warnings, "_filters_mutated", lambda: None)()
    return entry


def _drop_filter(entry: tuple | None) -> None:
    """Take ``entry`` (``_add_ignore``'s) out of ``warnings.filters``, by identity: other entries, equal ones
    included, stay."""
    filters = warnings.filters
    for i, f in enumerate(filters):
        if f is entry:
            del filters[i]
            # Warnings' caches (each module's __warningregistry__) hold for one version of the filters: bump it.
            getattr(warnings, "_filters_mutated", lambda: None)()
            return


def _same_file(name: str, path: Path) -> bool:
    try:
        return Path(name).resolve() == path.resolve()
    except OSError:
        return False


def user_line(exc: BaseException, path: Path | None) -> str:
    """':LINE' of the deepest frame of ``exc`` inside the workload file ``path``, or '' (also when no path)."""
    if path is None:
        return ""
    line = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = f":{frame.lineno}"
    return line
