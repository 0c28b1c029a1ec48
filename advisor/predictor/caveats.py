"""Which of an estimate's notes are caveats: what to check before acting on its figure, as opposed to how the
figure was worked out: a PCIe machine priced with the peer-to-peer transfers its cards allow (a cloud VM's often
have none), an all-reduce that outlasts the backward pass it overlaps, more GPUs than one machine holds (their
all-reduce over the network between the machines) and the bandwidth that network is assumed to have, a batch size
extrapolated past the sizes the probe timed, a memory fit with only its margin left, a CPU job that slows down
part-way as its optimizer state turns subnormal (whose fix is one line, ``torch.set_flush_denormal(True)``) or
may, by an amount the probe had no time to measure, CPU steps of an older profile that did not record whether the
machine was busy, or of a probe that could not read the CPU load (``schemas.profile.LOAD_UNREAD``), a start-up
that the probe timed beside other processes (its CPU time stands for the idle machine's;
``schemas.devices.BUSY_STARTUP``), a whole job of over a year (likely a --dataset-size or --epochs typo;
``job_length``), a GPU step set largely by an input pipeline timed beside other processes (``input_bound``), a
bf16 job priced as fp16 on a GPU without bfloat16 (``estimate``: the script must switch to fp16 to get that time).
Where the estimate's own notes are not printed (a row of ``predict --gpus 1,2,4``, the machine ``recommend``
chose, its "Here" devices), these are.

The phrases are this module's, and the notes that carry them (``multigpu``, ``measured``, ``subnormal``,
``busy_here``, ``job_length``, ``input_bound``, ``estimate``) are written with them, so that a reworded note stays
a caveat.
"""

from __future__ import annotations

from collections.abc import Iterable

from advisor.schemas.base import MAY_RUN_OUT_OF_MEMORY
from advisor.schemas.devices import BUSY_STARTUP
from advisor.schemas.profile import LOAD_UNREAD
from advisor.schemas.small_batch import LAST_BATCH_RAISES, STEP_RAISES

PEER_TO_PEER = "are priced with peer-to-peer transfers"
COMMUNICATION_BOUND = "Communication-bound"
OUTSIDE_MEASURED_RANGE = "is outside the measured range"
MORE_THAN_ONE_MACHINE = "are more than one machine holds"
# "The network between the 2 machines is assumed at 12.5 GB/s each": a guess that sets a multi-machine job's time.
ASSUMED_NETWORK = "machines is assumed at"
SLOWS_DOWN_PART_WAY = "this job slows down part-way"
UNRECORDED_LOAD = "whether the machine was busy while its CPU steps were timed was not recorded"
NOT_MEASURED_IN_TIME = "could not be measured in time"
CHECK_JOB_SIZE = "check --dataset-size and --epochs"
RESTS_ON_BUSY_INPUT = "rests on that timing"
# "V100-16GB has no bfloat16 (...): predicted in fp16 mixed precision": a bf16 script does not get that time there.
NO_BFLOAT16 = "has no bfloat16"
_PHRASES = (PEER_TO_PEER, COMMUNICATION_BOUND, OUTSIDE_MEASURED_RANGE, MORE_THAN_ONE_MACHINE, ASSUMED_NETWORK,
            MAY_RUN_OUT_OF_MEMORY, SLOWS_DOWN_PART_WAY, UNRECORDED_LOAD, LOAD_UNREAD, NOT_MEASURED_IN_TIME,
            BUSY_STARTUP, CHECK_JOB_SIZE, RESTS_ON_BUSY_INPUT, NO_BFLOAT16, LAST_BATCH_RAISES,
            STEP_RAISES)


def caveats(notes: Iterable[str]) -> list[str]:
    """The notes among ``notes`` that are caveats, in their order."""
    return [note for note in notes if any(phrase in note for phrase in _PHRASES)]


# The notes that say why a job does not fit a GPU, with the flags that would run it (``memory._fit``, ``sharded``).
_DOES_NOT_FIT = ("Needs ", "Does not fit even", "does not fit: ")


def caveats_and_misfit(notes: Iterable[str], fits_memory: bool | None) -> list[str]:
    """``caveats``, and where the job does not fit (``fits_memory`` False) the note that says why and with what
    flags it would, in their order: where only a verdict is printed ("does not fit (17.0 GiB)", a row of ``predict
    --gpus 1,2,4,8``; "the job does not fit its memory", ``recommend``'s Here line), not why nor which batch fits."""
    notes = list(notes)
    kept = set(caveats(notes))
    return [n for n in notes if n in kept or (fits_memory is False and n.startswith(_DOES_NOT_FIT))]
