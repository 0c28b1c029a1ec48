"""Whether the model's state grows as it trains: the sum of its buffers' sizes after each timed step.

A model that appends to a buffer at every step (a memory bank ``torch.cat``-ed to, a history kept on the module)
makes each step slower and larger than the one before: its probe timed the job's first steps, and their spread is
the model's, not another program's (``advisor.schemas.state_growth``). Time alone cannot tell: on a busy machine
step times trend up and down on their own. Memory can: buffers do not grow under load. Summing the buffers'
``nbytes`` is the only per-step cost, outside the timed clock.
"""

from __future__ import annotations

from typing import Any

from advisor.schemas.state_growth import StateGrowth

MIN_SAMPLES = 4  # timed steps, each larger than the one before, that make a growth


class StateMeter:
    """The model's buffer bytes after each timed step (``after_step``), and the growth they show (``growth``).

    Args:
        model: the probed module.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.samples: list[tuple[int, int, int]] = []  # (training steps taken so far, batch size, buffers' bytes)
        self._first: dict[str, int] = {}  # each buffer's bytes at the first sample

    def after_step(self, steps_taken: int, batch_size: int) -> None:
        """Record the buffers' total after a timed step at ``batch_size``, the probe's ``steps_taken``-th."""
        total = sum(b.nbytes for b in self.model.buffers())
        if not self.samples:
            self._first = {name: b.nbytes for name, b in self.model.named_buffers()}
        self.samples.append((steps_taken, batch_size, total))

    def growth(self) -> StateGrowth | None:
        """The growth where the buffers' total rose at every one of at least ``MIN_SAMPLES`` timed steps; None
        otherwise (a model whose state is fixed, or grew once: a lazily created buffer). Its rate is the largest
        batch size's (the job's, usually), where two of its steps were timed: a bank grows by the batch."""
        totals = [total for _, _, total in self.samples]
        if len(totals) < MIN_SAMPLES or any(b <= a for a, b in zip(totals, totals[1:], strict=False)):
            return None
        top = max(b for _, b, _ in self.samples)
        at_top = [(step, total) for step, b, total in self.samples if b == top]
        if len(at_top) < 2:  # one step there: the whole probe's rate
            at_top = [(step, total) for step, _, total in self.samples]
        (step0, bytes0), (step1, bytes1) = at_top[0], at_top[-1]
        grown = [name for name, b in self.model.named_buffers() if b.nbytes > self._first.get(name, 0)]
        return StateGrowth(bytes_per_step=(bytes1 - bytes0) / max(1, step1 - step0), batch_size=top,
                           steps=self.samples[-1][0] - self.samples[0][0] + 1, first_bytes=totals[0],
                           last_bytes=totals[-1], buffers=grown[:16])
