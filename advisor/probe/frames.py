"""The wire between the probe's processes: length-prefixed JSON frames, size-limited, parsed with pydantic.

The child and its twin run the user's code, which can write anything to the descriptors it inherits, so what
comes from them is data only: a frame is an 8-byte big-endian length and that many bytes of UTF-8 JSON, at most
``MAX_FRAME_BYTES``, validated as one of the models below (``parse_child_frame``). A frame that is too long, is
not JSON, or is not one of these models raises ``MalformedFrame``; the runner turns that into a ``ProbeError``
naming the workload. Nothing from the child is unpickled, and errors cross as a class name from
``CHILD_ERROR_CLASSES`` plus text, which ``advisor.errors.rebuild`` makes into that ``AdvisorError``.

The parent's side (``ChildStart``, then the pickled ``advisor.Workload`` of a Python API user, as a second frame)
is advisor's own data.
"""

from __future__ import annotations

import math
import os
import re
import socket
import struct
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    ValidationError,
    model_validator,
)

from advisor.probe.fd_wait import wait_readable
from advisor.probe.request import ProbeRequest
from advisor.schemas import Analysis, DeviceProfile, HostInfo, InputPipeline
from advisor.schemas.base import NUL, JobCount, ParamCount, refuse_nul

MAX_FRAME_BYTES = 64 * 1024 * 1024  # the largest frame read: an Analysis of a very large model is a few MB
MAX_TEXT_CHARS = 4096  # a progress message, a reason, an error's message or hint (what user code raised: cut)
MAX_TRACEBACK_CHARS = 65536
_HEADER = struct.Struct("!Q")  # 8 bytes: the parent's pickled workload may exceed 4 GiB
_READ_CHUNK_BYTES = 1 << 20

# The AdvisorError classes a child may raise (the workload's, the device's, the settings', the probe's own).
ChildErrorClass = Literal["AdvisorError", "WorkloadError", "ProbeError", "HardwareError", "PredictionError",
                          "ConfigError"]
CHILD_ERROR_CLASSES: tuple[str, ...] = ChildErrorClass.__args__  # type: ignore[attr-defined]
_Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
# The largest int a job setting is sent as (``advisor.probe.defaults``): past any setting's bound, short of what
# JSON parsers refuse.
MAX_SENT_INT = 10**18
_SettingInt = Annotated[int, Field(strict=True, ge=-MAX_SENT_INT, le=MAX_SENT_INT)]
# A count of PyTorch's CPU threads as a frame carries it (``WorkloadFrame.import_threads``).
MAX_SENT_THREADS = 1 << 20
_Threads = Annotated[int, Field(strict=True, ge=1, le=MAX_SENT_THREADS)]
# The job settings a WorkloadFrame reports (advisor.workload.job.JOB_SETTINGS' constants).
SettingName = Literal["PRECISION", "COMPILE", "GRAD_ACCUM_STEPS", "EVAL_EVERY", "EVAL_STEPS"]


class MalformedFrame(Exception):
    """A frame that is not one of advisor's messages; ``reason`` says how, without repeating its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------- parent -> child


# The child's exit status when user code closed the descriptor of its channel to the parent (os.closerange at
# import, say): it can no longer say anything, so the status is all the parent learns.
CHANNEL_LOST_EXIT = 86


class ChildStart(BaseModel):
    """The first frame to a child: the request and how the parent started it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request: ProbeRequest
    sys_path: list[str]  # the parent's, so that the child imports what the parent would
    fault_file: str  # faulthandler writes the child's stack here (crash, SIGUSR1 on a hang)
    parent_pid: int
    pickled: bool = False  # a pickled advisor.Workload follows as the next frame
    forked: bool = False  # a fork of the caller: the workload object is already there
    single_thread: bool = False  # forked after the caller used PyTorch's thread pool: probe on one thread
    scratch_dir: str | None = None  # a folder the parent made and removes: the workload's import shim goes here
    turn_lock: str | None = None  # the lock file probes take turns at timing with (advisor.probe.turns); None: off
    # The paths above are the UTF-8 text of their bytes, not this locale's decoding of them (``with_utf8_paths``).
    utf8_paths: bool = False

    def with_utf8_paths(self) -> ChildStart:
        """This start with each path as the UTF-8 text of its bytes: an ASCII locale decodes the UTF-8 name
        ``modèle.py`` to escaped bytes (lone surrogates), which JSON cannot carry. UnicodeDecodeError where a
        path's bytes are not UTF-8 either."""
        return self._paths_mapped(lambda path: os.fsencode(path).decode("utf-8"), utf8_paths=True)

    def with_local_paths(self) -> ChildStart:
        """The child's side of ``with_utf8_paths``: each path back as this locale decodes its bytes, which is how
        it opens the file (the child inherits the parent's locale)."""
        if not self.utf8_paths:
            return self
        return self._paths_mapped(lambda path: os.fsdecode(path.encode("utf-8")), utf8_paths=False)

    def _paths_mapped(self, convert, *, utf8_paths: bool) -> ChildStart:
        def each(path: str | None) -> str | None:
            return None if path is None else convert(path)

        request = self.request.model_copy(update={"workload_path": each(self.request.workload_path),
                                                  "workload_label": each(self.request.workload_label)})
        return self.model_copy(update={
            "request": request, "sys_path": [convert(p) for p in self.sys_path], "fault_file": convert(self.fault_file),
            "scratch_dir": each(self.scratch_dir), "turn_lock": each(self.turn_lock), "utf8_paths": utf8_paths})


# --------------------------------------------------------------------------------- child (and twin) -> parent


# A lone surrogate that is not a byte escaped by a locale's decoding (those are U+DC80-U+DCFF).
_NOT_AN_ESCAPED_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _utf8_text(value: Any) -> Any:
    """``value`` (text, or a list or dict holding texts) with the escaped bytes of a locale that could not decode
    them (an ASCII locale's name for the UTF-8 file ``modèle.py``, in a message or a traceback) as the UTF-8 text of
    those bytes, and any other lone surrogate escaped: a frame's text must be UTF-8 JSON."""
    if isinstance(value, list):
        return [_utf8_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _utf8_text(item) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    value = _NOT_AN_ESCAPED_BYTE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)  # a JSON escape in user text
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# Text a locale could not decode, made UTF-8 where the child builds a frame: a validator on the text fields alone,
# since one on the whole frame would turn the parent's strict reading of JSON into a reading of Python objects.
_AS_UTF8 = BeforeValidator(_utf8_text)


class _Frame(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


    @model_validator(mode="after")
    def _no_nul(self) -> _Frame:
        # A NUL in any text the child sends (an optimizer class named "SGD\x00", a forged host name) is a malformed
        # frame here, where it comes in: ``Profile`` refuses one too, later, as a traceback.
        refuse_nul(self)
        return self


class ProgressFrame(_Frame):
    """How far the probe is: ``fraction`` of ``device``'s part, and what it is doing."""

    kind: Literal["progress"] = "progress"
    device: Annotated[str, Field(max_length=64)]  # "setup" before probing starts
    fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    message: Annotated[str, _AS_UTF8, Field(max_length=MAX_TEXT_CHARS)]


class SingleThreadFrame(_Frame):
    """Forked: PyTorch's thread pool was unusable, so the CPU probe ran on one thread."""

    kind: Literal["single_thread"] = "single_thread"


class HostFrame(_Frame):
    """This machine, as the child detected it (None: not detected)."""

    kind: Literal["host"] = "host"
    host: HostInfo | None


class WorkloadFrame(_Frame):
    """The workload's defaults (a file's ``DATASET_SIZE``, ``EPOCHS``, ``BATCH_SIZE``), where they are counts a
    job takes (1 to 10^12)."""

    kind: Literal["workload"] = "workload"
    # Strict, as the profile's fields are: a forged true, 2.0, "50", NaN or -5 here is a malformed frame
    dataset_size: JobCount | None = None
    epochs: JobCount | None = None
    batch_size: JobCount | None = None
    # A default the module sets to what the counts above cannot carry (nan, "2000", -5, an int of 5,000 digits):
    # how a message shows it (``WorkloadInfo.unusable_defaults``).
    unusable: dict[Literal["dataset_size", "epochs", "batch_size"], Annotated[str, Field(max_length=80)]] = Field(
        default_factory=dict)
    # How the job steps as the imported module holds it (``PRECISION``... where not None), which the parent's
    # reader of the file's text cannot see when a star import, an ``exec`` or a function at import set it: a
    # bool, an int or a short string as the module holds it, else how a message shows it (``shown``).
    settings: dict[SettingName, StrictBool | _SettingInt | Annotated[str, Field(max_length=80)]] = Field(
        default_factory=dict)
    shown: dict[SettingName, Annotated[str, Field(max_length=80)]] = Field(default_factory=dict)
    # PyTorch's CPU threads before and after the file was imported, where importing it changed them (a top-level
    # ``torch.set_num_threads(1)``) and no --threads replaces them: the CPU probe runs on what it set.
    import_threads: tuple[_Threads, _Threads] | None = None


class CheckFrame(_Frame):
    """What the one-step workload check (or the analysis) found: the parameter count and the optimizer."""

    kind: Literal["check"] = "check"
    param_count: ParamCount  # what a profile (and the history's column) holds
    optimizer: Annotated[str, Field(max_length=256)]
    shape_note: _Text | None = None  # make_batch's shapes vary between calls (check.varying_shapes_note)
    # Several optimizers stepped as one, parameters none updates (CheckResult.optimizer_notes; the check's alone)
    optimizer_notes: list[_Text] = Field(default_factory=list, max_length=4)
    # The check ran this long, past the probe's budget, and was stopped: the analysis stood in (probe.check_step)
    stopped_seconds: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None


class AnalysisFrame(_Frame):
    """The shape-level analysis of the training step."""

    kind: Literal["analysis"] = "analysis"
    analysis: Analysis | None  # None: the analysis failed (optional)
    bf16: bool = False  # the second analysis, at bf16 (ProbeRequest.bf16_analysis)
    # Why it failed and how to fix it, sent as it fails (a later frame without one keeps it)
    failure: _Text | None = None


class DeviceFrame(_Frame):
    """Everything probed on one device."""

    kind: Literal["device"] = "device"
    profile: DeviceProfile


class LeftOutDeviceFrame(_Frame):
    """A GPU the parent listed (``ProbeRequest.optional_gpus``) that torch here cannot use: not probed."""

    kind: Literal["left_out_device"] = "left_out_device"
    device: Annotated[str, Field(max_length=64)]
    reason: _Text


class InputPipelineFrame(_Frame):
    """The host side of a training step (``advisor.probe.input_pipeline``); None, with a note saying why, when a
    make_batch-only workload's batches could not be timed (optional: the probe stands without it)."""

    kind: Literal["input_pipeline"] = "input_pipeline"
    pipeline: InputPipeline | None
    note: _Text | None = None


class ErrorFrame(_Frame):
    """An error in the child: an AdvisorError by class name, or (``error_class`` None) an unexpected one."""

    kind: Literal["error"] = "error"
    error_class: ChildErrorClass | None
    # Bounded as every text the child sends is (a 3 MB exception message was printed whole, twice)
    message: Annotated[str, _AS_UTF8, Field(max_length=MAX_TEXT_CHARS)]
    hint: Annotated[str, _AS_UTF8, Field(max_length=MAX_TEXT_CHARS)] | None = None
    traceback: Annotated[str, _AS_UTF8, Field(max_length=MAX_TRACEBACK_CHARS)] | None = None


class UnpicklableFrame(_Frame):
    """The pickled workload did not load in the fresh interpreter: fork instead."""

    kind: Literal["unpicklable"] = "unpicklable"
    reason: _Text


class TurnFrame(_Frame):
    """How long the probe waited for another advisor probe to finish timing (``advisor.probe.turns``), and the
    note that says so (None: nobody to wait for)."""

    kind: Literal["turn"] = "turn"
    waited_seconds: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
    note: _Text | None = None


class DoneFrame(_Frame):
    """The last frame of a probe that finished."""

    kind: Literal["done"] = "done"


ChildFrame = Annotated[
    ProgressFrame | SingleThreadFrame | HostFrame | WorkloadFrame | CheckFrame | AnalysisFrame | DeviceFrame
    | LeftOutDeviceFrame | InputPipelineFrame | TurnFrame | ErrorFrame | UnpicklableFrame | DoneFrame,
    Field(discriminator="kind"),
]


class _AnyChildFrame(RootModel[ChildFrame]):
    pass


def parse_child_frame(payload: bytes) -> ChildFrame:
    """The message in one frame's payload; ``MalformedFrame`` when it is not one of the models above.

    Validated strictly, nested models too: a number is a JSON number of its type (true is no count or fraction,
    "0.5" no time, 2.0 no count), as an honest child's ``model_dump_json`` writes it.
    """
    try:
        return _AnyChildFrame.model_validate_json(payload, strict=True).root
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "the frame"
        raise MalformedFrame(f"{where}: {first['msg']}"[:MAX_TEXT_CHARS]) from None


def progress_frame(device: str, fraction: float, message: str) -> ProgressFrame:
    """A progress message, its fraction held to 0..1 and its text to ``MAX_TEXT_CHARS``."""
    fraction = float(fraction)
    fraction = min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0
    return ProgressFrame(device=device, fraction=fraction, message=str(message)[:MAX_TEXT_CHARS])


def child_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Text that came from user code (an exception's message, an optimizer's class name) as a frame may carry it:
    a NUL shown as ``\\x00`` (a frame refuses one), at most ``limit`` characters."""
    text = str(text).replace(NUL, "\\x00")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def one_line(text: str) -> str:
    """Free text from the child (its notes hold exception messages from the workload's code) on one line: a
    newline in it printed a line of its own, such as a forged "note: advisor verified this workload", that read
    as advisor's."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def error_frame(error_class: str | None, message: str, hint: str | None = None,
                traceback: str | None = None) -> ErrorFrame:
    """An ``ErrorFrame`` with its texts made sendable (``child_text``); a traceback keeps its end, where the
    error is."""
    if traceback is not None:
        traceback = str(traceback).replace(NUL, "\\x00")
        if len(traceback) > MAX_TRACEBACK_CHARS:
            traceback = "…" + traceback[-(MAX_TRACEBACK_CHARS - 1):]
    return ErrorFrame(error_class=error_class, message=child_text(message),
                      hint=None if hint is None else child_text(hint), traceback=traceback)


def error_class_of(exc: BaseException) -> str | None:
    """The name of the nearest class of ``exc`` that may cross as an error (a user's subclass of WorkloadError
    crosses as WorkloadError); None for an exception that is not an AdvisorError."""
    return next((c.__name__ for c in type(exc).__mro__ if c.__name__ in CHILD_ERROR_CLASSES
                 and c.__module__ == "advisor.errors"), None)


# --------------------------------------------------------------------------------------------- framing


def encode(model: BaseModel) -> bytes:
    """One frame: the length, then the model as JSON."""
    payload = model.model_dump_json().encode()
    if len(payload) > MAX_FRAME_BYTES:
        raise ValueError(f"a {type(model).__name__} of {len(payload)} bytes is over the {MAX_FRAME_BYTES}-byte "
                         "frame limit")
    return _HEADER.pack(len(payload)) + payload


def send_payload(sock: socket.socket, payload: bytes) -> None:
    """One frame of raw bytes (the parent's pickled workload), without copying them."""
    sock.sendall(_HEADER.pack(len(payload)))
    sock.sendall(payload)


class FrameReader:
    """Splits a byte stream into frame payloads. A frame over the limit is an error as soon as its length
    arrives, before any of it is buffered."""

    def __init__(self, limit_bytes: int = MAX_FRAME_BYTES) -> None:
        self._limit = limit_bytes
        self._buffer = bytearray()

    @property
    def partial(self) -> bool:
        """Bytes of an unfinished frame are waiting."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads of the frames that ``data`` completes (``MalformedFrame``: a frame over the limit)."""
        self._buffer += data
        payloads = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > self._limit:
                raise MalformedFrame(f"a frame of {size} bytes, over the {self._limit}-byte limit")
            if len(self._buffer) < _HEADER.size + size:
                break
            payloads.append(bytes(self._buffer[_HEADER.size:_HEADER.size + size]))
            del self._buffer[:_HEADER.size + size]
        return payloads


def receive(sock: socket.socket, reader: FrameReader, timeout_seconds: float) -> tuple[list[bytes], bool]:
    """(the payloads that arrived within ``timeout_seconds``, whether the other end has closed)."""
    if not wait_readable(sock, timeout_seconds):
        return [], False
    try:
        data = sock.recv(_READ_CHUNK_BYTES)
    except ConnectionResetError:
        data = b""
    return (reader.feed(data) if data else []), not data


def read_frames(fd: int, limit_bytes: int = MAX_FRAME_BYTES) -> Iterator[bytes]:
    """The payloads from a blocking descriptor, until its end (``MalformedFrame`` when it ends inside a frame)."""
    reader = FrameReader(limit_bytes)
    while True:
        data = os.read(fd, _READ_CHUNK_BYTES)
        if not data:
            if reader.partial:
                raise MalformedFrame("the stream ended inside a frame")
            return
        yield from reader.feed(data)
