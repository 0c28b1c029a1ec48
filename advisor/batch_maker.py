"""Who makes a job's batches when no loader workers do, in the words the answer prints (the predictor's bound
line and the ranking's reasons say it the same way)."""

from __future__ import annotations

from advisor.schemas import Estimate


def serial_maker(est: Estimate, processes: int) -> str:
    """Who makes the batches inside ``processes`` training processes: the file's make_batch, or its DataLoader
    with num_workers=0 (``Estimate.input_source``)."""
    where = "the training process" if processes <= 1 else f"the {processes} training processes"
    return f"the DataLoader (num_workers=0) in {where}" if est.input_source == "dataloader" \
        else f"make_batch in {where}"
