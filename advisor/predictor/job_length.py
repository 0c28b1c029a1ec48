"""What an estimate says when the whole job is far longer than the jobs its interval was checked on.

The 80% interval is the per-step error carried to the whole job (``advisor.predictor.job``): it does not grow with
the job's length. The jobs it was checked on are short: the CPU path's on whole jobs of ~15-60 s
(bench/README.md, "CPU accuracy"), the GPU path's on published per-step throughputs and advisor's own jobs of
minutes ("GPU accuracy"). The one multi-day job judged, nanoGPT's GPT-2 124M on 8 x A100-40GB ("about 4 days"
published; ``bench/heldout_gpu.py``), fell outside its interval every time it was judged (2.8-3.05 days predicted)
until the multi-GPU interval was made one-sided (``gpu_job.data_parallel_rel_sigmas``): 3.05 days, 2d15h-4d05h.
A long job also meets what no probe or benchmark of minutes sees: the machine's drift, thermal throttling,
checkpoints, failures and restarts. No measurement says how much wider that makes the interval, so nothing is
widened: the estimate says so in a note (``long_job_notes``), and a total past a year says it is likely a typo.
"""

from __future__ import annotations

from advisor.predictor.caveats import CHECK_JOB_SIZE
from advisor.units import format_duration

__all__ = ["ABSURD_JOB_SECONDS", "LONG_JOB_SECONDS", "long_job_notes"]

# A day: over 1,000x the CPU jobs the interval was checked on (~60 s; 1,000x is ~17 h) and past every GPU job
# judged but nanoGPT's, which its interval missed. Jobs up to a day keep the interval without a word.
LONG_JOB_SECONDS = 86_400.0
SECONDS_PER_YEAR = 365.25 * 86_400.0
# Past a year a job is almost always a --dataset-size or --epochs typo (samples for batches, an extra zero).
ABSURD_JOB_SECONDS = SECONDS_PER_YEAR


def long_job_notes(seconds: float) -> list[str]:
    """The notes for a whole job of ``seconds``: none up to ``LONG_JOB_SECONDS``; past it, that the interval does
    not allow for what a long job meets; past ``ABSURD_JOB_SECONDS``, first, that the total is likely a typo."""
    if not seconds > LONG_JOB_SECONDS:
        return []
    notes = []
    if seconds > ABSURD_JOB_SECONDS:
        years = seconds / SECONDS_PER_YEAR
        count = f"{years:.1f}" if years < 10 else f"{years:,.0f}" if years < 1e6 else f"{years:.2g}"
        notes.append(f"this would take {count} years: {CHECK_JOB_SIZE} (samples per epoch and passes over "
                     f"them).")
    notes.append(f"this job runs {format_duration(seconds)}, far longer than the jobs its 80% interval was checked "
                 f"on (minutes; the one multi-day job judged, nanoGPT's ~4 days, was near its interval's top): the "
                 f"interval is the per-step error alone and does not include a long job's drift, thermal "
                 f"throttling, checkpointing, failures and restarts (README, \"How the time is predicted\").")
    return notes
