"""Loading a user's workload file into a ``Workload``, and the file-level facts read without running it.

A workload file defines ``build_model()`` and ``make_batch(batch_size)`` (required; ``make_batch`` may be left
out when the file defines ``make_dataloader``), and optionally
``loss_fn(output, target)``, ``configure_optimizer(params)``, ``make_dataloader(batch_size, num_workers)`` and the
defaults ``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE`` and ``NUM_WORKERS``, and how the job steps: ``PRECISION``,
``COMPILE``, ``GRAD_ACCUM_STEPS``, ``EVAL_EVERY`` and ``EVAL_STEPS`` (``advisor.workload.job.JOB_SETTINGS``; read
in the advisor process by ``advisor.workload.constants`` without running the file). Python users build the same
thing with ``advisor.Workload(model=..., make_batch=..., make_dataloader=..., num_workers=..., precision=...)``.

``make_dataloader(batch_size, num_workers)`` is the real input pipeline (decode, augment, collate; on a sample of
the real data, or on files it makes itself): it returns an iterable of ``(inputs, target)`` batches, typically a
``torch.utils.data.DataLoader`` with ``num_workers`` worker processes. The probe times it on this machine
(``advisor.probe.input_pipeline``) to bound every candidate's step by how fast its vCPUs can feed it. ``make_batch``
stays what the training step is timed and analysed with; when a file defines ``make_dataloader`` but no
``make_batch``, ``make_batch(batch_size)`` is derived: the first batch of ``make_dataloader(batch_size, 0)``, made
once per batch size and handed out as copies (so the probe times the step, not the loader, which it times apart).
``NUM_WORKERS`` (a whole number, 0 or more) is how many loader workers each training process of the real job uses.

This module owns the path check and the ``Workload`` object (running the file as a module, and what its failure
says, is ``advisor.workload.file_import``; the calls into its loader are ``advisor.workload.dataloader``); it
never times anything (that is ``advisor.probe``) and never imports torch at module level, so that ``import
advisor`` stays fast.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shlex
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor.data_files import example_file
from advisor.errors import WorkloadError, did_you_mean
from advisor.option_words import python_surface
from advisor.output_file import non_utf8_shown
from advisor.schemas import JobSpec
from advisor.schemas.profile import MAX_WORKLOAD_NAME_CHARS
from advisor.workload.callables import check_functions
from advisor.workload.constants import WorkloadFile, read_file_constants
from advisor.workload.dataloader import FirstLoaderBatch, user_line
from advisor.workload.describe import cpu_hint, describe, exception_text, raised
from advisor.workload.file_import import import_file
from advisor.workload.identity import checked_name, workload_name
from advisor.workload.job import (
    checked_num_workers,
    declared_count,
    over_bound_error,
    over_job_bound,
    positive_int,
    resolve_job,
)
from advisor.workload.siblings import FileFolder, folder_first_for_life, in_folder

# The workload file's constants read by read_defaults, and the job field each one sets.
_DEFAULT_NAMES = {"DATASET_SIZE": "dataset_size", "EPOCHS": "epochs", "BATCH_SIZE": "batch_size"}


class Workload:
    """A trainable workload: a model factory, a batch factory, and optionally a loss, an optimizer and a loader.

    Args:
        model: an ``nn.Module`` or a zero-argument callable that builds one (a fresh model per probe).
        make_batch: ``make_batch(batch_size) -> (inputs, target)``; ``target`` may be ``None`` when the
            model returns its own scalar loss. Optional when ``make_dataloader`` is given: then the first batch
            of ``make_dataloader(batch_size, 0)`` (made once per batch size, handed out as copies).
        loss_fn: ``loss_fn(output, target) -> scalar tensor``; default cross-entropy for integer targets,
            mean squared error otherwise.
        optimizer: ``optimizer(params) -> torch.optim.Optimizer``; default ``AdamW(lr=1e-3)``.
        make_dataloader: ``make_dataloader(batch_size, num_workers) -> iterable of (inputs, target)``: the real
            input pipeline (e.g. a ``torch.utils.data.DataLoader``), timed by the probe at several worker counts.
        num_workers: loader worker processes per training process in the real job (a file's ``NUM_WORKERS``);
            None: the advisor assumes what each target can afford.
        name: shown in outputs and stored in history; defaults to the file stem or "workload".
        dataset_size, epochs, batch_size: defaults for the job; CLI flags and API arguments override.
        precision, compile, grad_accum_steps, eval_every, eval_steps: how the job steps (a file's
            ``PRECISION``, ``COMPILE``, ``GRAD_ACCUM_STEPS``, ``EVAL_EVERY``, ``EVAL_STEPS``); None: not set.
            Checked when a job is resolved (``advisor.workload.job.resolve_settings``).
        label: how messages name the workload (a file's path as the user wrote it, where ``path`` is absolute);
            defaults to the path, else "workload 'name'".
    """

    @python_surface
    def __init__(
        self,
        model: Any = None,  # None only so that Workload(build_model=...) reaches the message naming model=
        make_batch: Callable[[int], Any] | None = None,
        loss_fn: Callable[[Any, Any], Any] | None = None,
        optimizer: Callable[[Any], Any] | None = None,
        *,
        make_dataloader: Callable[[int, int], Any] | None = None,
        num_workers: int | None = None,
        name: str = "workload",
        dataset_size: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        path: Path | None = None,
        file_sha256: str | None = None,
        precision: str | None = None,
        compile: bool | None = None,  # the file's COMPILE (the flag's name, though it shadows a builtin)
        grad_accum_steps: int | None = None,
        eval_every: int | None = None,
        eval_steps: int | None = None,
        label: str | None = None,
        **unknown: Any,
    ) -> None:
        label = label or (str(path) if path else f"workload {name!r}")
        if unknown:
            raise _unknown_keyword(next(iter(unknown)), label)
        if model is None:
            raise WorkloadError(f"{label}: no model given.",
                                hint="Fix: pass model=build_model (a function returning an nn.Module) or an nn.Module.")
        if path is None:  # the caller's own name=, checked as --name is; a file's name: its command checks it
            name = checked_name(name, "advisor.Workload(name=...)")  # (``advisor.workload.identity``)
        check_functions(label, path is not None, {"model": model, "make_batch": make_batch, "loss_fn": loss_fn,
                                                  "optimizer": optimizer, "make_dataloader": make_dataloader})
        if make_batch is None and make_dataloader is None:
            raise WorkloadError(f"{label}: no make_batch given (and no make_dataloader to derive it from).",
                                hint="Fix: pass make_batch=lambda batch_size: (inputs, target), or "
                                "make_dataloader=... returning an iterable of (inputs, target) batches.")
        self.model = model
        self.make_dataloader = make_dataloader
        self.num_workers = checked_num_workers(num_workers, label)
        self.make_batch_derived = make_batch is None
        self.make_batch = make_batch if make_batch is not None else FirstLoaderBatch(self)
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.name = name
        self.dataset_size = dataset_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.path = path
        self.file_sha256 = file_sha256
        self.precision = precision
        self.compile = compile
        self.grad_accum_steps = grad_accum_steps
        self.eval_every = eval_every
        self.eval_steps = eval_steps
        self._label = label

    def job_constants(self) -> dict[str, object]:
        """How the job steps, by the file constant's name (``PRECISION``...): the values set, None where not."""
        return {"PRECISION": self.precision, "COMPILE": self.compile, "GRAD_ACCUM_STEPS": self.grad_accum_steps,
                "EVAL_EVERY": self.eval_every, "EVAL_STEPS": self.eval_steps}

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return f"Workload({self.name!r}{where})"

    @property
    def label(self) -> str:
        """How error messages name this workload: the file path as the user wrote it, or the name."""
        return self._label

    @python_surface
    def build_model(self):
        """A model instance: a fresh one from a factory, or the module the user passed."""
        import torch

        model = self.model
        if isinstance(model, torch.nn.Module):
            return self._refuse_meta(model, "the model")
        if not callable(model):
            raise WorkloadError(
                f"{self.label}: the model is {describe(model)}, not an nn.Module or a function.",
                hint="Fix: pass an nn.Module, or a function that returns one (build_model).",
            )
        return self._refuse_meta(self._call_user_factory(
            "build_model", model, (), torch.nn.Module, "torch.nn.Module",
            raised_hint=self._alone_hint(),
            returned_hint="Fix: return the model object, e.g. `return nn.Sequential(...)`.",
        ), "build_model() returned a model that")

    def _refuse_meta(self, model: Any, what: str) -> Any:
        """``model``, or a WorkloadError where its tensors are on the meta device (``torch.device("meta")``,
        ``init_empty_weights``): they have shapes but no data, so no step can run and no copy can be made. A
        caller that builds under ``torch.device("meta")`` itself (to count parameters cheaply) asked for one."""
        import torch

        tensors = (*model.named_parameters(), *model.named_buffers())
        meta = [name for name, t in tensors if t.is_meta]
        if not meta or torch.get_default_device().type == "meta":
            return model
        raise WorkloadError(
            f"{self.label}: {what} has {len(meta)} of its {len(tensors)} parameters and buffers on the meta device "
            f"(e.g. {meta[0]!r}), which hold no data: no training step can run on it.",
            hint="Fix: build the model on the CPU (no device='meta', `with torch.device('meta')` or "
            "init_empty_weights), or call `model.to_empty(device='cpu')` and initialise its weights in "
            "build_model; advisor moves the model to each device it probes.")

    def _alone_hint(self) -> str:
        """How to run the model factory without advisor: a shell command that works whatever the file's name and
        folder (a name like "bad build.py" is not importable, and quotes in it would break a quoted -c). Python's
        strings in it are double-quoted (a JSON string is one) so the shell's single quotes around it stay plain.
        The file's folder goes first on the path, as advisor's child has it: ``run_path`` alone does not put it
        there, so the command failed on a sibling import from another folder, and ``-c``'s current folder hid that
        from the project's own."""
        if self.path is None:
            return "Fix: make the model factory run on its own (call it once outside advisor)."
        folder, path = (json.dumps(str(p), ensure_ascii=False) for p in (self.path.resolve().parent, self.path))
        code = f'import runpy, sys; sys.path.insert(0, {folder}); runpy.run_path({path})["build_model"]()'
        return f"Fix: make build_model() run on its own ({shlex.join(['python', '-c', code])})."

    def _needs_arguments_hint(self, exc: BaseException, what: str) -> str | None:
        """The fix for a factory defined with parameters advisor does not pass (``def build_model(hidden)``):
        None when ``exc`` is not that."""
        text = exception_text(exc) if isinstance(exc, TypeError) else ""  # a user's __str__ may raise
        missing = re.search(r"missing \d+ required (?:positional |keyword-only )?arguments?: (.+)$", text)
        if missing is None or what not in text:
            return None
        first = (re.findall(r"'(\w+)'", missing.group(1)) or ["size"])[0]
        return (f"Fix: advisor calls {what}() with no arguments: give {missing.group(1)} a default (e.g. "
                f"`def {what}({first}=...)`), or set the values inside {what}.")

    @python_surface
    def build_optimizer(self, params):
        """The user's optimizer over ``params`` (configure_optimizer; several it returned together as one
        ``optimizers.SeveralOptimizers``), else ``AdamW(lr=1e-3)``."""
        import torch

        if self.optimizer is None:
            return torch.optim.AdamW(params, lr=1e-3)
        from advisor.workload.optimizers import as_one_optimizer

        return self._call_user_factory(
            "configure_optimizer", lambda p: as_one_optimizer(self.optimizer(p)), (params,), torch.optim.Optimizer,
            "torch.optim.Optimizer",
            raised_hint="Fix: configure_optimizer(params) must return a torch.optim.Optimizer over `params`, which "
                        "is already model.parameters() (an iterator of tensors, not the model: pass it as it is, "
                        "e.g. torch.optim.SGD(params, lr=0.1)).",
            returned_hint="Fix: return e.g. torch.optim.SGD(params, lr=0.1), or a tuple of optimizers that "
                          "together cover the parameters (SparseAdam for sparse embeddings, Adam for the rest).",
        )

    def _call_user_factory(self, what: str, factory: Callable[..., Any], args: tuple, expected: type,
                           expected_name: str, *, raised_hint: str, returned_hint: str) -> Any:
        """``factory(*args)``, with what it raised or a result that is not an ``expected`` as a WorkloadError."""
        try:
            made = factory(*args)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - user code: report it, don't crash
            fix = what == "build_model" and (cpu_hint(exc, "build_model()", "the model")
                                             or self._needs_arguments_hint(exc, what))
            raise WorkloadError(
                f"{self.label}{user_line(exc, self.path)}: {what}() raised "
                f"{raised(exc, whole=True)}", hint=fix or raised_hint,
            ) from exc
        if not isinstance(made, expected):
            raise WorkloadError(f"{self.label}: {what}() returned {describe(made)}, not a {expected_name}.",
                                hint=returned_hint)
        return made

    @python_surface
    def default_count(self, keyword: str) -> int | None:
        """This workload's ``dataset_size``, ``epochs`` or ``batch_size`` default as an int (None: not given).
        One that is not a positive whole number is a ``WorkloadError`` naming the workload, raised before any
        probe (``check_defaults``): the probe's own check of a batch size cannot name it."""
        value = getattr(self, keyword)
        number = None if value is None else positive_int(value)
        if value is not None and number is None:  # an in-memory workload is the Python API's: its words only
            if over_job_bound(value):  # the one wording and bound of every job figure past it (job.over_bound_error)
                raise over_bound_error(f"{self.label}: {keyword}={value!r}",
                                       f"give the workload {keyword}=N, or pass {keyword}=N to the call, with N")
            raise WorkloadError(f"{self.label}: {keyword}={value!r}: the {keyword.replace('_', ' ')} must be a "
                                "positive whole number.",
                                hint=f"Fix: give the workload {keyword}=N (1 or more), or pass {keyword}=N to the "
                                     "call, which overrides it.")
        return number

    @python_surface
    def check_defaults(self, explicit: dict[str, Any]) -> None:
        """``default_count`` of each job default that ``explicit`` (keyword -> value, None: not given) does not
        replace: one it replaces is unused, as a workload file's constant is."""
        for keyword in ("dataset_size", "epochs", "batch_size"):
            if explicit.get(keyword) is None:
                self.default_count(keyword)

    @python_surface
    def job(self, dataset_size: int | None = None, epochs: int | None = None,
            batch_size: int | None = None) -> JobSpec:
        """The job, from explicit values or this workload's defaults; all must be positive integers."""
        return resolve_job(dataset_size=dataset_size, epochs=epochs, batch_size=batch_size,
                           default_dataset_size=self.dataset_size, default_epochs=self.epochs,
                           default_batch_size=self.batch_size, label=self.label)


# A workload file's names (and usual misspellings) that are another keyword of ``Workload``.
_FILE_NAMES = {"build_model": "model", "configure_optimizer": "optimizer", "loss": "loss_fn", "criterion": "loss_fn",
               "dataloader": "make_dataloader"}
_FILE_DEFS = ("build_model", "configure_optimizer")
_KEYWORDS = ("model", "make_batch", "loss_fn", "optimizer", "make_dataloader", "num_workers", "name", "dataset_size",
             "epochs", "batch_size", "precision", "compile", "grad_accum_steps", "eval_every", "eval_steps", "label")


def _unknown_keyword(keyword: str, label: str) -> WorkloadError:
    """The error for a keyword ``Workload`` does not take, naming the one meant: a file's name has another."""
    known = _FILE_NAMES.get(keyword) or _FILE_NAMES.get(keyword.lower())
    file_name = f" (a workload file's {keyword} is Workload's {known}=)" if keyword in _FILE_DEFS else ""
    close = f" Did you mean {known!r}?{file_name}" if known else did_you_mean(keyword.lower(), _KEYWORDS)
    return WorkloadError(f"{label}: Workload() takes no keyword {keyword!r}.{close}",
                         hint="Fix: use Workload(model=..., make_batch=..., loss_fn=..., optimizer=..., "
                              "make_dataloader=..., ...): README \"Python API\" lists them.")


def check_path(path: str | Path) -> Path:
    """``path`` as a Path once it names an existing ``.py`` file; else a WorkloadError with the fix.

    The first checks of ``load_workload``, also made before a probe's child process starts so a typo fails fast.
    """
    path = path if isinstance(path, Path) else Path(path)  # a WorkloadFile stays one: its reading goes on
    shown = non_utf8_shown(path)
    if shown is not None:  # checked first: every message below would print the name, and a probe would not start
        raise WorkloadError(f"{shown}: the file name is not valid UTF-8 (\\x.. marks each byte that is not), so "
                            "advisor cannot pass it to its probe or store it.",
                            hint="Fix: rename the file (or the folder that is not UTF-8) to a UTF-8 name.")
    hint = "Fix: point advisor at the .py file that defines build_model() and make_batch()."
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        what = "a symbolic link to a missing file" if path.is_symlink() else "no such file"
        example = example_file()
        raise WorkloadError(f"{path}: {what}.", hint="Fix: check the path" + (
            f"; try one of the examples, e.g. {example}." if example else ".")) from None
    except OSError as exc:
        # ELOOP (a symbolic link loop), ENAMETOOLONG, EACCES on a folder on the way...
        raise WorkloadError(f"{path}: cannot be opened ({exc.strerror or exc}).",
                            hint=_permission_hint(path) if exc.errno in (errno.EACCES, errno.EPERM) else hint) from None
    if stat.S_ISDIR(mode):
        raise WorkloadError(f"{path}: is a folder, not a Python file.",
                            hint="Fix: point advisor at the .py file inside it that defines build_model() and "
                                 "make_batch().")
    if not stat.S_ISREG(mode):  # a pipe would block the read forever, /dev/zero would fill the memory
        raise WorkloadError(f"{path}: is not a regular file (a device or a pipe).", hint=hint)
    if not os.access(path, os.R_OK):  # the CLI's typer check said so with exit 2, and no --json error document
        raise WorkloadError(f"{path}: cannot be read ({os.strerror(errno.EACCES)}).", hint=_permission_hint(path))
    if path.suffix != ".py":
        raise WorkloadError(f"{path}: a workload must be a Python file ending in .py.", hint=hint)
    name = workload_name(path)
    if len(name) > MAX_WORKLOAD_NAME_CHARS:  # the workload's name: refused in a profile, so before a probe
        raise WorkloadError(f"{path.name[:60]}...: the file's name is the workload's name, at most "
                            f"{MAX_WORKLOAD_NAME_CHARS} characters before .py (what the history stores); this one "
                            f"has {len(name):,}.", hint="Fix: rename the file to a shorter name.")
    return path


def _permission_hint(path: Path) -> str:
    shown = shlex.quote(str(path))
    return (f"Fix: the permissions keep advisor from reading the file (`ls -l {shown}` shows the file's, `namei -l "
            f"{shown}` each folder's on the way): make it readable to this user (chmod), or run advisor as a user "
            "who can read it.")


def read_defaults(path: str | Path) -> dict[str, int]:
    """``DATASET_SIZE`` / ``EPOCHS`` / ``BATCH_SIZE`` of a workload file, read without running it: constant
    arithmetic (``12 * 8``, names assigned earlier) by ``advisor.workload.constants``; ints only.

    A ``BATCH_SIZE`` that is set but is not an int of 1 or more is a ``WorkloadError`` naming the file, the
    constant and its value (``advisor.workload.job.declared_count``): the probe runs at the value read here, so
    it is checked before any probe starts. (Callers read it only when no ``--batch-size`` replaces it.) A bad
    ``DATASET_SIZE`` or ``EPOCHS`` is left out: a flag may replace it, and ``resolve_settings`` checks it
    against the flags.
    """
    values = read_file_constants(path).values
    if values.get("BATCH_SIZE") is not None:  # None declares nothing
        declared_count("BATCH_SIZE", values["BATCH_SIZE"], str(path))
    return {field: values[const] for const, field in _DEFAULT_NAMES.items()
            if isinstance(values.get(const), int) and not isinstance(values.get(const), bool)}


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of the file's bytes (stored with profiles and history to spot an edited workload); a
    ``WorkloadFile``'s, of the bytes its command read."""
    if isinstance(path, WorkloadFile) and path.sha256 is not None:
        return path.sha256
    return hashlib.sha256(path.read_bytes()).hexdigest()


@python_surface
def load_workload(path: str | Path, *, label: str | None = None) -> Workload:
    """Import a workload file and return its ``Workload``. Raises ``WorkloadError`` with the fix on any problem.

    Messages name the file by ``label`` (default: ``path`` as written). The file is hashed before it runs and
    imported by its absolute path, which ``Workload.path`` holds: a file that changes the working folder as it
    runs (``os.chdir(os.path.dirname(os.path.abspath(__file__)))``) still loads, and its lines are still found in
    tracebacks, when ``path`` is relative. Its functions run with its folder in place (``siblings.InFolder``).
    """
    return _load_workload(path, label=label, wrap=True)


def load_workload_for_life(path: str | Path, *, label: str | None = None) -> Workload:
    """``load_workload`` in a process that keeps the file's folder first on the import path for good (the probe's
    child): the functions are returned bare. Wrapped, each call of a timed ``loss_fn`` or ``make_batch`` paid for
    a check of the path and the module cache, and for a whole path change (about 1 ms, 2.9x a small step) where
    the file's own top level had put another folder first (``sys.path.insert(0, ...)``)."""
    folder_first_for_life(path)
    return _load_workload(path, label=label, wrap=False)


def _load_workload(path: str | Path, *, label: str | None, wrap: bool) -> Workload:
    shown = label or str(path)
    path = check_path(path)
    sha256 = file_sha256(path)
    path = path if path.is_absolute() else Path(path.absolute())  # not resolve(): a symbolic link keeps its name
    folder = FileFolder(path)
    module = import_file(path, shown, folder)

    def held(value: Any) -> Any:
        return in_folder(value, folder) if wrap else value

    make_dataloader = getattr(module, "make_dataloader", None)
    required = ("build_model",) if make_dataloader is not None else ("build_model", "make_batch")
    missing = [n for n in required if not callable(getattr(module, n, None))]
    if missing:
        defined = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                   and getattr(v, "__module__", None) == module.__name__]
        close = "".join(did_you_mean(n, defined) for n in missing)
        raise WorkloadError(
            f"{shown}: no {' or '.join(missing)} function defined.{close}",
            hint="Fix: define `def build_model() -> torch.nn.Module` and "
            "`def make_batch(batch_size) -> (inputs, target)` (or `def make_dataloader(batch_size, num_workers)` "
            "returning an iterable of such batches) at the top level of the file.",
        )
    # Its functions run with its folder in place, as the file's top level did: a sibling imported inside one
    # (``def build_model(): from model import Net``) imports (advisor.workload.siblings).
    return Workload(
        model=held(module.build_model),
        make_batch=held(getattr(module, "make_batch", None)),
        loss_fn=held(getattr(module, "loss_fn", None)),
        optimizer=held(getattr(module, "configure_optimizer", None)),
        make_dataloader=held(make_dataloader),
        num_workers=getattr(module, "NUM_WORKERS", None),
        name=workload_name(path),
        dataset_size=getattr(module, "DATASET_SIZE", None),
        epochs=getattr(module, "EPOCHS", None),
        batch_size=getattr(module, "BATCH_SIZE", None),
        path=path,
        file_sha256=sha256,
        precision=getattr(module, "PRECISION", None),
        compile=getattr(module, "COMPILE", None),
        grad_accum_steps=getattr(module, "GRAD_ACCUM_STEPS", None),
        eval_every=getattr(module, "EVAL_EVERY", None),
        eval_steps=getattr(module, "EVAL_STEPS", None),
        label=shown,
    )
