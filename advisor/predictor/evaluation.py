"""One evaluation of a job: ``job.eval_steps`` forward-only batches of ``job.batch_size``, every ``job.eval_every``
optimizer steps, and the note that says what it costs.

Each evaluation batch is made and copied to the device as a training batch is (nanoGPT's ``estimate_loss`` calls
``get_batch`` for every one), so it pays the training step's host side with its forward pass in place of the
step's compute: the input pipeline and the copy combined with the forward as ``input_bound.HostModel.parts``
combines them with a training step's compute (overlapped behind pinned workers, in series for ``make_batch``).
On a device whose probe measured the batch creation (``make_batch`` + copy), that measured time stands, as it
does for a training step. A compiled job that evaluates also compiles the evaluation's own graph once, in its
start-up (``compile_time.compile_costs``), which the note names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from advisor.predictor.input_bound import HostModel
from advisor.schemas import JobSpec
from advisor.units import format_duration


@dataclass(frozen=True)
class Evaluation:
    """One evaluation batch of a job shape: its seconds (forward pass and host side) and its forward pass."""

    batch_seconds: float = 0.0
    forward_seconds: float = 0.0
    compile_seconds: float = 0.0  # torch.compile's evaluation graph, once in a job that evaluates

    @classmethod
    def of(cls, job: JobSpec, host: HostModel | None, forward_seconds: float,
           measured_batch_seconds: Callable[[int], float] | None = None, compile_seconds: float = 0.0) -> Evaluation:
        """An evaluation batch of ``job``'s batch size: its forward pass (``forward_seconds``) with the host side a
        training step pays per batch. ``measured_batch_seconds``: the probe's measured batch creation at a batch
        size, which stands where the batches come from ``make_batch`` (as a measured device's training step keeps
        it); a dataloader, or a host without that measurement, is modelled by ``host``; neither: the forward
        alone. ``compile_seconds``: a compiled job's compile of the evaluation graph. No evaluation batches
        (``job.eval_steps`` 0): nothing."""
        if not job.eval_steps:
            return cls()
        b = job.batch_size
        if measured_batch_seconds is not None and (host is None or host.source != "dataloader"):
            return cls(forward_seconds + float(measured_batch_seconds(b)), forward_seconds, compile_seconds)
        return cls(host.parts(b, forward_seconds).step_seconds if host is not None else forward_seconds,
                   forward_seconds, compile_seconds)

    def startup_seconds(self, job: JobSpec) -> float:
        """What ``job``'s start-up adds for its evaluations: the evaluation graph's compile, where it evaluates."""
        return self.compile_seconds if job.evaluations else 0.0

    def seconds(self, job: JobSpec) -> float:
        """One evaluation of ``job`` (of the shape this was made for): its ``eval_steps`` batches."""
        return job.eval_steps * self.batch_seconds

    def note(self, job: JobSpec) -> str | None:
        """What ``job``'s evaluations cost: one evaluation's seconds, and how much of each batch is its forward
        pass against making it and copying it to the device; None where it evaluates nothing."""
        if not job.evaluations:
            return None
        n, every, steps = job.evaluations, job.eval_every, job.eval_steps
        per_batch, forward = self.batch_seconds, self.forward_seconds
        how = (f" ({per_batch * 1e3:.3g} ms a batch: {forward * 1e3:.3g} ms forward, the rest the host side a "
               "training step pays too, making the batch and any copy to the GPU)"
               if per_batch - forward > 1e-3 * per_batch else "")
        compiled = (f" COMPILE: the evaluation compiles its own forward-only graph once (eval mode, no grad): "
                    f"{format_duration(self.compile_seconds)} more in the start-up (estimated from the forward's "
                    "operators, not measured).") if self.compile_seconds else ""
        return (f"evaluation: {n:,} evaluation{'s' if n != 1 else ''} (every {every:,} optimizer "
                f"step{'s' if every != 1 else ''}) of {steps:,} forward-only batch{'es' if steps != 1 else ''} of "
                f"{job.batch_size:,}, {format_duration(self.seconds(job))} each{how}.{compiled}")
