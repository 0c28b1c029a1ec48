"""Names a workload file defines that look like a misspelling of a name advisor reads, read without running it.

advisor reads a file's settings and functions by their exact names (``PRECISION``, ``BATCH_SIZE``, ``loss_fn``,
``configure_optimizer``...). A file that writes ``Precision = "bf16"``, ``BATCHSIZE = 64`` or ``def loss(...)``
would otherwise be priced at the defaults without a word (fp32, the built-in loss and optimizer). This module owns
the matching: a name is a near miss of a known name the file does not define when they are equal ignoring case
and underscores, when an UPPER_CASE name is close (``EPOCH``) or contains it (``NUM_EPOCHS``), or when it is a
usual name for the same function (``criterion``, ``optimizer``) or setting (nanoGPT's ``gradient_accumulation_steps``,
``eval_interval``, ``eval_iters``, ``dtype``). It also finds the first name of a learning-rate schedule
(``configure_scheduler``, ``WARMUP_STEPS``) and of gradient clipping (``MAX_GRAD_NORM``, nanoGPT's ``grad_clip``):
parts of a real job that advisor neither reads nor times, said once each so that silence is not taken for pricing.
The caller turns each into a note (``advisor.workload.job.resolve_settings``) or a hint (``resolve_job``'s "no
batch size given"). Torch-free.
"""

from __future__ import annotations

import ast
import difflib

# The optional functions advisor calls by name, and the usual names a training script gives the same thing.
KNOWN_FUNCTIONS = {
    "loss_fn": ("loss", "criterion", "loss_func", "loss_function", "compute_loss", "get_loss", "make_loss"),
    "configure_optimizer": ("optimizer", "make_optimizer", "build_optimizer", "get_optimizer", "create_optimizer",
                            "optim"),
    "make_dataloader": ("dataloader", "build_dataloader", "get_dataloader", "make_loader", "train_dataloader",
                        "create_dataloader"),
}

# The usual names training scripts (nanoGPT, Hugging Face-style configs) give the job settings advisor reads,
# matched ignoring case: nanoGPT's ``gradient_accumulation_steps``, ``eval_interval``, ``eval_iters``, ``dtype``.
SETTING_ALIASES = {
    "GRAD_ACCUM_STEPS": ("gradient_accumulation_steps", "grad_accum", "accum_steps", "accumulation_steps",
                         "grad_accumulation_steps", "accum_iter"),
    "EVAL_EVERY": ("eval_interval", "eval_freq", "eval_frequency", "eval_every_n_steps", "eval_steps_interval"),
    "EVAL_STEPS": ("eval_iters", "eval_batches", "eval_iterations", "num_eval_batches"),
    "PRECISION": ("dtype", "amp", "use_amp", "mixed_precision", "fp16", "bf16"),
    "COMPILE": ("torch_compile", "use_compile", "compile_model"),
}

# Parts of a training step advisor does not model, by the pieces of the names scripts give them (matched in the
# name lowered, underscores dropped): a learning-rate schedule (``configure_scheduler``, ``lr_scheduler``,
# nanoGPT's ``get_lr``/``warmup_iters``) and gradient clipping (``MAX_GRAD_NORM``, ``CLIP_GRAD``, ``grad_clip``).
# "clip" alone is not one: a CLIP model is not clipping.
UNMODELLED = {
    "lr_scheduler": ("schedule", "getlr", "decaylr", "warmupsteps", "warmupiters", "lrdecayiters", "warmupratio"),
    "gradient_clipping": ("clipgrad", "gradclip", "gradientclip", "gradnorm", "gradientnorm"),
}
# What each costs that advisor leaves out, for its note.
_UNMODELLED_WORDS = {
    "lr_scheduler": ("a learning-rate schedule", "it sets each param group's lr once per optimizer step"),
    "gradient_clipping": ("gradient clipping", "clip_grad_norm_ reads and rescales every gradient once per "
                          "optimizer step, less than half of what an AdamW update moves (a few percent of an "
                          "optimizer-heavy step)"),
}

# The most top-level names checked, in file order: a script binds a few hundred; a generated file of 40,000 cost the
# advisor process seconds here, outside the probe's timeout. The settings advisor reads come early in a file.
MAX_NAMES_CHECKED = 5000


def _squashed(name: str) -> str:
    return name.lower().replace("_", "")


def _close_constant(name: str, known: str) -> bool:
    if _squashed(name) == _squashed(known) or name.lower() in SETTING_ALIASES.get(known, ()):
        return True
    if not name.isupper():  # a lower-case helper (``epochs_seen``) is the file's own, not a misspelled setting
        return False
    return known in name or _close(name, known)


def _close(name: str, known: str) -> bool:
    """Whether difflib's ratio of the two is at least 0.85, its cheap upper bounds asked first: a file of 40,000
    top-level names took 16 s in ``ratio`` alone (in the advisor process, outside the probe's timeout); the
    bounds (the lengths, then the letters in common) rule out nearly every pair before it."""
    if 2 * min(len(name), len(known)) < 0.85 * (len(name) + len(known)):  # real_quick_ratio, before the matcher
        return False
    matcher = difflib.SequenceMatcher(None, name, known)
    return matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85


def _close_function(name: str, known: str) -> bool:
    return (_squashed(name) == _squashed(known) or name.lower() in KNOWN_FUNCTIONS[known]
            or _close(name.lower(), known))


def top_level_names(body: list[ast.stmt]) -> dict[str, int]:
    """The names ``body``'s top-level statements bind by assignment or def, with the first line of each. Classes
    are left out: a ``class Loss(nn.Module)`` or ``class DataLoader`` is a building block, never a misspelling."""
    names: dict[str, int] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.setdefault(node.name, node.lineno)
            continue
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            if isinstance(target, ast.Name):
                names.setdefault(target.id, node.lineno)
    return names


def near_misses(names: dict[str, int], constants: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    """Each name of ``names`` (name -> line) that looks like a misspelling of a known one the file does not
    bind: written name -> (the known name, its line); and the first that names a part of ``UNMODELLED``:
    name -> (that part, its line). ``constants``: the settings advisor reads."""
    found: dict[str, tuple[str, int]] = {}
    rest: list[tuple[str, int]] = []
    for name, line in list(names.items())[:MAX_NAMES_CHECKED]:
        if name.startswith("_") or name in constants or name in KNOWN_FUNCTIONS:
            continue
        for known in (*constants, *KNOWN_FUNCTIONS):
            if known in names:
                continue
            close = _close_constant(name, known) if known in constants else _close_function(name, known)
            if close:
                found[name] = (known, line)
                break
        else:
            rest.append((name, line))
    for part, pieces in UNMODELLED.items():  # one name a part: the likeliest (``configure_scheduler`` before
        ranked = [(rank, line, name) for name, line in rest  # ``WARMUP_STEPS``), then the first in the file
                  for rank, piece in enumerate(pieces) if piece in _squashed(name)]
        if ranked:
            _rank, line, name = min(ranked)
            found[name] = (part, line)
    return found


def near_miss_note(label: str, name: str, known: str, line: int, flag: str | None = None) -> str:
    """The note for one near miss: what advisor did not read, and the name it reads (and ``flag``, the option
    that sets it, where one does)."""
    if known in UNMODELLED:
        part, cost = _UNMODELLED_WORDS[known]
        return (f"{label}:{line}: `{name}` looks like {part}, which advisor neither reads nor times; its cost is "
                f"small: {cost}.")
    what = "function" if known in KNOWN_FUNCTIONS else "setting"
    used = {"loss_fn": "the default loss (cross-entropy for integer targets, else mean squared error) was used",
            "configure_optimizer": "the default optimizer (AdamW, lr 1e-3) was used",
            "make_dataloader": "no input pipeline was timed"}.get(known, "it has no effect")
    fix = f"Rename it if so, or pass {flag}." if flag else "Rename it if so."
    total = (" (nanoGPT's counts the micro-steps of all GPUs together: its 5 * 8 on 8 GPUs is GRAD_ACCUM_STEPS = 5, "
             "per GPU)" if name.lower() == "gradient_accumulation_steps" else "")
    return f"{label}:{line}: `{name}` is not a {what} advisor reads, so {used}; did you mean {known}{total}? {fix}"
