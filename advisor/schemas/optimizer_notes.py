"""The wording of a profile's notes on the workload's optimizers, which both the check that writes them
(``advisor.workload.optimizers``, torch) and the predictor that carries them onto every estimate
(``advisor.predictor.carried_notes``, torch-free) use: several optimizers stepped as one, and trainable parameters
that no optimizer updates (their update is not in the timed step)."""

from __future__ import annotations

SEVERAL_STEPPED = "each is stepped after the one backward of the one loss"
NO_OPTIMIZER = "trainable parameters have no optimizer"


def several_note(count: int, names: str) -> str:
    """The note for ``count`` optimizers (class names ``names``, "SparseAdam+Adam") stepped as one."""
    return (f"configure_optimizer returned {count} optimizers ({names}): {SEVERAL_STEPPED}, as a job that updates "
            "its sparse and dense parameters with their own optimizers does; a GAN's alternating updates (a backward "
            "per network) take longer.")


def uncovered_note(left: int, trainable: int, names: str) -> str:
    """The note for ``left`` of ``trainable`` parameters that the optimizer ``names`` does not update."""
    return (f"{left:,} of {trainable:,} {NO_OPTIMIZER}: their update is not timed ({names} from "
            "configure_optimizer covers the rest). A job that updates them with another optimizer (Adam for the "
            "dense layers beside SparseAdam for the embeddings) takes longer: return every optimizer it steps, as a "
            "tuple.")
