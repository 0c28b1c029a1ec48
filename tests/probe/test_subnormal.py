"""probe.subnormal: zero-gradient parameters, their optimizer state's decay and onset, and the timing, on real
training steps of a small model whose first layer is dead (every ReLU unit off for every input)."""

from __future__ import annotations

import math
import time
import types

import pytest
import torch
from torch import nn

from advisor.predictor.subnormal import SubnormalSlowdown
from advisor.probe import subnormal
from advisor.probe.subnormal import ZERO_STEPS, measure_subnormal_drift
from advisor.schemas import DeviceProfile, Measurement


class _Runner:
    """What measure_subnormal_drift needs of a device probe: a model, its optimizer, a batch and a training step."""

    def __init__(self, optimizer_factory, dead: bool = True) -> None:
        torch.manual_seed(0)
        self.torch = torch
        self.model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))
        if dead:
            with torch.no_grad():  # no input reaches above -100: the first layer's 64 units never fire
                self.model[0].bias.fill_(-100.0)
        self.optimizer = optimizer_factory(self.model.parameters())

    def batch(self, batch_size: int):
        return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))

    def train(self, inputs, target) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(self.model(inputs), target).backward()
        self.optimizer.step()


def _dies_after(runner: _Runner, steps: int) -> None:
    """``steps`` live training steps (the moments nonzero everywhere), then a first layer no input activates."""
    for _ in range(steps):
        runner.train(*runner.batch(32))
    with torch.no_grad():
        runner.model[0].bias.fill_(-100.0)


def _ref(threads: int = 1, clock: str = "wall") -> Measurement:
    """The ladder's point the drift is timed beside: batch 32, on ``threads`` and ``clock``."""
    return Measurement(device="cpu", batch_size=32, threads=threads, compute_seconds=0.001, clock=clock)


def _run(runner: _Runner, steps: int = 20):
    for _ in range(steps):
        runner.train(*runner.batch(32))
    return measure_subnormal_drift(runner, _ref(), steps, budget_seconds=0.5)


def _dead_share(runner: _Runner) -> float:
    # The first layer's weights and bias: 16 x 64 + 64 of the 16 x 64 + 64 + 64 x 4 + 4 parameters.
    first = 16 * 64 + 64
    return first / sum(p.numel() for p in runner.model.parameters())


def test_adam_first_moment_of_a_dead_layer_decays_at_beta1_and_its_onset_follows():
    runner = _Runner(lambda ps: torch.optim.AdamW(ps, lr=1e-3))
    drift = _run(runner)
    assert drift is not None
    # The dead layer's weights and bias, and the second layer's weights fed by its zeros: exactly zero gradients.
    dead = _dead_share(runner) + 64 * 4 / sum(p.numel() for p in runner.model.parameters())
    assert drift.zero_grad_share == pytest.approx(dead, abs=1e-6)
    # A dead layer from the first step: no gradient ever, so AdamW's moments were never nonzero there.
    assert drift.stages == []


def test_adam_moments_of_units_that_died_decay_at_beta1_and_beta2():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    m0 = {p: runner.optimizer.state[p]["exp_avg"].clone() for p in runner.model.parameters()}
    drift = measure_subnormal_drift(runner, _ref(), 5, budget_seconds=0.5)
    stages = {s.state: s for s in drift.stages}
    assert set(stages) == {"exp_avg", "exp_avg_sq"}
    assert stages["exp_avg"].decay_per_step == pytest.approx(0.9, rel=1e-4)
    assert stages["exp_avg_sq"].decay_per_step == pytest.approx(0.999, rel=1e-5)
    # The onset: the probe's 5 steps, the masks' steps (x0.9 each where the gradient is zero), then until the
    # median |exp_avg| there falls below float32's normal range at x0.9 a step.
    zero = torch.cat([(p.grad == 0).view(-1) for p in runner.model.parameters()])
    m = torch.cat([m0[p].view(-1) for p in runner.model.parameters()])[zero].double().abs()
    median = float(m[m > 0].median()) * 0.9 ** ZERO_STEPS
    remaining = math.log(torch.finfo(torch.float32).tiny / median) / math.log(0.9)
    assert stages["exp_avg"].onset_steps == pytest.approx(5 + ZERO_STEPS + remaining, abs=1.5)
    assert stages["exp_avg"].onset_steps > 300  # ~1e-4 at the start: hundreds of steps to 1.2e-38
    assert stages["exp_avg_sq"].onset_steps > 10 * stages["exp_avg"].onset_steps  # x0.999: far later
    for s in drift.stages:
        assert s.extra_step_seconds >= 0.0


def test_the_timing_leaves_the_optimizer_state_as_it_found_it():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    measure_subnormal_drift(runner, _ref(), 5, budget_seconds=0.5)
    tiny = torch.finfo(torch.float32).tiny
    for p in runner.model[0].parameters():
        m = runner.optimizer.state[p]["exp_avg"]
        assert int(((m != 0) & (m.abs() < tiny)).sum()) == 0  # no subnormal value set for the timing is left


def test_sgd_momentum_buffer_decays_at_its_momentum():
    runner = _Runner(lambda ps: torch.optim.SGD(ps, lr=1e-2, momentum=0.8), dead=False)
    _dies_after(runner, 5)
    drift = measure_subnormal_drift(runner, _ref(), 5, budget_seconds=0.5)
    assert [s.state for s in drift.stages] == ["momentum_buffer"]
    assert drift.stages[0].decay_per_step == pytest.approx(0.8, rel=1e-4)


def test_plain_sgd_keeps_no_state_and_a_live_model_little_zero_gradient():
    drift = _run(_Runner(lambda ps: torch.optim.SGD(ps, lr=1e-2)))
    assert drift is not None and drift.stages == [] and drift.zero_grad_share > 0.3
    live = _run(_Runner(lambda ps: torch.optim.AdamW(ps, lr=1e-3), dead=False), steps=3)
    assert live is not None and live.stages == [] and live.zero_grad_share < 0.3


def test_an_optimizer_that_needs_a_closure_is_not_looked_at_and_the_record_says_why():
    runner = _Runner(lambda ps: torch.optim.LBFGS(ps), dead=False)

    def train(inputs, target):
        def closure():
            runner.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(runner.model(inputs), target)
            loss.backward()
            return loss
        runner.optimizer.step(closure)

    runner.train = train
    _dies_after(runner, 3)
    drift = measure_subnormal_drift(runner, _ref(), 3, budget_seconds=0.5)
    # not looked at (it returned None: the profile could not say why there was no figure)
    assert (drift.no_stage, drift.stages, drift.zero_grad_share) == ("needs_closure", [], None)
    assert (drift.batch_size, drift.step_seconds, drift.threads, drift.clock) == (32, 0.001, 1, "wall")


def test_an_optimizer_step_that_fails_alone_gives_no_figure_and_no_error_and_says_why():
    class NeedsClosure(torch.optim.SGD):
        def step(self, closure):  # noqa: D102 - an optimizer whose step() must be given a closure
            return super().step(closure)

    runner = _Runner(lambda ps: NeedsClosure(ps, lr=1e-2, momentum=0.9), dead=False)
    opt = runner.optimizer
    runner.train = lambda inputs, target: (opt.zero_grad(), nn.functional.cross_entropy(
        runner.model(inputs), target).backward(), opt.step(None))
    _dies_after(runner, 3)
    drift = measure_subnormal_drift(runner, _ref(), 3, budget_seconds=0.5)
    assert (drift.no_stage, drift.stages, drift.zero_grad_share) == ("needs_closure", [], None)


def test_a_check_that_raises_gives_no_figure_and_no_error_and_says_why(monkeypatch):
    """The check's own error was swallowed as None: the profile said nothing of why no slowdown was looked at."""
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 3)
    threads = torch.get_num_threads()

    def broken(*args):
        raise RuntimeError("a state the check could not read")

    monkeypatch.setattr(subnormal, "_zero_masks", broken)
    drift = measure_subnormal_drift(runner, _ref(), 3, budget_seconds=0.5)
    assert (drift.no_stage, drift.stages, drift.untimed_states, drift.zero_grad_share) == ("check_failed", [], [],
                                                                                          None)
    assert torch.get_num_threads() == threads
    dev = DeviceProfile(device="cpu", kind="cpu", name="x", threads=1, measurements=[_ref()], subnormal=drift)
    assert SubnormalSlowdown.of(dev, lambda b: 0.001) is None  # nothing added to a job
    assert DeviceProfile.model_validate_json(dev.model_dump_json()).subnormal.no_stage == "check_failed"


def test_timed_on_the_reference_points_threads_and_clock_which_it_records_and_restores():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    threads = torch.get_num_threads()
    seen = []
    step = runner.optimizer.step
    runner.optimizer.step = lambda *a: (seen.append(torch.get_num_threads()), step(*a))[1]
    drift = measure_subnormal_drift(runner, _ref(threads=1, clock="thread_cpu"), 5, budget_seconds=0.5)
    assert (drift.batch_size, drift.step_seconds, drift.threads, drift.clock) == (32, 0.001, 1, "thread_cpu")
    assert seen and set(seen) == {1} and torch.get_num_threads() == threads
    assert {s.state for s in drift.stages} == {"exp_avg", "exp_avg_sq"}


def test_a_model_whose_steps_would_overrun_the_budget_is_not_looked_at():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    calls = []
    train = runner.train
    runner.train = lambda *a: (calls.append(1), train(*a))
    slow = Measurement(device="cpu", batch_size=32, threads=1, compute_seconds=0.2)  # 5 steps: 1 s > 0.5 s
    drift = measure_subnormal_drift(runner, slow, 5, budget_seconds=0.5)
    assert not calls  # not looked at, and the record says why (it returned None: no reason anywhere)
    assert (drift.no_stage, drift.stages, drift.untimed_states, drift.zero_grad_share) == (
        "steps_over_budget", [], [], None)
    assert (drift.batch_size, drift.step_seconds, drift.threads, drift.clock) == (32, 0.2, 1, "wall")
    dev = DeviceProfile(device="cpu", kind="cpu", name="x", threads=1, measurements=[slow], subnormal=drift)
    assert SubnormalSlowdown.of(dev, lambda b: 0.2) is None  # nothing added to a job
    assert DeviceProfile.model_validate_json(dev.model_dump_json()).subnormal.no_stage == "steps_over_budget"


def _stalls_when_subnormal(runner: _Runner, seen: list[int]) -> None:
    """Every 10th optimizer step with the first layer's ``exp_avg`` set subnormal waits 10 ms, as for a core that
    another process holds: 1 ms a step on the wall clock, none of the thread's CPU time."""
    tiny = torch.finfo(torch.float32).tiny
    step, count = runner.optimizer.step, [0]

    def stalling(*args):
        seen.append(torch.get_num_threads())
        m = runner.optimizer.state[runner.model[0].weight]["exp_avg"]
        if bool(((m != 0) & (m.abs() < tiny)).any()):
            count[0] += 1
            if count[0] % 10 == 0:
                time.sleep(0.01)
        return step(*args)

    runner.optimizer.step = stalling


def test_on_a_busy_machine_the_extra_is_timed_on_one_threads_cpu_clock_which_a_stall_does_not_inflate():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    seen: list[int] = []
    _stalls_when_subnormal(runner, seen)
    # Timed at raised priority on the wall clock, two threads: the machine was busy when the ladder looked.
    busy = Measurement(device="cpu", batch_size=32, threads=2, compute_seconds=0.001, clock="wall",
                       priority_nice=-20)
    drift = measure_subnormal_drift(runner, busy, 5, budget_seconds=1.0)  # room for the waits, ~0.25 s of it
    assert (drift.threads, drift.clock) == (1, "thread_cpu") and seen and set(seen) == {1}
    assert drift.step_seconds != 0.001  # its own steps' median on that timing, not the two-thread wall step
    stages = {s.state: s for s in drift.stages}
    assert set(stages) == {"exp_avg", "exp_avg_sq"}
    assert stages["exp_avg"].extra_step_seconds < 0.5e-3  # the waits (1 ms a step on average) are not in it


def test_on_an_idle_machine_the_extra_is_timed_on_the_ladders_wall_clock_and_threads():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    drift = measure_subnormal_drift(runner, _ref(threads=1), 5, budget_seconds=0.5)
    assert (drift.threads, drift.clock, drift.step_seconds) == (1, "wall", 0.001)


def _stall_once_after_the_zero_gradient_steps(runner, seconds: float) -> None:
    """The runner's optimizer step sleeps ``seconds`` once: on the step after the ``ZERO_STEPS`` zero-gradient
    steps, the one the drift's timing starts from."""
    step, calls = runner.optimizer.step, [0]

    def stalled_once(*args):
        calls[0] += 1
        if calls[0] == ZERO_STEPS + 1:
            time.sleep(seconds)
        return step(*args)

    runner.optimizer.step = stalled_once


def test_one_stalled_optimizer_step_does_not_size_the_rounds_out_of_the_budget():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    _stall_once_after_the_zero_gradient_steps(runner, 0.3)  # the step that sized the rounds
    drift = measure_subnormal_drift(runner, _ref(), 5, budget_seconds=0.5)
    # Sized from that 0.3 s, not one round of either state fitted what was left of the 0.5 s.
    assert {s.state for s in drift.stages} == {"exp_avg", "exp_avg_sq"}


def test_it_records_why_no_stage_was_found():
    dead = _run(_Runner(lambda ps: torch.optim.AdamW(ps, lr=1e-3)))  # moments never moved: nothing decays
    assert (dead.stages, dead.no_stage, dead.untimed_states) == ([], "no_decaying_state", [])
    assert _run(_Runner(lambda ps: torch.optim.SGD(ps, lr=1e-2))).no_stage == "no_decaying_state"  # no state kept
    live = _Runner(lambda ps: torch.optim.AdamW(ps, lr=1e-3), dead=False)
    live.model[0].bias.data.fill_(100.0)  # every unit on for every input: no gradient exactly zero
    assert _run(live, steps=3).no_stage == "no_zero_gradient"
    found = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(found, 5)
    assert measure_subnormal_drift(found, _ref(), 5, budget_seconds=0.5).no_stage is None


def test_a_budget_that_runs_out_before_the_timing_is_recorded_with_the_states_and_their_onset():
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    _stall_once_after_the_zero_gradient_steps(runner, 0.02)  # the decay's step outlasts the whole budget
    drift = measure_subnormal_drift(runner, _ref(), 5, budget_seconds=0.01)
    assert drift.stages == [] and drift.no_stage == "out_of_time"
    assert drift.untimed_states == ["exp_avg", "exp_avg_sq"]
    assert drift.untimed_onset_steps is not None and drift.untimed_onset_steps > 300  # exp_avg's, the earlier


def test_rounds_timed_on_a_busy_machines_cpu_clock_are_sized_to_the_budgets_wall_time(monkeypatch):
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    step = runner.optimizer.step
    runner.optimizer.step = lambda *a: (time.sleep(0.002), step(*a))[1]  # 2 ms an optimizer step
    # The thread's CPU clock sees a third of the wall time: it waited for a core the rest.
    monkeypatch.setattr(time, "thread_time", lambda: time.perf_counter() / 3)
    busy = Measurement(device="cpu", batch_size=32, threads=1, compute_seconds=0.01, clock="thread_cpu")
    started = time.perf_counter()
    drift = measure_subnormal_drift(runner, busy, 5, budget_seconds=0.3)
    elapsed = time.perf_counter() - started
    # Sized by CPU time alone, the first state's rounds took three times their share and left the second none.
    assert {s.state for s in drift.stages} == {"exp_avg", "exp_avg_sq"} and drift.untimed_states == []
    assert elapsed < 0.45  # the budget's 0.3 s, and a round's overrun


def test_a_budget_with_room_for_one_state_times_the_one_with_the_earliest_onset(monkeypatch):
    runner = _Runner(lambda ps: torch.optim.Adam(ps, lr=1e-3), dead=False)
    _dies_after(runner, 5)
    # A clock that only optimizer steps move, 10 ms each (the real ones take microseconds): rounds of one step a
    # mode, 0.1 s a state.
    clock = types.SimpleNamespace(now=0.0)
    clock.perf_counter = clock.thread_time = lambda: clock.now
    monkeypatch.setattr(subnormal, "time", clock)
    step = runner.optimizer.step
    runner.optimizer.step = lambda *a: (setattr(clock, "now", clock.now + 0.01), step(*a))[1]
    ref = Measurement(device="cpu", batch_size=32, threads=1, compute_seconds=0.02)
    # 3 zero-gradient steps and the decay's, then 0.15 s left: half of it fits no round, all of it one state's.
    drift = measure_subnormal_drift(runner, ref, 5, budget_seconds=0.19)
    # exp_avg turns subnormal after hundreds of steps, exp_avg_sq after tens of thousands: a job reaches the first.
    assert [s.state for s in drift.stages] == ["exp_avg"] and drift.untimed_states == ["exp_avg_sq"]
    assert drift.untimed_onset_steps > drift.stages[0].onset_steps and drift.no_stage is None
