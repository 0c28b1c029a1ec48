"""Several optimizers a ``configure_optimizer`` returned together, stepped as one.

A sparse-embedding recommender (DLRM's recipe, PyTorch's own advice) updates its embeddings with
``torch.optim.SparseAdam`` and the dense rest with ``Adam``: neither takes the other's gradients, so no single
optimizer with param groups can stand in. The job steps each after one backward of one loss, and so does the
timed step: ``SeveralOptimizers`` is one ``torch.optim.Optimizer`` to every caller (the check, the probe's timed
steps, the shape analysis, a GradScaler) that zeroes and steps its members in turn, and whose ``param_groups`` and
``state`` are theirs. That is not a GAN's alternating schedule (two backward passes a step, each network's loss
stepping its own optimizer), whose step it does not time (README "The workload file").

Imports torch at the top; ``advisor.workload.loader`` imports this module only when it builds an optimizer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import torch

from advisor.schemas import optimizer_notes


class SeveralOptimizers(torch.optim.Optimizer):
    """The optimizers a ``configure_optimizer`` returned (a tuple, list or dict of them), as one.

    Args:
        optimizers: two or more ``torch.optim.Optimizer`` (each its own parameters), stepped in this order.

    Attributes:
        optimizers: the members.
    """

    def __init__(self, optimizers: Iterable[torch.optim.Optimizer]) -> None:  # noqa: D107
        # Not Optimizer.__init__: it would make groups of its own; the members' groups and state are the ones used.
        self.optimizers = list(optimizers)
        self.defaults: dict[str, Any] = {}
        for hooks in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                      "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                      "_optimizer_load_state_dict_post_hooks"):
            setattr(self, hooks, OrderedDict())

    @property
    def param_groups(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The members' groups, themselves (an ``lr`` set on one is that member's)."""
        return [group for opt in self.optimizers for group in opt.param_groups]

    @property
    def state(self) -> dict[Any, Any]:  # type: ignore[override]
        """The members' state, by parameter (each parameter is one member's)."""
        return {p: s for opt in self.optimizers for p, s in opt.state.items()}

    @property
    def name(self) -> str:
        """The members' class names, "SparseAdam+Adam"."""
        return "+".join(type(opt).__name__ for opt in self.optimizers)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Each member's ``zero_grad``."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """Each member's ``step`` in turn, as the job calls them after its one backward; the closure's loss, if
        one is given, is evaluated once (by the first member)."""
        first, *rest = self.optimizers
        loss = first.step(closure) if closure is not None else first.step()
        for opt in rest:
            opt.step()
        return loss

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(type(opt).__name__ for opt in self.optimizers)})"


def as_one_optimizer(made: Any) -> Any:
    """What ``configure_optimizer`` returned, as one optimizer: two or more optimizers in a tuple, list or dict
    as ``SeveralOptimizers``, one alone in one as itself; anything else as it was (the caller refuses it)."""
    items = list(made.values()) if isinstance(made, dict) else made
    if not isinstance(items, (tuple, list)) or not items:
        return made
    if not all(isinstance(item, torch.optim.Optimizer) for item in items):
        return made
    return items[0] if len(items) == 1 else SeveralOptimizers(items)


def optimizer_name(optimizer: Any) -> str:
    """The optimizer's class name, or its members' ("SparseAdam+Adam")."""
    return optimizer.name if isinstance(optimizer, SeveralOptimizers) else type(optimizer).__name__


def uncovered_note(model: Any, optimizer: Any) -> str | None:
    """A note where ``optimizer`` (its groups' parameters) leaves some of ``model``'s trainable parameters out:
    their update is not in the timed step (SparseAdam over the embeddings alone, the dense layers with none)."""
    covered = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = {id(p): p.numel() for p in model.parameters() if p.requires_grad}
    left = sum(n for key, n in trainable.items() if key not in covered)
    return optimizer_notes.uncovered_note(left, sum(trainable.values()), optimizer_name(optimizer)) if left else None


def several_note(optimizer: Any) -> str | None:
    """Where ``optimizer`` is several: that each is stepped after one backward of one loss, a GAN's schedule not."""
    if not isinstance(optimizer, SeveralOptimizers):
        return None
    return optimizer_notes.several_note(len(optimizer.optimizers), optimizer.name)
