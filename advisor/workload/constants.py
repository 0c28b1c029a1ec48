"""A workload file's job constants, read without running the file.

The advisor process never imports a workload file (user code runs only in the probe's child process), so the
constants that declare the job (``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``, ``NUM_WORKERS``, ``PRECISION``,
``COMPILE``, ``GRAD_ACCUM_STEPS``, ``EVAL_EVERY``, ``EVAL_STEPS``), and the workload's ``WORKLOAD_NAME``
(``advisor.workload.identity``), are read from the file's syntax tree by a small
evaluator of constant arithmetic: numbers, strings, booleans and None; ``+ - * / // % **`` and unary ``+ -``
on them and on names assigned earlier at the top level of the file; parentheses. Nothing else is evaluated: no
calls, attributes, subscripts, comprehensions or f-strings, so reading a file cannot run any of its code.
``BATCH_SIZE = 12 * 8`` and ``TOKENS = BATCH * SEQ`` are read; ``BATCH_SIZE = int(os.environ["B"])`` is not:
it is listed in ``FileConstants.unread`` with its source text, and the caller says which default it used and
which flag sets it (``advisor.workload.job.unread_notes``). Sizes are bounded (exponents, string lengths,
integer digits) so a hostile file cannot make the reader spin.

A statement that may bind names it does not spell (``from config import *``, nanoGPT's
``exec(open('configurator.py').read())``, ``globals().update(...)``) lists every constant not read by then in
``unread`` with a source starting ``MAYBE_SET``: the probe child, which imports the file, reports which of them
the module holds (``advisor.workload.job.resolve_settings``). A top-level walrus ``(EPOCHS := 3)`` is an
assignment.

Only top-level assignments count, in file order; a name whose latest top-level assignment cannot be read is
unknown from there on. The body of an ``if __name__ == "__main__":`` block is skipped (its ``else`` is read as
top-level code): the probe child imports the file under another name, so that block never runs there, and a
value set only in it is not the job's. Torch-free.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import operator
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import WorkloadError
from advisor.workload.names import near_misses, top_level_names

# The largest workload file the advisor process reads (its constants, with ``ast``): a 5 MB file of one list
# literal took the parent 254 s and 2.5 GB, outside the probe's timeout and memory handling (which cover the
# child only). A training script is tens of kB; data belongs in files it loads.
MAX_WORKLOAD_BYTES = 1024 * 1024
TOO_BIG_HINT = ("Fix: move the data out of the file (load it in make_batch or make_dataloader from a file of its "
                "own), so that the .py file is code.")


def too_big_message(path: Path, size_bytes: int) -> str:
    """The error for a workload file over ``MAX_WORKLOAD_BYTES``."""
    return (f"{path}: the file is {size_bytes / 1e6:.1f} MB; advisor reads the job's constants from a workload "
            f"file's text, and reads at most {MAX_WORKLOAD_BYTES // 1024} KiB of it.")


# The job constants a workload file may declare.
JOB_CONSTANTS = ("DATASET_SIZE", "EPOCHS", "BATCH_SIZE", "NUM_WORKERS", "PRECISION", "COMPILE",
                 "GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS")

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
# Bounds that keep the evaluation cheap whatever the file says (10 ** 10 ** 10 would take minutes).
_MAX_INT_BITS = 256
_MAX_EXPONENT = 256
_MAX_STR_CHARS = 1000
_MAX_SOURCE_CHARS = 120  # of an unread expression, as quoted in a note


# How an unread constant's source starts when a statement may have set it without naming it (a star import, an
# ``exec``): the module may hold no such constant at all, which the probe child's report then shows.
MAYBE_SET = "... (may be set by "

# How deep an expression the evaluator follows (BATCH_SIZE = 12 * 8 is 1 deep).
MAX_DEPTH = 100


class _Unreadable(Exception):
    """The expression is not constant arithmetic over known names."""


@dataclass(frozen=True)
class FileConstants:
    """The job constants of one file: ``values`` read (by constant name), ``unread`` those assigned with an
    expression the evaluator does not run (name -> the expression's source text), ``near_misses`` the names it
    binds that look like a misspelled setting or function (written name -> (known name, line):
    ``advisor.workload.names``)."""

    values: dict[str, Any] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)
    near_misses: dict[str, tuple[str, int]] = field(default_factory=dict)
    # ``WORKLOAD_NAME`` (``advisor.workload.identity``): its value where read (None: not set), and the source
    # of a last assignment that was not read.
    name: Any = None
    name_source: str | None = None


def evaluate_constant(node: ast.AST, names: dict[str, Any]) -> Any:
    """The value of ``node`` when it is constant arithmetic over ``names``; ``ValueError`` otherwise."""
    try:
        return _eval(node, names)
    except _Unreadable as exc:
        raise ValueError(str(exc) or "not constant arithmetic") from None


def _eval(node: ast.AST, names: dict[str, Any], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:  # Python runs 1+1+...+1 of any length; a recursive reading of it would not
        raise _Unreadable(f"nested more than {MAX_DEPTH} operations deep")
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
        return _bounded(node.value)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise _Unreadable(f"{node.id} is not a constant assigned earlier")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        operand = _eval(node.operand, names, depth + 1)
        if not _is_number(operand):
            raise _Unreadable("a sign on a non-number")
        return _bounded(_UNARY[type(node.op)](operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, names, depth + 1), _eval(node.right, names, depth + 1)
        return _bounded(_binary(type(node.op), left, right))
    raise _Unreadable(f"{type(node).__name__} is not constant arithmetic")


def _binary(op: type, left: Any, right: Any) -> Any:
    if isinstance(left, str) or isinstance(right, str):
        if op is ast.Add and isinstance(left, str) and isinstance(right, str):
            return left + right
        if op is ast.Mult and isinstance(left, str) != isinstance(right, str):
            count = right if isinstance(left, str) else left
            text = left if isinstance(left, str) else right
            if isinstance(count, int) and not isinstance(count, bool) and len(text) * max(count, 0) <= _MAX_STR_CHARS:
                return text * count
        raise _Unreadable("string arithmetic")
    if not (_is_number(left) and _is_number(right)):
        raise _Unreadable("arithmetic on a non-number")
    if op is ast.Pow and abs(right) > _MAX_EXPONENT:
        raise _Unreadable("an exponent out of range")
    try:
        return _BINARY[op](left, right)
    except (ArithmeticError, ValueError):  # division by zero, overflow
        raise _Unreadable("arithmetic error") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # bool included, as Python's arithmetic has it


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
        raise _Unreadable("a number out of range")
    if isinstance(value, str) and len(value) > _MAX_STR_CHARS:
        raise _Unreadable("a string out of range")
    if isinstance(value, complex):
        raise _Unreadable("a complex number")
    return value


def _assigned(node: ast.stmt) -> tuple[list[str], ast.AST | None, ast.stmt]:
    """(the plain names ``node`` assigns at the top level, the value expression or None, the statement)."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.NamedExpr):  # (GRAD_ACCUM_STEPS := 4)
        return [node.value.target.id], node.value.value, node
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)], node.value, node
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return [node.target.id], node.value, node
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id], ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op,
                                           right=node.value), node
    return [], None, node


def _rebound(node: ast.stmt) -> set[str]:
    """Top-level names a statement binds other than by a plain assignment (imports, defs, tuple targets...)."""
    names: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in node.names)
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            if not isinstance(target, ast.Name):
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.Expr):  # a walrus inside a call: print(BATCH_SIZE := 64)
        inner = node.value.value if isinstance(node.value, ast.NamedExpr) else node.value
        names.update(n.target.id for n in ast.walk(inner) if isinstance(n, ast.NamedExpr))
    elif not isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        # if/for/with/try blocks: whatever they assign is not known without running them.
        names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names


def _sets_any(node: ast.stmt) -> bool:
    """Whether a top-level statement may bind names it does not spell: ``from config import *``, or a call of
    ``exec`` (nanoGPT's ``exec(open('configurator.py').read())``) or of ``globals().update``."""
    if isinstance(node, ast.ImportFrom):
        return any(a.name == "*" for a in node.names)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False  # its body runs when called, if ever: the probe child reports what the module then holds
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Name) and func.id == "exec":
            return True
        if (isinstance(func, ast.Attribute) and func.attr in ("update", "setdefault", "__setitem__")
                and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                and func.value.func.id in ("globals", "vars", "locals")):
            return True
    return False


def read_constants(source: str) -> FileConstants:
    """The job constants of a workload file's text (see the module docstring); {} when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep for the parser: Python fails too
        return FileConstants()  # the probe child reports the real problem with its full message
    known: dict[str, Any] = {}
    values: dict[str, Any] = {}
    unread: dict[str, str] = {}
    body = _imported(tree.body)
    unread_name = None  # the source of WORKLOAD_NAME's last assignment, where it is not read
    for node in body:
        targets, value, stmt = _assigned(node)
        if "WORKLOAD_NAME" in targets or "WORKLOAD_NAME" in _rebound(node):
            unread_name = _source_of(source, node)
        if _sets_any(node):  # any constant not read yet may be set by it: the probe child says which are
            unread.update({name: f"{MAYBE_SET}`{_source_of(source, node)}` at line {node.lineno})"
                           for name in JOB_CONSTANTS if name not in values and name not in unread})
        for name in _rebound(node):
            known.pop(name, None)
            if name in JOB_CONSTANTS:
                values.pop(name, None)
                unread[name] = f"... (set by the {_STATEMENT_KIND.get(type(stmt).__name__, 'statement')} at line " \
                               f"{stmt.lineno})"
        if value is None:
            continue
        try:
            result = _eval(value, known)
        except _Unreadable:
            for name in targets:
                known.pop(name, None)
                if name in JOB_CONSTANTS:
                    values.pop(name, None)
                    # An augmented assignment's value is built here, without a position: quote the statement.
                    unread[name] = _source_of(source, stmt if isinstance(stmt, ast.AugAssign) else value)
            continue
        for name in targets:
            known[name] = result
            if name in JOB_CONSTANTS:
                values[name] = result
                unread.pop(name, None)
    name_source = None if "WORKLOAD_NAME" in known else unread_name
    return FileConstants(values, unread, near_misses(top_level_names(body), JOB_CONSTANTS), known.get("WORKLOAD_NAME"),
                         name_source)


def _imported(body: list[ast.stmt]) -> list[ast.stmt]:
    """The top-level statements that run when the file is imported: a ``__main__`` guard's ``else`` in its place,
    its body left out."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            out += _imported(node.orelse)
        else:
            out.append(node)
    return out


def _is_main_guard(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = (test.left, test.comparators[0])
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


# How a note names a statement that binds a constant other than by ``NAME = value`` (its source would not read as
# the constant's value: "BATCH_SIZE = if cond: ...").
_STATEMENT_KIND = {"If": "if block", "For": "for loop", "AsyncFor": "for loop", "While": "while loop",
                   "With": "with block", "AsyncWith": "with block", "Try": "try block", "TryStar": "try block",
                   "Match": "match block", "Import": "import", "ImportFrom": "import", "FunctionDef": "def",
                   "AsyncFunctionDef": "def", "ClassDef": "class", "Assign": "unpacking assignment"}


def _source_of(source: str, node: ast.AST) -> str:
    text = (ast.get_source_segment(source, node) or type(node).__name__).replace("\n", " ")
    return text if len(text) <= _MAX_SOURCE_CHARS else text[:_MAX_SOURCE_CHARS - 3] + "..."


def read_file_constants(path: str | Path) -> FileConstants:
    """``read_constants`` of the file at ``path``; empty when it cannot be read. A ``WorkloadFile``'s are those of
    its one reading (``WorkloadFile``): the file is not read again."""
    if isinstance(path, WorkloadFile):
        return path.constants()
    try:
        info = Path(path).stat()
        # a pipe would block the read (the path check names it); a larger file would cost minutes to parse
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_WORKLOAD_BYTES:
            return FileConstants()
        return read_constants(source_text(Path(path).read_bytes()))
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
        return FileConstants()


def source_text(data: bytes) -> str:
    """The text of a Python file's bytes, decoded as Python decodes source (as a WorkloadFile decodes it too):
    UTF-8 whatever the locale, without a leading byte-order mark, or in the encoding a PEP 263 cookie names
    (``# -*- coding: latin-1 -*-``). A UTF-8 BOM left in made every constant unreadable (ast refuses U+FEFF).
    Raises UnicodeDecodeError, or SyntaxError for an unknown or conflicting cookie."""
    return importlib.util.decode_source(data)


# ------------------------------------------------------------------------------------- one reading a command
# The advisor process reads a workload file's text (never runs it) for its job constants, its near-miss names and
# its hash, before the probe and after it. Each reader used to open the file again (six times in one ``predict``),
# so a file edited while the probe ran gave an answer that mixed two versions: the probe at one batch size, the
# job's sizes from the other, and no word of it. A ``WorkloadFile`` is the path with one reading kept: the API
# makes it when a command starts, every reader takes its text from it (``read_file_constants``,
# ``advisor.workload.loader.file_sha256``), and ``changed_on_disk`` says whether the file is another by the end of
# the probe. It is a ``Path`` (what the readers were given before); a path derived from it (``.parent``) is a
# plain one with no reading.


# PosixPath (or WindowsPath): before Python 3.12 Path itself cannot be subclassed.
class WorkloadFile(type(Path())):  # type: ignore[misc]
    """A workload file's path with the one reading of it that a command uses (``read``)."""

    _data: bytes | None
    _constants: FileConstants | None

    @classmethod
    def read(cls, path: str | Path) -> WorkloadFile:
        """``path`` read now: its bytes (None where it is not a regular file or cannot be read)."""
        made = cls(path)
        made._data, made._constants = None, None
        with contextlib.suppress(OSError):
            info = made.stat()
            if stat.S_ISREG(info.st_mode):  # a pipe would block the read; the path check names it
                if info.st_size > MAX_WORKLOAD_BYTES:
                    raise WorkloadError(too_big_message(made, info.st_size), hint=TOO_BIG_HINT)
                made._data = made.read_bytes()[:MAX_WORKLOAD_BYTES + 1]
        if made._data is not None and len(made._data) > MAX_WORKLOAD_BYTES:  # it grew since the stat
            raise WorkloadError(too_big_message(made, len(made._data)), hint=TOO_BIG_HINT)
        return made

    @property
    def sha256(self) -> str | None:
        """The hex SHA-256 of the bytes read; None where nothing was."""
        data = getattr(self, "_data", None)
        return None if data is None else hashlib.sha256(data).hexdigest()

    def constants(self) -> FileConstants:
        """``read_constants`` of the text read (parsed once); empty where it was not read or does not decode as
        Python source (``source_text``)."""
        cached = getattr(self, "_constants", None)
        if cached is None:
            data = getattr(self, "_data", None)
            try:
                cached = FileConstants() if data is None else read_constants(source_text(data))
            except (UnicodeDecodeError, SyntaxError, LookupError):
                cached = FileConstants()
            self._constants = cached
        return cached

    def changed_on_disk(self) -> bool:
        """Whether the file's bytes now differ from those read (gone or unreadable counts as changed)."""
        try:
            now = hashlib.sha256(Path(self).read_bytes()).hexdigest()
        except OSError:
            return True
        return now != self.sha256

    def changed_note(self) -> str:
        """The probe's note where ``changed_on_disk``."""
        return (f"{self} changed on disk while it was probed: the job's sizes and settings are those of the file as "
                "it was when the probe started, and the probe's process ran the version on disk when it imported "
                "it, which may be either. Fix: run again once the file is saved as you mean it.")


def snapshot_of(path: Path) -> WorkloadFile:
    """``path`` as a ``WorkloadFile``: itself where it is one already (read once per command), else read now."""
    return path if isinstance(path, WorkloadFile) else WorkloadFile.read(path)
