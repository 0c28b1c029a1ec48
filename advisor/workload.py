"""Workloads: loading a user's workload file into a ``Workload`` and running one training step of it.

A workload file defines ``build_model()`` and ``make_batch(batch_size)`` (required), and optionally
``loss_fn(output, target)``, ``configure_optimizer(params)`` and the defaults ``DATASET_SIZE``, ``EPOCHS``,
``BATCH_SIZE``. Python users build the same thing with ``advisor.Workload(model=..., make_batch=...)``.
This module owns loading and validating; it never times anything (that is ``advisor.probe``).
torch is imported lazily so that ``import advisor`` stays fast.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import operator
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import WorkloadError, did_you_mean
from advisor.schemas import JobSpec


class Workload:
    """A trainable workload: a model factory, a batch factory, and optionally a loss and an optimizer.

    Args:
        model: an ``nn.Module`` or a zero-argument callable that builds one (a fresh model per probe).
        make_batch: ``make_batch(batch_size) -> (inputs, target)``; ``target`` may be ``None`` when the
            model returns its own scalar loss.
        loss_fn: ``loss_fn(output, target) -> scalar tensor``; default cross-entropy for integer targets,
            mean squared error otherwise.
        optimizer: ``optimizer(params) -> torch.optim.Optimizer``; default ``AdamW(lr=1e-3)``.
        name: shown in outputs and stored in history; defaults to the file stem or "workload".
        dataset_size, epochs, batch_size: defaults for the job; CLI flags and API arguments override.
    """

    def __init__(
        self,
        model: Any,
        make_batch: Callable[[int], Any],
        loss_fn: Callable[[Any, Any], Any] | None = None,
        optimizer: Callable[[Any], Any] | None = None,
        *,
        name: str = "workload",
        dataset_size: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        path: Path | None = None,
        file_sha256: str | None = None,
    ) -> None:
        self.model = model
        self.make_batch = make_batch
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.name = name
        self.dataset_size = dataset_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.path = path
        self.file_sha256 = file_sha256

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return f"Workload({self.name!r}{where})"

    @property
    def label(self) -> str:
        """How error messages name this workload: the file path, or the name."""
        return str(self.path) if self.path else f"workload {self.name!r}"

    def _line(self, exc: BaseException) -> str:
        return _user_line(exc, self.path) if self.path else ""

    def build_model(self):
        """A model instance: a fresh one from a factory, or the module the user passed."""
        import torch

        model = self.model
        if not isinstance(model, torch.nn.Module):
            if not callable(model):
                raise WorkloadError(
                    f"{self.label}: the model is {_describe(model)}, not an nn.Module or a function.",
                    hint="Fix: pass an nn.Module, or a function that returns one (build_model).",
                )
            try:
                model = model()
            except Exception as exc:  # user code: report, don't crash
                raise WorkloadError(
                    f"{self.label}{self._line(exc)}: build_model() raised {type(exc).__name__}: {exc}",
                    hint=f"Fix: make build_model() run on its own "
                    f"(python -c 'import {self.name}; {self.name}.build_model()').",
                ) from exc
            if not isinstance(model, torch.nn.Module):
                raise WorkloadError(
                    f"{self.label}: build_model() returned {_describe(model)}, not a torch.nn.Module.",
                    hint="Fix: return the model object, e.g. `return nn.Sequential(...)`.",
                )
        return model

    def build_optimizer(self, params):
        import torch

        if self.optimizer is None:
            return torch.optim.AdamW(params, lr=1e-3)
        try:
            opt = self.optimizer(params)
        except Exception as exc:
            raise WorkloadError(
                f"{self.label}{self._line(exc)}: configure_optimizer() raised {type(exc).__name__}: {exc}",
                hint="Fix: configure_optimizer(params) must return a torch.optim.Optimizer over `params`.",
            ) from exc
        if not isinstance(opt, torch.optim.Optimizer):
            raise WorkloadError(
                f"{self.label}: configure_optimizer() returned {_describe(opt)}, not a torch.optim.Optimizer.",
                hint="Fix: return e.g. torch.optim.SGD(params, lr=0.1).",
            )
        return opt

    def job(self, dataset_size: int | None = None, epochs: int | None = None,
            batch_size: int | None = None) -> JobSpec:
        """The job, from explicit values or this workload's defaults; all must be positive integers."""
        given = {"dataset size": dataset_size, "epochs": epochs, "batch size": batch_size}
        defaults = {"dataset size": self.dataset_size, "epochs": self.epochs, "batch size": self.batch_size}
        out: dict[str, int] = {}
        for what, flag in JOB_FLAGS:
            const = flag[2:].upper().replace("-", "_")
            from_file = given[what] is None
            value = defaults[what] if from_file else given[what]
            if value is None:
                raise WorkloadError(
                    f"{self.label}: no {what} given.",
                    hint=f"Fix: pass {flag} N, or set {const} = N in the workload file.",
                )
            number = _positive_int(value)
            if number is None:
                if from_file:
                    raise WorkloadError(
                        f"{self.label}: {const} = {value!r}: the {what} must be a positive whole number.",
                        hint=f"Fix: set {const} to 1 or more in the workload file, or pass {flag} N.",
                    )
                raise _bad_job_value(what, value, flag, self.label)
            out[what] = number
        return JobSpec(out["dataset size"], out["epochs"], out["batch size"])


JOB_FLAGS = (("dataset size", "--dataset-size"), ("epochs", "--epochs"), ("batch size", "--batch-size"))


def check_job_values(dataset_size: Any, epochs: Any, batch_size: Any) -> None:
    """Reject explicit non-positive job values (None: not given, checked against the file's defaults later)."""
    for (what, flag), value in zip(JOB_FLAGS, (dataset_size, epochs, batch_size), strict=True):
        if value is not None and _positive_int(value) is None:
            raise _bad_job_value(what, value, flag)


def _bad_job_value(what: str, value: Any, flag: str, label: str | None = None) -> WorkloadError:
    where = f"{label}: " if label else ""
    return WorkloadError(f"{where}{what} must be a positive whole number, got {value!r} ({flag}).",
                         hint=f"Fix: pass {flag} with a value of 1 or more.")


def _positive_int(value: Any) -> int | None:
    """``value`` as an int when it is a positive whole number (int, integral float, numpy int), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value > 0 else None
    try:
        number = operator.index(value)
    except TypeError:
        return None
    return number if number > 0 else None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_workload(path: str | Path) -> Workload:
    """Import a workload file and return its ``Workload``. Raises ``WorkloadError`` with the fix on any problem."""
    path = Path(path)
    if not path.exists():
        raise WorkloadError(
            f"{path}: no such file.",
            hint="Fix: check the path; try one of the examples, e.g. examples/tabular_mlp.py.",
        )
    if path.is_dir() or path.suffix != ".py":
        raise WorkloadError(
            f"{path}: a workload must be a Python file ending in .py.",
            hint="Fix: point advisor at the .py file that defines build_model() and make_batch().",
        )
    module_name = f"advisor_workload_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs (and after) so that dataclasses, typing and pickle can find the module.
    sys.modules[module_name] = module
    # The file's own folder goes first on sys.path so it can import its sibling modules.
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        where = exc.filename if exc.filename and Path(exc.filename).resolve() != path.resolve() else path
        raise WorkloadError(
            f"{where}:{exc.lineno}: syntax error: {exc.msg}."
            + (f" (imported by {path})" if where != path else ""),
            hint=f"Fix: correct the syntax (python -m py_compile {where} shows it too).",
        ) from exc
    except ImportError as exc:
        sys.modules.pop(module_name, None)
        raise WorkloadError(
            f"{path}{_user_line(exc, path)}: importing the file failed: {type(exc).__name__}: {exc}",
            hint="Fix: install the missing package in this environment (pip install ...), or correct the import.",
        ) from exc
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = _user_line(exc, path)
        raise WorkloadError(
            f"{path}{line}: running the file failed: {type(exc).__name__}: {exc}",
            hint="Fix: the file must import cleanly (python " + str(path) + " should run without error).",
        ) from exc
    finally:
        try:
            sys.path.remove(str(path.resolve().parent))
        except ValueError:
            pass

    missing = [n for n in ("build_model", "make_batch") if not callable(getattr(module, n, None))]
    if missing:
        defined = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                   and getattr(v, "__module__", None) == module_name]
        close = "".join(did_you_mean(n, defined) for n in missing)
        raise WorkloadError(
            f"{path}: no {' or '.join(missing)} function defined.{close}",
            hint="Fix: define `def build_model() -> torch.nn.Module` and "
            "`def make_batch(batch_size) -> (inputs, target)` at the top level of the file.",
        )
    return Workload(
        model=module.build_model,
        make_batch=module.make_batch,
        loss_fn=getattr(module, "loss_fn", None),
        optimizer=getattr(module, "configure_optimizer", None),
        name=path.stem,
        dataset_size=getattr(module, "DATASET_SIZE", None),
        epochs=getattr(module, "EPOCHS", None),
        batch_size=getattr(module, "BATCH_SIZE", None),
        path=path,
        file_sha256=file_sha256(path),
    )


def _user_line(exc: BaseException, path: Path) -> str:
    """':LINE' of the deepest frame inside the user's file, or ''."""
    line = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = f":{frame.lineno}"
    return line


# ----------------------------------------------------------------------------------- one training step


def split_batch(workload: Workload, batch: Any) -> tuple[Any, Any]:
    """``(inputs, target)`` from what make_batch returned, or a WorkloadError naming the expected shape."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise WorkloadError(
            f"{workload.label}: make_batch() returned {_describe(batch)}; expected a pair (inputs, target).",
            hint="Fix: `return x, y` where x is a tensor, tuple or dict of tensors and y a tensor or None.",
        )
    return batch[0], batch[1]


def move_to(obj: Any, device: Any) -> Any:
    """Tensors inside tensors/tuples/lists/dicts moved to ``device`` (non_blocking where it can)."""
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: move_to(v, device) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(move_to(v, device) for v in obj)
    return obj


def call_model(model: Any, inputs: Any) -> Any:
    """``model(x)``, ``model(*x)`` or ``model(**x)`` by the type of ``inputs``."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def compute_loss(workload: Workload, output: Any, target: Any) -> Any:
    """The scalar loss: the user's loss_fn, the model's own loss when target is None, else the default."""
    import torch
    import torch.nn.functional as F

    if workload.loss_fn is not None:
        return workload.loss_fn(output, target)
    if target is None:
        # Models that compute their own loss return it (HF-style outputs carry it as .loss or ["loss"]).
        if isinstance(output, dict) and "loss" in output:
            return output["loss"]
        return getattr(output, "loss", output)
    if not isinstance(output, torch.Tensor):
        raise WorkloadError(
            f"{workload.label}: the model returned {_describe(output)}, which the default loss cannot use.",
            hint="Fix: define loss_fn(output, target) in the workload file.",
        )
    if not target.is_floating_point():
        return F.cross_entropy(output, target)
    return F.mse_loss(output, target)


def train_step(workload: Workload, model: Any, optimizer: Any, inputs: Any, target: Any,
               autocast_dtype: Any = None, device_type: str = "cpu", scaler: Any = None) -> Any:
    """forward + loss + backward + optimizer step on already-placed tensors; returns the loss tensor.

    ``autocast_dtype`` (torch.bfloat16 / torch.float16) runs forward and loss under autocast, as mixed
    precision training does; ``scaler`` (a ``torch.amp.GradScaler``, what fp16 training uses) scales the loss,
    unscales and checks the gradients, and steps through it. No timing and no validation here: callers own both.
    """
    import contextlib

    import torch

    optimizer.zero_grad(set_to_none=True)
    ctx = (torch.autocast(device_type=device_type, dtype=autocast_dtype) if autocast_dtype is not None
           else contextlib.nullcontext())
    with ctx:
        output = call_model(model, inputs)
        loss = compute_loss(workload, output, target)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss


def _describe(obj: Any) -> str:
    try:
        import torch

        if isinstance(obj, torch.Tensor):
            return f"a tensor of shape {tuple(obj.shape)} ({obj.dtype})"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if obj is None:
        return "None"
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of {len(obj)} items"
    name = type(obj).__name__
    shape = getattr(obj, "shape", None)
    if isinstance(shape, tuple):  # numpy arrays and the like
        return f"a {type(obj).__module__.split('.')[0]}.{name} of shape {shape}"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


# ------------------------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class CheckResult:
    """What one real training step on the CPU showed about a workload (``check_workload``)."""

    param_count: int
    trainable_param_count: int
    optimizer_name: str
    input_summary: str
    target_summary: str = "None"
    loss: float = math.nan
    batch_size: int = 2
    seconds: float = 0.0  # wall time of the whole check: build, batch, step


def input_summary(obj: Any, *, limit: int = 8) -> str:
    """Shapes and dtypes of a batch, e.g. ``Tensor[2, 3, 224, 224] float32``,
    ``(Tensor[2, 64] float32, Tensor[2] int64)`` or ``{input_ids: Tensor[2, 384] int64, ...}``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        torch = None
    if torch is not None and isinstance(obj, torch.Tensor):
        dims = ", ".join(str(d) for d in obj.shape)
        return f"Tensor[{dims}] {str(obj.dtype).removeprefix('torch.')}"
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return repr(obj) if not isinstance(obj, str) or len(obj) <= 20 else repr(obj[:17] + "...")
    if isinstance(obj, dict):
        items = [f"{k}: {input_summary(v, limit=limit)}" for k, v in list(obj.items())[:limit]]
        more = ", ..." if len(obj) > limit else ""
        return "{" + ", ".join(items) + more + "}"
    if isinstance(obj, (tuple, list)):
        items = [input_summary(v, limit=limit) for v in list(obj)[:limit]]
        more = ", ..." if len(obj) > limit else ""
        if isinstance(obj, tuple):
            return "(" + ", ".join(items) + ("," if len(obj) == 1 else "") + more + ")"
        return "[" + ", ".join(items) + more + "]"
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return f"{type(obj).__module__.split('.')[0]}.{type(obj).__name__}{list(shape)}"
    return type(obj).__name__


def check_workload(workload: Workload | str | Path, batch_size: int = 2) -> CheckResult:
    """Run ONE real training step on the CPU at a small batch size and report what it found.

    Raises ``WorkloadError`` naming the workload, the problem and the fix for: a broken ``make_batch``,
    a batch of the wrong structure or one that ignores its ``batch_size``, a batch that does not fit the
    model, a loss that is not a finite scalar depending on the parameters, and a failing backward pass or
    optimizer step. Side-effect free: RNG states and grad mode are restored, and a model object the user
    passed in is copied, never trained.
    """
    import time

    import torch

    if not isinstance(workload, Workload):
        workload = load_workload(workload)
    label = workload.label
    if _positive_int(batch_size) is None:
        raise WorkloadError(f"{label}: the check's batch size must be a positive whole number, got {batch_size!r}.",
                            hint="Fix: pass batch_size=2 (or any value of 1 or more).")
    batch_size = _positive_int(batch_size)
    start = time.perf_counter()
    with _preserved_state(), torch.enable_grad():
        model, restore = _model_for_check(workload)
        try:
            return _check_step(workload, model, batch_size, start)
        finally:
            restore()


def _check_step(workload: Workload, model: Any, batch_size: int, start: float) -> CheckResult:
    import time


    label = workload.label
    params = list(model.parameters())
    param_count = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    if trainable == 0:
        raise WorkloadError(
            f"{label}: the model has no trainable parameters ({param_count:,} parameters, none with "
            "requires_grad=True), so there is nothing to train.",
            hint="Fix: leave requires_grad=True on the parameters to train (don't freeze the whole model).",
        )
    optimizer = workload.build_optimizer(model.parameters())

    inputs, target = _checked_batch(workload, batch_size)
    _check_batch_size_used(workload, batch_size, inputs)
    inputs, target = move_to(inputs, "cpu"), move_to(target, "cpu")
    fed = input_summary(inputs)

    model.train()
    optimizer.zero_grad(set_to_none=True)
    try:
        output = call_model(model, inputs)
    except Exception as exc:
        raise _forward_error(workload, exc, fed) from exc

    loss = _checked_loss(workload, output, target, fed)
    try:
        loss.backward()
    except Exception as exc:
        raise WorkloadError(
            f"{label}{_where(exc, workload)}: the backward pass failed: {type(exc).__name__}: {_gist(exc)}",
            hint="Fix: a usual cause is an in-place change (x += ..., relu(inplace=True) on a needed tensor) "
            "of something autograd saved; make that operation out-of-place.",
        ) from exc
    try:
        optimizer.step()
    except Exception as exc:
        raise WorkloadError(
            f"{label}{_where(exc, workload)}: the optimizer step ({type(optimizer).__name__}) failed: "
            f"{type(exc).__name__}: {_gist(exc)}",
            hint="Fix: configure_optimizer(params) must return an optimizer over the `params` it is given.",
        ) from exc
    return CheckResult(
        param_count=param_count,
        trainable_param_count=trainable,
        optimizer_name=type(optimizer).__name__,
        input_summary=fed,
        target_summary=input_summary(target),
        loss=float(loss.detach()),
        batch_size=batch_size,
        seconds=time.perf_counter() - start,
    )


def _checked_batch(workload: Workload, batch_size: int) -> tuple[Any, Any]:
    """``(inputs, target)`` from make_batch(batch_size), with their structure validated."""
    label = workload.label
    try:
        batch = workload.make_batch(batch_size)
    except Exception as exc:
        raise WorkloadError(
            f"{label}{_where(exc, workload)}: make_batch({batch_size}) raised {type(exc).__name__}: {_gist(exc)}",
            hint="Fix: make_batch(batch_size) must run on its own and return (inputs, target) for any batch "
            "size of 1 or more.",
        ) from exc
    inputs, target = split_batch(workload, batch)
    problem = _structure_problem(inputs, "inputs", top=True)
    if problem:
        raise WorkloadError(
            f"{label}: make_batch({batch_size}) returned inputs that are not tensors: {problem}.",
            hint="Fix: inputs must be a tensor (model(x)), a tuple/list of tensors (model(*x)) or a dict of "
            "tensors keyed by forward()'s parameter names (model(**x)); convert numpy arrays with "
            "torch.from_numpy(a) and lists with torch.tensor(v).",
        )
    if target is not None:
        import torch

        if not isinstance(target, torch.Tensor):
            nested_ok = (workload.loss_fn is not None and isinstance(target, (tuple, list, dict))
                         and not _structure_problem(target, "target", top=True))
            if not nested_ok:
                raise WorkloadError(
                    f"{label}: make_batch({batch_size}) returned a target that is {_describe(target)}"
                    + (f" ({input_summary(target)})" if isinstance(target, (tuple, list, dict)) else "")
                    + ", not a tensor or None.",
                    hint="Fix: return the target as a tensor (torch.tensor(v), torch.from_numpy(a)), or None "
                    "when the model computes its own loss; a structured target needs a loss_fn.",
                )
    return inputs, target


def _structure_problem(obj: Any, where: str, top: bool = False) -> str | None:
    """Why ``obj`` is not a tensor or a (nested) tuple/list/dict holding tensors, or None when it is."""
    import torch

    if isinstance(obj, torch.Tensor):
        return None
    if isinstance(obj, (tuple, list, dict)):
        if not obj:
            return f"{where} is an empty {type(obj).__name__}"
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for key, value in items:
            if isinstance(obj, dict) and not isinstance(key, str):
                return f"{where} has the key {key!r}; dict keys must be forward()'s parameter names (strings)"
            sub = f"{where}[{key!r}]"
            if value is None or isinstance(value, (bool, int, float, str)):
                continue  # plain options such as use_cache=False are passed through as they are
            problem = _structure_problem(value, sub)
            if problem:
                return problem
        if not _has_tensor(obj):
            return f"{where} is {_describe(obj)} holding no tensor: {input_summary(obj, limit=3)}"
        return None
    return f"{where} is {_describe(obj)}"


def _has_tensor(obj: Any) -> bool:
    import torch

    if isinstance(obj, torch.Tensor):
        return True
    if isinstance(obj, dict):
        return any(_has_tensor(v) for v in obj.values())
    if isinstance(obj, (tuple, list)):
        return any(_has_tensor(v) for v in obj)
    return False


def _shapes(obj: Any) -> list[tuple[int, ...]]:
    import torch

    if isinstance(obj, torch.Tensor):
        return [tuple(obj.shape)]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _shapes(v)]
    if isinstance(obj, (tuple, list)):
        return [s for v in obj for s in _shapes(v)]
    return []


def _check_batch_size_used(workload: Workload, batch_size: int, inputs: Any) -> None:
    """make_batch must honour its argument: a batch one larger must change some input's shape."""
    try:
        bigger = workload.make_batch(batch_size + 1)
        other = split_batch(workload, bigger)[0]
    except Exception:
        return  # make_batch worked at batch_size; a failure at batch_size + 1 shows up when probing
    if _shapes(other) == _shapes(inputs):
        raise WorkloadError(
            f"{workload.label}: make_batch ignores its batch_size: make_batch({batch_size}) and "
            f"make_batch({batch_size + 1}) both returned inputs {input_summary(inputs)}.",
            hint="Fix: build tensors of batch_size samples, e.g. torch.randn(batch_size, ...); the advisor "
            "times steps at several batch sizes.",
        )


def _forward_error(workload: Workload, exc: BaseException, fed: str) -> WorkloadError:
    gist = _gist(exc)
    where = _where(exc, workload)
    if isinstance(exc, TypeError) and ("forward()" in gist or "positional argument" in gist
                                       or "keyword argument" in gist):
        return WorkloadError(
            f"{workload.label}{where}: calling the model with the batch's inputs failed: {gist} "
            f"(inputs: {fed}).",
            hint="Fix: a tensor is passed as model(x), a tuple/list as model(*x) and a dict as model(**x), so "
            "match forward()'s parameters; for several inputs return ((x1, x2), target) from make_batch.",
        )
    return WorkloadError(
        f"{workload.label}{where}: the batch does not fit the model: {type(exc).__name__}: {gist} "
        f"(inputs fed: {fed}).",
        hint="Fix: make make_batch's shapes and dtypes match what the model expects (e.g. the first layer's "
        "in_features / in_channels, integer token ids below the vocabulary size), or change the model.",
    )


def _checked_loss(workload: Workload, output: Any, target: Any, fed: str) -> Any:
    import torch

    label = workload.label
    if workload.loss_fn is None and target is None:
        own = output.get("loss") if isinstance(output, dict) else getattr(output, "loss", output)
        if not isinstance(own, torch.Tensor) or own.numel() != 1:
            got = (f"a tensor of shape {tuple(own.shape)}" if isinstance(own, torch.Tensor)
                   else f"{_describe(output)} ({input_summary(output)})")
            raise WorkloadError(
                f"{label}: make_batch returned target None, so the model's output should be the scalar loss, "
                f"but the model returned {got}.",
                hint="Fix: return the loss from forward() (e.g. `return F.cross_entropy(logits, labels)`), or "
                "return (inputs, target) from make_batch with a real target (and define loss_fn(output, "
                "target) when the default cross-entropy / mean squared error does not fit).",
            )
    if (workload.loss_fn is None and isinstance(target, torch.Tensor) and target.is_floating_point()
            and isinstance(output, torch.Tensor) and output.shape != target.shape):
        raise WorkloadError(
            f"{label}: the default loss for a float target (mean squared error) needs the output and the "
            f"target to have the same shape; output {tuple(output.shape)}, target {tuple(target.shape)}.",
            hint="Fix: give the target the output's shape (e.g. y.unsqueeze(1) or y.view(-1, 1)), use integer "
            "class labels for classification, or define loss_fn(output, target).",
        )
    try:
        loss = compute_loss(workload, output, target)
    except WorkloadError:
        raise
    except Exception as exc:
        if workload.loss_fn is not None:
            what, fix = "loss_fn(output, target)", "Fix: make loss_fn accept the model's output and the target."
        else:
            what = ("the default loss (cross-entropy for integer targets)" if not target.is_floating_point()
                    else "the default loss (mean squared error for float targets)")
            fix = ("Fix: integer targets must be class indices in [0, number of classes) with the output's "
                   "batch dimension; or define loss_fn(output, target).")
        raise WorkloadError(
            f"{label}{_where(exc, workload)}: {what} failed: {type(exc).__name__}: {_gist(exc)} "
            f"(output: {input_summary(output)}, target: {input_summary(target)}).",
            hint=fix,
        ) from exc
    source = "loss_fn" if workload.loss_fn is not None else "the loss"
    if not isinstance(loss, torch.Tensor):
        raise WorkloadError(
            f"{label}: {source} is {_describe(loss)} ({loss!r:.40}), not a tensor.",
            hint="Fix: return the loss tensor itself; don't call .item() or float() on it.",
        )
    if loss.numel() != 1:
        raise WorkloadError(
            f"{label}: {source} is not a scalar: it has shape {tuple(loss.shape)}.",
            hint="Fix: reduce it to one number, e.g. loss.mean() (or reduction='mean' in the loss function).",
        )
    if not loss.requires_grad:
        raise WorkloadError(
            f"{label}: {source} does not depend on the model's trainable parameters (requires_grad=False).",
            hint="Fix: compute the loss from the model's output without torch.no_grad(), .detach(), .item() or "
            "numpy in between.",
        )
    value = float(loss.detach())
    if not math.isfinite(value):
        raise WorkloadError(
            f"{label}: the loss is {value} on the first step (inputs fed: {fed}).",
            hint="Fix: check the batch's values and the loss (log of zero, division by zero, huge inputs, "
            "uninitialised torch.empty tensors); training would diverge from the first step.",
        )
    return loss


def _gist(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of an exception's message, shortened."""
    text = str(exc).strip()
    if isinstance(exc, KeyError) and exc.args:
        text = repr(exc.args[0])
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _where(exc: BaseException, workload: Workload) -> str:
    """':LINE' in the workload file where ``exc`` was raised, or ''."""
    return _user_line(exc, workload.path) if workload.path else ""


def _model_for_check(workload: Workload):
    """(a model on the CPU to train one step, a function that undoes any change to the user's objects)."""
    import copy

    import torch

    if not isinstance(workload.model, torch.nn.Module):
        return workload.build_model().to("cpu"), lambda: None
    module = workload.model
    try:
        return copy.deepcopy(module).to("cpu"), lambda: None
    except Exception:  # not copyable: train it in place, then put everything back
        saved = {k: v.detach().clone() for k, v in module.state_dict(keep_vars=True).items()}
        grads = {p: p.grad for p in module.parameters()}
        training = module.training

        def restore() -> None:
            with torch.no_grad():
                state = module.state_dict(keep_vars=True)
                for key, value in saved.items():
                    state[key].copy_(value)
            for p, g in grads.items():
                p.grad = g
            module.train(training)

        return module, restore


class _preserved_state:
    """Restores torch's, Python's and numpy's global RNG states on exit."""

    def __enter__(self):
        import random

        import torch

        self._torch = torch.random.get_rng_state()
        self._python = random.getstate()
        np = sys.modules.get("numpy")
        self._numpy = np.random.get_state() if np is not None else None
        return self

    def __exit__(self, *exc_info):
        import random

        import torch

        torch.random.set_rng_state(self._torch)
        random.setstate(self._python)
        if self._numpy is not None:
            sys.modules["numpy"].random.set_state(self._numpy)
        return False
