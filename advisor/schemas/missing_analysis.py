"""What a profile without the model's shape analysis says, to the user, about why and about what to do.

Owns the wording both the probe (``advisor.probe.runner``: the note it puts on a profile whose analysis failed)
and the predictor (the error for a GPU it cannot predict without one) use. A profile from a workload file whose
analysis failed needs the workload changed (the analysis' own fix); a saved profile taken without one needs the
file profiled again. Neither layer may import the other, so the judgement lives with the model it reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.errors import PredictionError

# The start of the note on a profile whose analysis failed (``Profile.notes``); the predictor finds it by it.
FAILED_PREFIX = "the model's shape analysis failed, so GPUs not probed here cannot be predicted (their offers are " \
    "skipped): "


def failed_note(failure: str) -> str:
    """The profile's note for an analysis that failed: ``failure`` says why, then its fix ("Fix: ...")."""
    return f"{FAILED_PREFIX}{failure}"[:4096]


def _failure(notes: Sequence[str]) -> str | None:
    return next((n[len(FAILED_PREFIX):] for n in notes if n.startswith(FAILED_PREFIX)), None)


def missing_analysis_hint(notes: Sequence[str]) -> str:
    """The fix for a prediction that needs the analysis a profile with ``notes`` lacks: the analysis' own fix
    where it failed (the workload file was given), else how to make a profile with one."""
    failure = _failure(notes)
    if failure is None:
        return ("Fix: give the workload file instead of --profile, or re-create the profile with "
                "`advisor profile WORKLOAD -o profile.json` (it analyses the model unless told not to).")
    at = failure.find("Fix:")
    fix = failure[at:] if at >= 0 else "Fix: change the workload so that its shape analysis runs."
    return f"{fix} (A GPU probed on its own machine is predicted without the analysis.)"


def missing_analysis_error(what: str, notes: Sequence[str]) -> PredictionError:
    """The error for ``what`` (a GPU) that a profile with ``notes`` and no analysis cannot predict."""
    failure = _failure(notes)
    why = ("the profile has no analysis of the model (FLOPs and bytes per operator)" if failure is None else
           f"the model's shape analysis failed ({failure.split(' Fix:')[0].strip().rstrip('.')})")
    return PredictionError(f"cannot predict {what}: {why}; predictions for GPUs not at hand are made from it.",
                           hint=missing_analysis_hint(notes))
