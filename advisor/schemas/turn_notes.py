"""The wording of a probe's turn notes, which the probe writes (``advisor.probe.turns``: it waited for another
advisor probe on this machine to finish timing, waited the limit and timed beside it, or could not open the lock
file they take turns with) and the predictor reads (``advisor.predictor.carried_notes``: every estimate from a
device this probe timed carries them, since the turn was held over all of its timed steps). Neither layer may
import the other, so the words live here.
"""

from __future__ import annotations

WAITED = "this probe waited "  # how every wait note starts: the wait, or the limit it waited before timing beside
LOCK_FILE = "the lock file advisor probes on this machine take turns with"  # in the note of a lock not opened


def is_turn_note(note: str) -> bool:
    """Whether ``note`` (one of ``Profile.notes``) is about this probe's turn at timing."""
    return note.startswith(WAITED) or LOCK_FILE in note
