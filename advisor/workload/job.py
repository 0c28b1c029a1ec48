"""The job to predict: explicit values over a workload's defaults.

The data (dataset size, epochs, batch size: ``resolve_job``) and how the job steps (precision, torch.compile,
gradient accumulation, evaluation: ``resolve_settings``). The one place these values are validated and the one
wording of their errors and notes, shared by ``Workload.job()``, the api (which knows a profiled workload's
defaults from its ``Profile`` and the file's text) and the CLI. Torch-free.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from advisor.errors import ConfigError, WorkloadError
from advisor.schemas import JobSpec
from advisor.schemas.base import MAX_JOB_COUNT  # one bound for these checks and the schemas' JobCount
from advisor.workload.bounds import check_job_samples, over_bound_error, over_job_bound
from advisor.workload.constants import MAYBE_SET
from advisor.workload.names import near_miss_note

# (what the error messages call it, the CLI flag); the file's constant is the flag in upper case.
JOB_FLAGS = (("dataset size", "--dataset-size"), ("epochs", "--epochs"), ("batch size", "--batch-size"))


def positive_int(value: Any) -> int | None:
    """``value`` as an int when it is a positive whole number (int, integral float, numpy int) of at most
    ``MAX_JOB_COUNT``, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 < value <= MAX_JOB_COUNT else None
    try:
        number = operator.index(value)
    except TypeError:
        return None
    return number if 0 < number <= MAX_JOB_COUNT else None


def check_job_values(dataset_size: Any, epochs: Any, batch_size: Any) -> None:
    """Reject explicit non-positive job values (None: not given, checked against the file's defaults later)."""
    for (what, flag), value in zip(JOB_FLAGS, (dataset_size, epochs, batch_size), strict=True):
        if value is not None and positive_int(value) is None:
            raise _bad_job_value(what, value, flag)
    if dataset_size is not None and epochs is not None:
        check_job_samples(positive_int(dataset_size), positive_int(epochs))


def resolve_job(*, dataset_size: Any, epochs: Any, batch_size: Any, default_dataset_size: Any = None,
                default_epochs: Any = None, default_batch_size: Any = None, label: str | None = None,
                unusable: Mapping[str, str] | None = None, saved: bool = False,
                near_misses: Mapping[str, tuple[str, int]] | None = None) -> JobSpec:
    """The job from the explicit values, else the defaults (a workload file's constants); all positive integers.

    Args:
        dataset_size, epochs, batch_size: explicit values (CLI flags, API arguments); None when not given.
        default_dataset_size, default_epochs, default_batch_size: the workload's ``DATASET_SIZE``, ``EPOCHS``,
            ``BATCH_SIZE``; None when it has none.
        label: how error messages name the workload (``Workload.label``); None leaves the name out.
        unusable: a default the module set to what is not an int, by keyword, as the probe child showed it
            (``WorkloadInfo.unusable_defaults``): its error names it, not "no dataset size given".
        saved: the defaults are a saved profile's (``label`` names it): a missing one is the profile's to record
            or a flag's to give, not the workload file's, which is never read for it.
        near_misses: the file's names that look like a misspelled constant (``FileConstants.near_misses``): a
            missing value's hint names the one written for it (``BATCHSIZE = 64``).

    Raises:
        WorkloadError: a value is missing from both, or is not a positive whole number.
    """
    given = (dataset_size, epochs, batch_size)
    defaults = (default_dataset_size, default_epochs, default_batch_size)
    where = f"{label}: " if label else ""
    numbers: list[int] = []
    for (what, flag), explicit, default in zip(JOB_FLAGS, given, defaults, strict=True):
        const = flag[2:].upper().replace("-", "_")
        from_file = explicit is None
        value = default if from_file else explicit
        shown = (unusable or {}).get(flag[2:].replace("-", "_")) if from_file and value is None else None
        if shown is not None:
            raise _unusable_default(const, shown, what, flag, where)
        if value is None and saved:
            raise WorkloadError(f"{label or 'the profile'} records no {what}.",
                                hint=f"Fix: pass {flag} N (or re-profile a workload file that sets {const}).")
        if value is None:
            written = [f"`{name}` (line {line})" for name, (known, line) in (near_misses or {}).items()
                       if known == const]
            raise WorkloadError(
                f"{where}no {what} given" + (f"; the file sets {written[0]}, which advisor does not read: did you "
                                             f"mean {const}?" if written else "."),
                hint=f"Fix: pass {flag} N, or set {const} = N in the workload file"
                     + (f" (rename {written[0].split('`')[1]} to {const})." if written else "."),
            )
        number = positive_int(value)
        if number is None:
            if from_file:
                raise bad_declared_value(const, value, label)
            raise _bad_job_value(what, value, flag, label)
        numbers.append(number)
    dataset_size, epochs, batch_size = numbers
    check_job_samples(dataset_size, epochs, label)
    # A batch larger than the dataset is the whole dataset (as a DataLoader makes it): the time was already
    # priced so (one short last batch); the memory fit must be too, or a job that fits reads "does not fit".
    return JobSpec(dataset_size, epochs, min(batch_size, dataset_size))


def _bad_job_value(what: str, value: Any, flag: str, label: str | None = None) -> WorkloadError:
    where = f"{label}: " if label else ""
    if over_job_bound(value):
        return over_bound_error(f"{where}{what} {value!r} ({flag})", f"pass {flag} with")
    # 2.7 is already "1 or more": the hint says what it is not, a whole number, and offers the nearest one.
    near = round(value) if isinstance(value, float) and 0.5 <= value <= MAX_JOB_COUNT else None  # nan: None
    return WorkloadError(f"{where}{what} must be a positive whole number, got {value!r} ({flag}).",
                         hint=f"Fix: pass {flag} with a whole number of 1 or more"
                              + (f", e.g. {flag} {near}." if near else "."))


def _unusable_default(const: str, shown: str, what: str, flag: str, where: str) -> WorkloadError:
    subject = f"{where}{const} = {shown} (the module's value, which the probe child reported)"
    if shown.startswith("an int of") or (shown.isdigit() and int(shown) > MAX_JOB_COUNT):
        return over_bound_error(subject, f"pass {flag} N (which overrides it), or set {const} to")
    return WorkloadError(f"{subject}: the {what} must be a positive whole number.",
                         hint=f"Fix: set {const} to a whole number of 1 or more in the workload file, or pass "
                              f"{flag} N (which overrides it).")


def bad_declared_value(const: str, value: Any, label: str | None = None) -> WorkloadError:
    """The one message for a data constant (``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``) that a workload
    declares but that is not a positive whole number of at most ``MAX_JOB_COUNT``: the file, the constant, its
    value and the fix."""
    what, flag = dict(zip(("DATASET_SIZE", "EPOCHS", "BATCH_SIZE"), JOB_FLAGS, strict=True))[const]
    where = f"{label}: " if label else ""
    if over_job_bound(value):  # 10**13 or 1e30: "write 1_000_..._656, an int" would only lead past the bound
        return over_bound_error(f"{where}{const} = {value!r}", f"pass {flag} N (which overrides it), or set {const} to")
    # An integral float (1e6, 64.0) looks whole to the user, but the probe child passes on ints only.
    written = (f" (write {int(value):_}, an int, not {value!r})" if isinstance(value, float) and value.is_integer()
               and value > 0 else "")
    return WorkloadError(f"{where}{const} = {value!r}: the {what} must be a positive whole number{written}.",
                         hint=f"Fix: set {const} to a whole number of 1 or more in the workload file, or pass "
                              f"{flag} N (which overrides it).")


def declared_count(const: str, value: Any, label: str | None = None) -> int:
    """A data constant as a workload file declares it (``BATCH_SIZE = 64``), checked: an int of 1 to
    ``MAX_JOB_COUNT``, as the flags are (one past it would reach the probe, or be refused only after it).

    Stricter than ``positive_int``: the probe child, which imports the file, reports only ints
    (``advisor.probe.child``), so a float or a string here would otherwise vanish and be reported after the
    probe as a missing value. Raises ``WorkloadError`` (``bad_declared_value``).
    """
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_JOB_COUNT:
        return value
    raise bad_declared_value(const, value, label)


def checked_num_workers(value: Any, label: str) -> int | None:
    """``NUM_WORKERS`` as an int (None: not set); a WorkloadError when it is not a whole number of 0 or more."""
    if value is None:
        return None
    number = None
    if not isinstance(value, (bool, float)):
        try:
            number = operator.index(value)
        except TypeError:
            number = None
    if number is None or number < 0:
        raise WorkloadError(
            f"{label}: NUM_WORKERS = {value!r}: the number of data loader worker processes must be a whole "
            "number of 0 or more.",
            hint="Fix: set NUM_WORKERS to the num_workers your training script gives its DataLoader (e.g. "
            "NUM_WORKERS = 4; 0 makes the batches in the training process), or remove it.")
    return number


# The data constants a flag replaces (the file's constant, the keyword of advisor.predict/recommend).
_DATA_KEYWORDS = (("DATASET_SIZE", "dataset_size"), ("EPOCHS", "epochs"), ("BATCH_SIZE", "batch_size"))


def check_declared_data(values: dict[str, Any], explicit: dict[str, Any], label: str | None = None) -> None:
    """Reject, before anything is probed, a data constant the file's text declares with a wrong value.

    Args:
        values: the constants read from the file's text (``FileConstants.values``).
        explicit: the keywords given (``dataset_size``, ``epochs``, ``batch_size``; None or absent: not given).
            A constant whose flag is given is not checked: the flag's value is the job's, the file's is unused.
            A constant set to None declares nothing.
        label: how the message names the workload (its path).

    Raises:
        WorkloadError: a ``DATASET_SIZE``, ``EPOCHS`` or ``BATCH_SIZE`` that is not an int of 1 or more, or a
            ``NUM_WORKERS`` that is not an int of 0 or more (no flag replaces it).
    """
    for const, keyword in _DATA_KEYWORDS:
        # None declares nothing, as it does for EVAL_EVERY: the flag (or the missing-value message) decides.
        if values.get(const) is not None and explicit.get(keyword) is None:
            declared_count(const, values[const], label)
    checked_num_workers(values.get("NUM_WORKERS"), label or "the workload")


# ------------------------------------------------------------------------------ how the job steps

# The job settings beyond the data: (the file's constant, the keyword of advisor.predict/recommend, the CLI flag
# that sets it, the default when neither says, and how a note names that default: a user reads "fp32", not the
# None that means it). PRECISION's default None is the predictor's (fp32 on GPUs).
JOB_SETTINGS = (
    ("PRECISION", "precision", "--precision P", None, "fp32"),
    ("COMPILE", "compile", "--compile / --no-compile", False, "eager, no torch.compile"),
    ("GRAD_ACCUM_STEPS", "grad_accum_steps", "--grad-accum-steps N", 1, "1"),
    ("EVAL_EVERY", "eval_every", "--eval-every N", None, "no evaluation"),
    ("EVAL_STEPS", "eval_steps", "--eval-steps N", 0, "no evaluation"),
)
# The data constants the probe child reports from the imported module (advisor.probe.child's WorkloadFrame).
_CHILD_REPORTED = {"DATASET_SIZE": "--dataset-size N", "EPOCHS": "--epochs N", "BATCH_SIZE": "--batch-size N",
                   "NUM_WORKERS": "(none: the probe reads it from the module)"}


@dataclass(frozen=True)
class JobSettings:
    """How the job steps, resolved: explicit values (flags, API keywords) over the workload's constants over
    the defaults; ``notes`` say where a constant could not be read and what was used instead; ``said``, how each
    setting given was given, by keyword, for later notes (``("grad_accum_steps", "--grad-accum-steps 100")``)."""

    precision: str | None = None
    compiled: bool = False
    grad_accum_steps: int = 1
    eval_every: int | None = None
    eval_steps: int = 0
    notes: tuple[str, ...] = ()
    said: tuple[tuple[str, str], ...] = ()

    def apply(self, job: JobSpec) -> JobSpec:
        """``job`` with these settings (precision is not part of a ``JobSpec``: it is the predictor's)."""
        return replace(job, grad_accum_steps=self.grad_accum_steps, eval_every=self.eval_every,
                       eval_steps=self.eval_steps, compiled=self.compiled)


def normalize_precision(value: Any) -> str | None:
    """A precision name as the predictor knows it; "mixed" (autocast in bf16 where the GPU has it, else fp16)
    is "bf16", which the predictor already runs as fp16 on GPUs without bfloat16. None stays None."""
    if value is None:
        return None
    name = str(value).strip().lower()
    return "bf16" if name == "mixed" else name


def _setting_value(const: str, value: Any) -> tuple[Any, str | None]:
    """(the value checked, None) or (None, what it must be) for one job setting."""
    from advisor.schemas import PRECISIONS

    if const == "PRECISION":
        from advisor.precision_words import FLOAT64_SPELLINGS

        name = normalize_precision(value) if isinstance(value, str) else None
        float64 = ("; float64 is not a setting: a model built in float64 (model.double()) is priced at the FP64 "
                   "rates whatever the precision" if name in FLOAT64_SPELLINGS else "")
        return (name, None) if name in PRECISIONS else (None, f"one of {', '.join((*PRECISIONS, 'mixed'))}{float64}")
    if const == "COMPILE":
        return (value, None) if isinstance(value, bool) else (None, "True or False")
    if const == "EVAL_STEPS":
        zero = not isinstance(value, bool) and isinstance(value, (int, float)) and value == 0
        number = 0 if zero else positive_int(value)
        return (number, None) if number is not None else (None, "a whole number from 0 to 10^12")
    if const == "EVAL_EVERY" and value is None:
        return None, None
    number = positive_int(value)
    return (number, None) if number is not None else (None, "a whole number from 1 to 10^12")


def _declared_setting(const: str, value: Any) -> tuple[Any, str | None]:
    """``_setting_value`` of a constant as the file's text declares it: the whole-number settings must be ints, as
    ``DATASET_SIZE``, ``EPOCHS`` and ``BATCH_SIZE`` must (``declared_count``), not floats such as 2.0."""
    checked, must = _setting_value(const, value)
    if isinstance(value, float) and const in ("GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS"):
        low = 0 if const == "EVAL_STEPS" else 1
        written = f" (write {int(value):_}, not {value!r})" if value.is_integer() and value >= low else ""
        return None, f"an int from {low} to 10^12{written}"
    return checked, must


def declared_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The valid job settings among a workload's constants (``{"PRECISION": "bf16", ...}``), by keyword
    (``{"precision": "bf16", ...}``); a missing or invalid one is left out (``resolve_settings`` says why)."""
    out: dict[str, Any] = {}
    for const, keyword, _flag, _default, _words in JOB_SETTINGS:
        if values.get(const) is not None:
            checked, must = _setting_value(const, values[const])
            if must is None and checked is not None:
                out[keyword] = checked
    return out


def resolve_settings(explicit: dict[str, Any], constants: Any = None, *, module_values: dict[str, Any] | None = None,
                     label: str | None = None, probed_batch_size: int | None = None,
                     reported: dict[str, Any] | None = None, in_memory: bool = False,
                     takes: Collection[str] | None = None) -> JobSettings:
    """The job settings from explicit values (keyword -> value, None = not given) over the workload's constants.

    Args:
        explicit: ``{"precision": ..., "compile": ..., "grad_accum_steps": ..., "eval_every": ...,
            "eval_steps": ...}`` from the flags or API keywords, and the data's ``dataset_size``, ``epochs``,
            ``batch_size`` where given (a file constant they replace is not checked: ``check_declared_data``).
        constants: the file's ``FileConstants`` (read without running it), or None.
        module_values: an in-memory ``advisor.Workload``'s values by constant name (they override
            ``constants``).
        label: how messages name the workload.
        probed_batch_size: the batch size the probe was run at, for the note on an unread ``BATCH_SIZE``.
        reported: what the probe child reported from the imported module, by constant name: the data constants
            and the settings (the module's value is the job's, with a note where the text did not give it).
            None: nothing was probed.
        in_memory: ``module_values`` are an ``advisor.Workload``'s keywords, not a file's constants: a bad one
            is named as its keyword.
        takes: the settings' keywords the caller has a flag for (``advisor profile`` only ``precision``); None:
            all of them (predict, recommend). A bad constant's fix offers only a flag the caller takes.

    Raises:
        ConfigError: an explicit value is invalid. WorkloadError: a constant of the file is (a data constant
            too: this is called before any probe, so a bad ``BATCH_SIZE`` is reported before the probe).
    """
    where = f"{label}: " if label else ""
    file_values = dict(getattr(constants, "values", {}) or {})
    check_declared_data(file_values, explicit, label)
    file_values.update({k: v for k, v in (module_values or {}).items() if v is not None})
    unread = dict(getattr(constants, "unread", {}) or {})
    if reported is not None:  # a star import or exec the module holds nothing from: nothing to say about
        unread = {c: s for c, s in unread.items() if not (s.startswith(MAYBE_SET) and reported.get(c) is None)}
    resolved: dict[str, Any] = {}
    said: dict[str, str] = {}  # how each setting was given, for the notes: "--eval-steps 5", "EVAL_STEPS = 5"
    notes: list[str] = []
    for const, keyword, flag, default, default_words in JOB_SETTINGS:
        value = explicit.get(keyword)
        if value is not None:
            checked, must = _setting_value(const, value)
            if must:  # a switch's value comes from Python alone: named as its keyword ("compile=", not "--compile")
                switch = " / " in flag
                raise ConfigError(f"{f'{keyword}=' if switch else flag.split()[0]} must be {must}, got {value!r}.",
                                  hint=f"Fix: pass {flag}." if switch else f"Fix: pass {flag} with a valid value.")
            said[keyword] = f"{flag.split()[0]} {value}"
        elif _module_differs(const, (reported or {}).get(const), None if const in unread else file_values.get(const)):
            checked = reported[const]  # the module's, as the probe child reported it: what the job runs with
            said[keyword] = f"{where}{const} = {checked!r}"
            notes.append(_module_note(const, checked, None if const in unread else file_values.get(const),
                                      unread.get(const), where))
        elif file_values.get(const) is not None:  # a constant set to None declares nothing (README)
            checked = _workload_setting(const, keyword, flag, file_values[const], where, takes=takes,
                                        from_text=(module_values or {}).get(const) is None, in_memory=in_memory)
            said[keyword] = f"{where}{const} = {file_values[const]!r}"
        else:
            checked = default
            if const in unread:
                notes.append(_unread_setting_note(const, unread[const], where, flag, default_words))
        resolved[keyword] = checked
    notes += _unread_data_notes(unread, where, probed_batch_size, reported or {}, explicit)
    notes += [near_miss_note(label or "the workload file", name, known, line, _flag_of(known))
              for name, (known, line) in (getattr(constants, "near_misses", {}) or {}).items()]
    notes += _rebound_data_notes(dict(getattr(constants, "values", {}) or {}), explicit, where, reported or {})
    # An evaluation needs both: how often, and how many batches. Half of it counts nothing; say which half (the
    # half the file set in a way not read has its own note).
    if resolved["eval_steps"] and not resolved["eval_every"] and "EVAL_EVERY" not in unread:
        notes.append(f"{said['eval_steps']} without EVAL_EVERY or --eval-every: no evaluation is counted; "
                     "--eval-every N says how many optimizer steps apart they run.")
    # EVAL_STEPS = 0 or --eval-steps 0 given is evaluation turned off, not half of one.
    if resolved["eval_every"] and not resolved["eval_steps"] and not ("eval_steps" in said or "EVAL_STEPS" in unread):
        notes.append(f"{said['eval_every']} without EVAL_STEPS or --eval-steps: evaluations of no batches, so "
                     "no evaluation is counted; --eval-steps N says how many forward-only batches each runs.")
    # The evaluation that runs: half of one is none (predict --json said eval_every 10 beside eval_steps 0).
    evaluates = bool(resolved["eval_every"] and resolved["eval_steps"])
    return JobSettings(precision=resolved["precision"], compiled=bool(resolved["compile"]),
                       grad_accum_steps=resolved["grad_accum_steps"],
                       eval_every=resolved["eval_every"] if evaluates else None,
                       eval_steps=resolved["eval_steps"] if evaluates else 0, notes=tuple(notes),
                       said=tuple(said.items()))


def _workload_setting(const: str, keyword: str, flag: str, value: Any, where: str, *, from_text: bool,
                      in_memory: bool, takes: Collection[str] | None) -> Any:
    """The workload's own value of one setting, checked: a file's constant (``from_text``: as its text reads) or
    an ``advisor.Workload``'s keyword (``in_memory``: named as the keyword, there being no file). A bad one's fix
    offers the flag only where the caller takes it (``takes``, as ``resolve_settings``)."""
    checked, must = (_declared_setting if from_text else _setting_value)(const, value)
    if must and in_memory and not from_text:
        raise WorkloadError(f"{where}{keyword}={value!r}: must be {must}.",
                            hint=f"Fix: give the workload {keyword}= {must.split('; ')[0]}; or pass {flag} to the "
                                 "call, which overrides it.")
    if must:
        instead = (f", or pass {flag}" if takes is None or keyword in takes else
                   f" (predict and recommend also take {flag}, over the file's)")
        raise WorkloadError(f"{where}{const} = {value!r}: must be {must}.",
                            hint=f"Fix: set {const} to {must.split(' (write')[0].split('; ')[0]} in the workload "
                                 f"file{instead}.")
    return checked


# How ``unread`` holds a setting the imported module set to what is not valid (``module_settings``): its value,
# this, and what it must be.
_MODULE_HELD = " (the module's value once imported, which must be "


def module_settings(held: Mapping[str, Any], shown: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The job settings an imported module holds, as the probe child reported them (``WorkloadFrame.settings``,
    and ``shown`` for a value it could not send): (the valid ones by keyword, as ``WorkloadInfo`` keeps them;
    an ``unread`` entry, by constant name, for each that is not valid, which ``resolve_settings`` notes)."""
    valid: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    for const, keyword, *_ in JOB_SETTINGS:
        if const in held:
            checked, must = _declared_setting(const, held[const])
            if must is None and checked is not None:
                valid[keyword] = checked
                continue
            invalid[const] = f"{held[const]!r}{_MODULE_HELD}{must.split(' (write')[0]})"
        elif const in shown:
            invalid[const] = f"{shown[const]}{_MODULE_HELD}{_setting_value(const, object())[1]})"
    return valid, {const: entry[:200] for const, entry in invalid.items()}


def _flag_of(const: str) -> str | None:
    """The option that sets a constant (``--precision P``); None for one no option sets, or a function."""
    flags = {**{setting: flag for setting, _keyword, flag, *_ in JOB_SETTINGS},
             **{flag[2:].upper().replace("-", "_"): f"{flag} N" for _what, flag in JOB_FLAGS}}
    return flags.get(const)


def _unread_setting_note(const: str, source: str, where: str, flag: str, default_words: str) -> str:
    """The note for a setting the file's text did not give and the module gave no valid value of."""
    if module_held(source):
        return f"{where}{const} = {source}: not used, the default ({default_words}) was; {flag} sets it."
    return (f"{where}{_as_written(const, source)} could not be read without running the file (only constant "
            f"arithmetic is): the default ({default_words}) was used; {flag} sets it.")


def module_held(entry: str) -> bool:
    """Whether an ``unread`` entry is a setting the module held but that is not valid (``module_settings``)."""
    return _MODULE_HELD in entry


def _module_differs(const: str, module: Any, text: Any) -> bool:
    """Whether the module's value of a setting (None: not reported) is not what the file's text gives."""
    return module is not None and (text is None or _setting_value(const, text)[0] != module)


def _module_note(const: str, module: Any, text: Any, source: str | None, where: str) -> str:
    """The note for a setting whose value the module held once imported, which the file's text did not give."""
    if source is not None and text is None:
        how = f"{_as_written(const, source)} could not be read without running the file: the module's value"
    else:
        how = (f"{const} reads {text!r} in the file's text, but the module held" if text is not None
               else f"{const} is not set in the file's text, but the module held")
        how += f" {module!r} once imported (code that ran at import {'changed' if text is not None else 'set'} it):"
    # The probe ran at the text's precision, else at fp32 (``advisor.workload.settings.declared_precision``):
    # where that is the module's, it probed the job's already.
    probed = (_setting_value(const, text)[0] if text is not None else None) or "fp32"
    probe = (f"; the probe ran before it was known, pass --precision {module} to probe at it too"
             if const == "PRECISION" and module != probed else "")
    return f"{where}{how} {module!r}, which the probe child reported, is the job's{probe}."


def _unread_data_notes(unread: dict[str, str], where: str, probed_batch_size: int | None,
                       reported: dict[str, Any], explicit: dict[str, Any]) -> list[str]:
    """Notes for the data constants the file's text did not give and no flag replaced (``explicit``): the probe
    child, which imports the file, reported the module's value, and that value is the job's."""
    notes = []
    for const, flag in _CHILD_REPORTED.items():
        if const not in unread or explicit.get(dict(_DATA_KEYWORDS).get(const, const.lower())) is not None:
            continue  # the flag's value is the job's (and the probe's): the module's is not used
        value = reported.get(const)
        used = (f"the module's value {value!r}, which the probe child reported, is the job's" if value is not None
                else "the module has no usable value either")
        extra = (f"; the probe timed batch sizes up to {probed_batch_size} (the default), pass {flag} to probe at "
                 "the job's" if const == "BATCH_SIZE" and probed_batch_size is not None and value is not None
                 and value != probed_batch_size else "")
        notes.append(f"{where}{_as_written(const, unread[const])} could not be read without running the file: {used}"
                     f"{extra}.")
    return notes


def _rebound_data_notes(values: dict[str, Any], explicit: dict[str, Any], where: str,
                        reported: dict[str, Any]) -> list[str]:
    """Notes for a data constant whose text reads one value while the module, once imported, held another (a
    function called at import set it with ``global``): the module's is the job's, and the probe ran at the text's."""
    notes = []
    for const, keyword in _DATA_KEYWORDS:
        text, module = values.get(const), reported.get(const)
        if explicit.get(keyword) is None and text is not None and module is not None and text != module:
            notes.append(f"{where}{const} reads {text!r} in the file's text, but the module held {module!r} once "
                         f"imported (code that ran at import changed it): {module!r} is the job's"
                         + ("; the probe timed batch sizes up to the text's, pass --batch-size N to probe at the job's"
                            if const == "BATCH_SIZE" else "") + ".")
    return notes


def _as_written(const: str, source: str) -> str:
    """How a note quotes an unread constant: ``NAME = source``, or the statement itself where it is an augmented
    assignment (``GRAD_ACCUM_STEPS *= 2``, which ``advisor.workload.constants`` keeps whole)."""
    return source if re.match(rf"{const}\s*(\*\*|//|>>|<<|[-+*/%&|^@])=", source) else f"{const} = {source}"
