"""torch.compile's one-off cost in a job on a GPU: compiling before the first step, and once more for a smaller
last batch.

TorchInductor compiles the model's forward and backward graphs at the first step; the time grows with the
graph's operators. A batch of another size (the epoch's last, smaller one) misses the compiled graph's shape
guards and is compiled again, with dynamic shapes, once: later epochs' last batches reuse that graph.

Measured on lent H200 hosts (16 cores, torch 2.11, 2026-11-30; bench/README.md "GPU against real runs"), as
the compiled job's build and first step over the eager job's, and its smaller last batch over a steady step:

| workload | forward + backward operator calls (the analysis') | compile s | recompile s |
|---|---:|---:|---:|
| ``examples/tabular_mlp.py`` (fp32, batch 512) | 20 | 10.3 | 2.8 |
| ``examples/nanogpt_gpt2.py`` (GPT-2 124M, bf16, batch 12) | 671 | 27.2, 26.4 | 37.3 |

A fixed part (importing and starting Inductor, which a small model shows) and a part per operator call, through
those two workloads; nothing else has checked it yet. Compiling runs on the host's CPU (Inductor's workers use
its cores), which this does not scale.

A job that evaluates compiles once more, at its first evaluation: ``model.eval()`` and ``torch.no_grad()`` miss
the training graph's guards (grad mode, the module's ``training`` flag), so Dynamo traces a forward-only
inference graph (nanoGPT users see it at the first ``estimate_loss``). Not measured: priced as the recompile's
fixed part (Inductor already started) and the first compile's rate per operator call over the forward's calls
alone (no backward graph): ``EVAL_COMPILE_*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from advisor.schemas import Analysis, JobSpec
from advisor.units import format_duration

_TABULAR_CALLS, _TABULAR_SECONDS, _TABULAR_AGAIN = 20, 10.3, 2.83
_GPT2_CALLS, _GPT2_SECONDS, _GPT2_AGAIN = 671, (27.2 + 26.4) / 2, 37.3
COMPILE_SECONDS_PER_OP = (_GPT2_SECONDS - _TABULAR_SECONDS) / (_GPT2_CALLS - _TABULAR_CALLS)
COMPILE_FIXED_SECONDS = _TABULAR_SECONDS - _TABULAR_CALLS * COMPILE_SECONDS_PER_OP
RECOMPILE_SECONDS_PER_OP = (_GPT2_AGAIN - _TABULAR_AGAIN) / (_GPT2_CALLS - _TABULAR_CALLS)
RECOMPILE_FIXED_SECONDS = _TABULAR_AGAIN - _TABULAR_CALLS * RECOMPILE_SECONDS_PER_OP
EVAL_COMPILE_FIXED_SECONDS = RECOMPILE_FIXED_SECONDS  # per forward operator call: COMPILE_SECONDS_PER_OP


def _calls(analysis: Analysis, phases: tuple[str, ...] = ("forward", "backward")) -> int:
    """The operator calls of ``phases`` (the optimizer step is not in the compiled model)."""
    return sum(op.count for op in analysis.ops if op.phase in phases)


@dataclass(frozen=True)
class CompileCosts:
    """A compiled job's one-off costs, which its shape fixes (``compile_costs``), and its note, which the job's
    dataset size does too: whether the epoch's last batch is smaller, and so recompiled."""

    first_seconds: float = 0.0  # before the first step
    recompile_seconds: float = 0.0  # once, for a smaller last batch
    eval_seconds: float = 0.0  # the evaluation graph's, the caller's to add to a job that evaluates
    analysed: bool = True  # False: no analysis sized them (all 0)

    def note(self, job: JobSpec) -> str:
        """The note on the first compile and, where ``job`` has a smaller last batch, its recompile."""
        return self._note(job.last_batch_size != job.batch_size)

    def in_notes(self, notes: Sequence[str], job: JobSpec) -> list[str]:
        """``notes``, made for another job of this shape (a kept model's), with the note ``job``'s: a model
        asked about another dataset size said the first job's recompile, or its absence."""
        made = {self._note(True), self._note(False)}
        return [self.note(job) if n in made else n for n in notes]

    def _note(self, ragged: bool) -> str:
        if not self.analysed:
            return ("COMPILE: the compile time is not in the start-up (no analysis of the model to size it); expect "
                    "tens of seconds for a transformer.")
        recompile = (f", and {format_duration(self.recompile_seconds)} more to recompile for the smaller last batch "
                     "(its own shape), are in the start-up" if ragged else
                     " is in the start-up (the batches divide the dataset evenly: no recompile for a smaller last "
                     "batch)")
        return (f"COMPILE: {format_duration(self.first_seconds)} of torch.compile before the first step{recompile}; "
                "calibrated on two models on a 16-core host.")


def compile_costs(analysis: Analysis | None) -> CompileCosts:
    """The first compile, the recompile for a smaller last batch and the evaluation graph's compile of a compiled
    job of ``analysis``'s model; the note (``CompileCosts.note``) names the recompile only where a job has a
    smaller last batch. The evaluation's compile is the caller's to add to a job that evaluates, and its note
    (``evaluation.Evaluation``) names it: whether a job evaluates depends on its size, which a job shape's model
    does not fix."""
    if analysis is None:
        return CompileCosts(analysed=False)
    calls = _calls(analysis)
    return CompileCosts(COMPILE_FIXED_SECONDS + calls * COMPILE_SECONDS_PER_OP,
                        RECOMPILE_FIXED_SECONDS + calls * RECOMPILE_SECONDS_PER_OP,
                        EVAL_COMPILE_FIXED_SECONDS + _calls(analysis, ("forward",)) * COMPILE_SECONDS_PER_OP)
