"""Which of a profile's notes an estimate carries (``Profile.notes``).

A note that starts with a probed device's name ("cpu: ...", "cuda:0: ...") is about the steps timed there, and
only an estimate made from that device's probe carries it. The workload's own notes name no device and hold
whatever device the job is priced on: make_batch's shapes varied between calls (``schemas.spread.SHAPES_VARY``:
the timed steps and the shape analysis each priced whichever shape a call drew) and the model's shape analysis
failed (``schemas.missing_analysis.FAILED_PREFIX``: GPUs not probed here are not priced), and its optimizers
(``schemas.optimizer_notes``: several stepped as one, parameters none updates). ``recommend`` prints
every profile note once ("probe: ..."); ``predict`` prints only its estimate's, so these ride on each estimate.
The probe's turn notes (``schemas.turn_notes``: it waited for another advisor probe to finish timing, or waited the
limit and timed beside it) name no device either, and are about every device it timed: an estimate from a probed
device carries them (``predict`` said nothing of a probe timed beside another one).
"""

from __future__ import annotations

from collections.abc import Iterable

from advisor.schemas.missing_analysis import FAILED_PREFIX
from advisor.schemas.optimizer_notes import NO_OPTIMIZER, SEVERAL_STEPPED
from advisor.schemas.spread import SHAPES_VARY
from advisor.schemas.turn_notes import is_turn_note

_WORKLOAD_WORDS = (SHAPES_VARY, NO_OPTIMIZER, SEVERAL_STEPPED)


def is_workload_note(note: str) -> bool:
    """Whether ``note`` (one of ``Profile.notes``) is about the workload whatever device prices it."""
    return note.startswith(FAILED_PREFIX) or any(words in note for words in _WORKLOAD_WORDS)


def carried_notes(notes: Iterable[str], device: str | None) -> list[str]:
    """The profile ``notes`` an estimate from ``device``'s probe carries (None: no device's, as the analysis'
    GPU estimates): that device's own, the probe's turn notes (for a probed device), and the workload's, each once,
    in the profile's order."""
    own = f"{device}:" if device else None
    return [n for n in notes
            if (own is not None and (n.startswith(own) or is_turn_note(n))) or is_workload_note(n)]
