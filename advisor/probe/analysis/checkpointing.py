"""Activation (gradient) checkpointing seen in a traced step: each checkpointed region's recomputed activations.

Under ``torch.utils.checkpoint`` autograd saves only a region's inputs in the forward; in the backward the region
is run again and its activations are saved then, so the step's peak holds the regions' inputs plus the activations
of the one region being recomputed (and the gradients of that region in flight). The recorder's saved-tensor hook
sees only the inputs: a region's forward saves through checkpoint's own (innermost) hook. ``RecomputeWatch``
counts what each region saves when it is recomputed, for both variants:

- non-reentrant (``use_reentrant=False``): the recompute saves through checkpoint's ``_recomputation_hook``; the
  watch wraps that hook's pack function, one region per checkpoint frame.
- reentrant (``use_reentrant=True``): ``CheckpointFunction.backward`` re-runs the region with grad enabled, under
  whatever saved-tensor hook is active; the watch marks that call as one region and ``pack`` (the hook the step's
  backward runs under) counts what it saves.

Both are torch internals, patched on the module for the step's duration only and put back after. Where a torch
version lacks them, the watch sees no region (activation memory is then the saved inputs alone, as before).

The watch also adds up the FLOPs of the ops the recompute runs (``recomputed_flops``): the forward run again
inside ``_recomputation_hook``'s context (non-reentrant) or the region's ``run_function`` called from
``CheckpointFunction.backward`` (reentrant; the region's own backward that follows is not counted). They are real
work, priced in the step's time, but no model FLOPs: MFU leaves them out (``predictor.job``).
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from typing import Any

import torch.utils.checkpoint as torch_checkpoint

from advisor.probe.analysis.recorder import StepRecorder, storage_key

__all__ = ["RecomputeWatch"]


class RecomputeWatch:
    """Counts the storages each checkpointed region saves when it is recomputed in backward.

    Args:
        rec: the step's recorder: its ``saved`` storages (the regions' inputs, saved in the forward) and the
            parameters' storages are not counted again, and its ``virtual_dtype`` sizes a tensor.

    Attributes:
        regions: region id -> {storage key: bytes} of the tensors saved while that region was recomputed.
        recomputed_flops: the FLOPs of the ops the recorder recorded while a region was recomputed.
    """

    def __init__(self, rec: StepRecorder) -> None:
        self.rec = rec
        self.regions: dict[int, dict[int, float]] = {}
        # storage key -> the storage, weakly: what the forward saved, while it lives. A key is an address that a
        # later storage may take once this one is freed (the head's saved tensors, say, before a recompute).
        self._forward_saved: dict[int, Any] = {}
        self._ids = itertools.count()
        self._current: int | None = None  # the reentrant region being recomputed, if any
        self.recomputed_flops = 0.0
        self._recomputing = 0  # how deep in recomputes (a checkpoint inside a checkpointed region nests them)

    def peak_bytes(self) -> float:
        """The most any one region adds at its recompute: its saved activations plus one gradient of its largest
        tensor (the gradient of what the backward is working on coexists with the tensor itself)."""
        return max((sum(r.values()) + max(r.values(), default=0.0) for r in self.regions.values()), default=0.0)

    def count(self, region: int, t) -> None:
        """Count tensor ``t`` saved while ``region`` is recomputed (once per storage)."""
        key = storage_key(t)
        if key is None or key in self.rec.param_storages or self._saved_in_forward(key):
            return
        seen = self.regions[region]
        if key not in seen:
            seen[key] = self.rec.storage_bytes(t)

    def forward_pack(self, t):
        """The saved-tensor hook of the forward: the recorder's, remembering which storage was saved."""
        key = storage_key(t)
        if key is not None and key not in self.rec.saved:
            with contextlib.suppress(TypeError, RuntimeError):  # no weak reference: the key alone then
                self._forward_saved[key] = weakref.ref(t.untyped_storage())
        return self.rec.pack(t)

    def _saved_in_forward(self, key: int) -> bool:
        if key not in self.rec.saved:
            return False
        ref = self._forward_saved.get(key)
        return ref is None or ref() is not None

    def pack(self, t):
        """The saved-tensor hook of the backward: what a reentrant region's recompute saves."""
        if self._current is not None:
            self.count(self._current, t)
        return t

    @contextlib.contextmanager
    def recomputing(self):
        """Count the FLOPs of what the recorder records in the ``with`` body (a region's forward run again) as
        recomputed; an inner recompute's are counted once, by the outermost."""
        start = len(self.rec.records)
        self._recomputing += 1
        try:
            yield
        finally:
            self._recomputing -= 1
            if not self._recomputing:
                self.recomputed_flops += sum(r.flops for r in self.rec.records[start:])

    @contextlib.contextmanager
    def watching(self):
        """Patch torch.utils.checkpoint's recompute paths to report to this watch, for the ``with`` body.

        The patch is process-wide: one traced step at a time (the probe child analyses in its one thread).
        """
        patches: list[tuple[Any, str, Any]] = []
        hook_cls = getattr(torch_checkpoint, "_recomputation_hook", None)
        if isinstance(hook_cls, type):
            patches.append((torch_checkpoint, "_recomputation_hook", self._wrap_recomputation_hook(hook_cls)))
        function = getattr(torch_checkpoint, "CheckpointFunction", None)
        backward = getattr(function, "backward", None)
        if backward is not None:
            patches.append((function, "backward", staticmethod(self._wrap_reentrant_backward(backward))))
        originals = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
        try:
            for owner, name, value in patches:
                setattr(owner, name, value)
            yield self
        finally:
            for owner, name, value in originals:
                setattr(owner, name, value)

    def _start_region(self) -> int:
        region = next(self._ids)
        self.regions[region] = {}  # seen, even where it saves nothing new
        return region

    def _wrap_recomputation_hook(self, hook_cls: type) -> type:
        watch = self

        class _CountingRecomputationHook(hook_cls):  # type: ignore[misc, valid-type]
            def __init__(self, target_frame_ref, gid) -> None:
                super().__init__(target_frame_ref, gid)
                region = watch._start_region()  # a frame is recomputed once per backward: one region per hook
                pack = self.pack_hook

                def counting_pack(x):
                    watch.count(region, x)
                    return pack(x)

                self.pack_hook = counting_pack
                self._counting = watch.recomputing()

            def __enter__(self):
                self._counting.__enter__()  # the recompute runs inside this context (checkpoint's unpack hook)
                return super().__enter__()

            def __exit__(self, *exc):
                try:
                    return super().__exit__(*exc)
                finally:
                    self._counting.__exit__(*exc)

        return _CountingRecomputationHook

    def _wrap_reentrant_backward(self, backward):
        def counting_backward(ctx, *args):
            outer, self._current = self._current, self._start_region()
            run = ctx.run_function  # the region's forward, run again; its backward follows, not counted

            def recomputed_run(*inputs):
                with self.recomputing():
                    return run(*inputs)

            ctx.run_function = recomputed_run
            try:
                return backward(ctx, *args)
            finally:
                self._current = outer

        return counting_backward
