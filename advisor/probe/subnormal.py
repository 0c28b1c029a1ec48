"""Optimizer state that turns subnormal on the CPU: a slowdown that starts after the probe has ended.

A parameter whose gradient is exactly zero step after step (a ReLU unit that no input activates, an embedding
row that no batch uses) keeps optimizer state that only decays: Adam's first moment is multiplied by beta1
(0.9) every step, SGD's momentum buffer by its momentum. After some hundreds of steps those values fall below
float32's normal range (1.18e-38), and there, rounded to nearest, they stop a few units above zero (0.9 x 4
units rounds back to 4): they stay subnormal for the rest of the job, and an x86 CPU runs arithmetic on
subnormal floats many times slower. A probe of a few hundred steps ends before any of it; the job then slows
down part-way (``examples/tabular_mlp.py`` with AdamW on this project's 2-core VM: 5.1 ms a step at step 500,
6.2 ms at 4,000, with 60% of the first moments subnormal; 20.6 s against 23.8 s for the whole job with
``torch.set_flush_denormal(True)`` and without, bench/README.md).

What is measured here, in the probe's child once the ladder is done (CPU only: GPUs run subnormal float32 at
full speed), within its own small budget:

* the parameter elements whose gradient was zero in each of the last ``ZERO_STEPS`` training steps;
* how their optimizer state decays: one optimizer step, their values before and after (the median ratio),
  per state tensor (``exp_avg``, ``exp_avg_sq``, ``momentum_buffer`` ...);
* the optimizer steps until their median value is subnormal, counted from the probe's first step (``onset_steps``);
* one optimizer step's time with those values set subnormal against the same step with their own values, in
  interleaved rounds (``extra_step_seconds``: the median of the paired differences), on the threads and clock
  the ladder timed its step at that batch size with where the machine was idle, else on one thread by its CPU
  time (``timing_of``), beside the step on those threads and that clock, which the predictor scales it to the
  target with (``SubnormalDrift.step_seconds``: the ladder's, or the median of the steps taken here).

Nothing here changes the user's job; ``advisor.predictor.measured`` adds the extra time from the onset on.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any, Protocol

from advisor.probe import stats
from advisor.schemas import Measurement, SubnormalDrift, SubnormalStage
from advisor.schemas.subnormal import NoStage

ZERO_STEPS = 3  # a gradient zero in each of this many consecutive steps: a parameter the data does not reach
MIN_ZERO_SHARE = 0.01  # below this share of the parameters, nothing to measure
SAMPLE = 200_000  # state values per tensor read for the decay (the timing sets every zero-gradient value)
ROUNDS = 5  # timing rounds per state; the first is a warm-up
SUBNORMAL_UNITS = 3  # the value set: 3 units of the smallest subnormal, a fixed point of x0.9 rounded to nearest


class OptimizerRunner(Protocol):
    """What this measure needs of a device probe (``advisor.probe.measure.DeviceProbe``)."""

    torch: Any
    model: Any
    optimizer: Any

    def batch(self, batch_size: int) -> tuple[Any, Any]: ...

    def train(self, inputs: Any, target: Any) -> None: ...


def measure_subnormal_drift(probe: OptimizerRunner, reference: Measurement, steps_taken: int,
                            budget_seconds: float) -> SubnormalDrift | None:
    """The optimizer's subnormal drift at ``reference``'s batch size after the probe's ``steps_taken`` optimizer
    steps, timed on ``reference``'s threads and clock where the machine was idle, else on one thread's CPU time
    (``timing_of``), beside a step timed the same way (which scales the extra time as it scales that step); None
    where no step was timed. No per-parameter state, no gradient that stays zero, no time left to time a state
    that decays: no stage of it, and ``no_stage`` (``untimed_states``) says which. Not looked at, and ``no_stage``
    says why (the ladder's figures stand without it): ``ZERO_STEPS`` + 2 training steps that would not fit
    ``budget_seconds``, an optimizer that ``step()`` alone does not drive (one that needs a closure, L-BFGS), or
    an error in the check."""
    torch = probe.torch
    threads = torch.get_num_threads()
    if not reference.compute_seconds:
        return None
    if (ZERO_STEPS + 2) * reference.compute_seconds > budget_seconds:
        # its training steps alone would overrun the budget: a model too slow here to look at
        return _not_looked_at(reference, "steps_over_budget")
    if _needs_closure(probe.optimizer):  # its step() re-evaluates the model: not one step on the same gradients
        return _not_looked_at(reference, "needs_closure")
    try:
        timing = timing_of(reference)
        torch.set_num_threads(timing[0] or threads)
        return _measure(probe, reference, steps_taken, budget_seconds, timing)
    except Exception:  # noqa: BLE001 - an extra figure, never a reason to fail a probe whose steps all ran
        return _not_looked_at(reference, "check_failed")
    finally:
        torch.set_num_threads(threads)


def _not_looked_at(reference: Measurement, why: NoStage) -> SubnormalDrift:
    """The record of a check that did not look (no zero-gradient share: none was looked for), saying why, so that
    no stage does not read as none found; it adds nothing to a job."""
    return SubnormalDrift(batch_size=reference.batch_size, step_seconds=reference.compute_seconds,
                          threads=reference.threads, clock=reference.clock, no_stage=why)


def _needs_closure(optimizer: Any) -> bool:
    """Whether ``optimizer.step`` must be given a closure (``torch.optim.LBFGS``: a step that calls it again)."""
    try:
        closure = inspect.signature(optimizer.step).parameters.get("closure")
    except (TypeError, ValueError):  # a step without a readable signature: tried, as any other
        return False
    return closure is not None and closure.default is inspect.Parameter.empty


def timing_of(reference: Measurement) -> tuple[int | None, str]:
    """(threads, clock) to time the extra on: ``reference``'s where it was timed on one thread's CPU time, or on the
    wall clock of a machine nothing else used; one thread by its CPU time where the machine was busy (its window
    disturbed, or raised above other processes, which the raise may not hold back: others at the same raised
    priority): on a busy 2-core VM, timed on the wall clock at nice -20, tabular_mlp's extra read 17.9 ms an
    optimizer step, against 0.84-1.14 ms by the thread's CPU time and 1.1 ms in the real job."""
    if reference.clock == "thread_cpu" or (reference.clean and reference.priority_nice is None):
        return reference.threads, reference.clock
    return 1, "thread_cpu"


def _measure(probe: OptimizerRunner, reference: Measurement, steps_taken: int, budget_seconds: float,
             timing: tuple[int | None, str]) -> SubnormalDrift:
    torch = probe.torch
    started = time.perf_counter()
    clock = time.thread_time if timing[1] == "thread_cpu" else time.perf_counter
    masks, train_seconds, wall_seconds = _zero_masks(probe, reference.batch_size, clock)
    steps_taken += ZERO_STEPS
    total = sum(p.numel() for p in masks)
    zero = sum(int(m.sum()) for m in masks.values())
    share = zero / total if total else 0.0
    # The step the extra is scaled with: the ladder's where timed as it was, else these steps' on this timing.
    same = timing == (reference.threads, reference.clock)
    step = reference.compute_seconds if same else max(1e-9, stats.median(train_seconds))
    drift = SubnormalDrift(zero_grad_share=share, batch_size=reference.batch_size, step_seconds=step,
                           threads=timing[0], clock=timing[1])
    tensors = _state_tensors(probe.optimizer, masks, torch) if share >= MIN_ZERO_SHARE else {}
    if not tensors:  # no gradient stayed zero, or the optimizer keeps no state of theirs (plain SGD)
        drift.no_stage = "no_zero_gradient" if share < MIN_ZERO_SHARE else "no_decaying_state"
        return drift
    before = {key: [t.view(-1)[i[:SAMPLE]].clone() for t, i in items] for key, items in tensors.items()}
    t0 = clock()
    probe.optimizer.step()  # on the last training step's gradients: the zero ones stay zero
    # What sizes the timing rounds: this one step, but no more than a whole training step timed the same way (a
    # median): one stall here (a 0.1 s wait on the wall clock) would have left no room in the budget for a round.
    step_seconds = min(clock() - t0, drift.step_seconds)
    # Wall seconds per second on ``clock`` (1 on the wall clock; on a thread's CPU clock, the time it also waited
    # for a core): the budget is wall time, and rounds sized by CPU time alone overran it that many times.
    wall_factor = min(4.0, max(1.0, stats.median(wall_seconds) / max(stats.median(train_seconds), 1e-9)))
    # Every state's decay from this one step, before the timing below steps the optimizer again.
    before = {key: torch.cat(values).double().abs() for key, values in before.items()}
    decays = {key: _decay(before[key], torch.cat([t.view(-1)[i[:SAMPLE]] for t, i in items]).double().abs(),
                          items[0][0].dtype, torch) for key, items in tensors.items()}
    onsets = {key: _onset(decays[key], before[key], items[0][0].dtype, torch, steps_taken)
              for key, items in tensors.items()}
    # The earliest onset first (the one a job reaches): where its share of what is left fits no round but the rest
    # does, it takes the rest, and the later states go untimed rather than it.
    timed = sorted((key for key in tensors if onsets[key] is not None), key=lambda key: onsets[key])
    for n, key in enumerate(timed):
        onset, items = onsets[key], tensors[key]
        left = budget_seconds - (time.perf_counter() - started)
        extra = _extra_seconds(probe, items, torch, (step_seconds, wall_factor), left / (len(timed) - n), clock)
        if extra is None and n < len(timed) - 1:
            extra = _extra_seconds(probe, items, torch, (step_seconds, wall_factor), left, clock)
        if extra is not None:
            drift.stages.append(SubnormalStage(state=key, onset_steps=onset, decay_per_step=decays[key],
                                               extra_step_seconds=extra))
        else:  # it decays, but not one round of its timing fitted what was left of the budget
            drift.untimed_states.append(key)
            drift.untimed_onset_steps = min(onset, drift.untimed_onset_steps or onset)
    if not drift.stages:
        drift.no_stage = "out_of_time" if drift.untimed_states else "no_decaying_state"
    return drift


def _zero_masks(probe: OptimizerRunner, batch_size: int,
                clock: Any) -> tuple[dict[Any, Any], list[float], list[float]]:
    """({parameter: its elements whose gradient was exactly zero in each of the last ``ZERO_STEPS`` steps}, those
    training steps' seconds on ``clock``, and on the wall clock)."""
    masks: dict[Any, Any] = {}
    seconds, walls = [], []
    for _ in range(ZERO_STEPS):
        batch = probe.batch(batch_size)
        t0, w0 = clock(), time.perf_counter()
        probe.train(*batch)
        seconds.append(clock() - t0)
        walls.append(time.perf_counter() - w0)
        for group in probe.optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None or g.is_sparse or not g.is_floating_point() or not p.is_contiguous():
                    continue
                zero = g == 0
                masks[p] = zero if p not in masks else masks[p] & zero
    return masks, seconds, walls


def _state_tensors(optimizer: Any, masks: dict[Any, Any], torch: Any) -> dict[str, list[tuple[Any, Any]]]:
    """{state name: [(state tensor, flat indices of its zero-gradient elements)]}: the optimizer's per-parameter
    floating-point state, contiguous and shaped as its parameter."""
    out: dict[str, list[tuple[Any, Any]]] = {}
    for p, mask in masks.items():
        index = mask.view(-1).nonzero().view(-1)
        if not len(index):
            continue
        for key, value in optimizer.state.get(p, {}).items():
            if (isinstance(value, torch.Tensor) and value.is_floating_point() and value.shape == p.shape
                    and value.is_contiguous()):
                out.setdefault(str(key), []).append((value, index))
    return out


def _decay(before: Any, after: Any, dtype: Any, torch: Any) -> float | None:
    """The median per-step ratio after / before (magnitudes, float64) of the values that were and stayed normal
    in ``dtype`` (None: none)."""
    tiny = torch.finfo(dtype).tiny
    keep = (before >= tiny) & (after >= tiny)  # subnormal values decay by their rounding, not the optimizer's factor
    if not bool(keep.any()):
        return None
    return float((after[keep] / before[keep]).median())


def _onset(decay: float | None, before: Any, dtype: Any, torch: Any, steps_taken: int) -> int | None:
    """Optimizer steps, counted from the probe's first, until the median zero-gradient value (``before``:
    magnitudes, float64) is subnormal; None where the values do not decay (a ratio of 1, or growing)."""
    if decay is None or not 0 < decay < 1 - 1e-9:
        return None
    values = before[before > 0]
    if not len(values):
        return None
    tiny = torch.finfo(dtype).tiny
    median = float(values.median())
    remaining = 0 if median < tiny else math.ceil(math.log(tiny / median) / math.log(decay))
    return steps_taken + remaining


def _extra_seconds(probe: OptimizerRunner, items: list[tuple[Any, Any]], torch: Any, step: tuple[float, float],
                   budget_seconds: float, clock: Any) -> float | None:
    """One optimizer step's seconds on ``clock`` with ``items``' zero-gradient values subnormal, less with them as
    they are: the median of paired rounds (None: not even one step a round fits ``budget_seconds``, wall time).
    ``step``: an optimizer step's seconds on ``clock``, and the wall seconds per second on it."""
    step_seconds, wall_factor = step
    repeats = max(1, min(50, int(0.02 / max(step_seconds, 1e-6))))  # a round of >= 20 ms: above the clock's jitter
    wall_step = step_seconds * wall_factor
    if 2 * ROUNDS * repeats * wall_step > budget_seconds:
        repeats = int(budget_seconds / (2 * ROUNDS * max(wall_step, 1e-9)))
        if repeats < 1:
            return None
    saved = [t.view(-1)[index].clone() for t, index in items]
    info = torch.finfo(items[0][0].dtype)
    small = info.tiny * info.eps * SUBNORMAL_UNITS  # tiny x eps: the smallest subnormal
    diffs = []
    try:
        for r in range(ROUNDS):
            times = {}
            for mode in ("normal", "subnormal"):
                for (t, index), values in zip(items, saved, strict=True):
                    t.view(-1)[index] = values if mode == "normal" else small
                t0 = clock()
                for _ in range(repeats):
                    probe.optimizer.step()
                times[mode] = (clock() - t0) / repeats
            if r:
                diffs.append(times["subnormal"] - times["normal"])
    finally:
        for (t, index), values in zip(items, saved, strict=True):
            t.view(-1)[index] = values
    return max(0.0, stats.median(diffs))
