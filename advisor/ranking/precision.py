"""Where a GPU candidate was priced at another precision than the one asked for: bf16 (or "mixed") on a GPU
without bfloat16 (a V100, a T4) is priced as fp16 autocast with a GradScaler, as ``advisor.predictor.estimate``
prices it there. A script that autocasts to bfloat16 does not get that time on such a GPU: it must switch to
fp16 with a GradScaler. Every text that names such a candidate (its reason, the verdict's line, a what-if, the
assumptions) says so, as ``predict`` of that GPU does.
"""

from __future__ import annotations

from collections.abc import Iterable

from advisor.schemas import Candidate

ASKED_16 = ("bf16", "mixed")  # the precisions a GPU without bfloat16 runs as fp16
FP16_HEAD = "fp16, not bf16:"  # how ``fp16_clause`` starts, among a reason's "; "-separated parts


def fp16_instead(c: Candidate, asked: str | None) -> bool:
    """Whether ``c`` is a GPU priced in fp16 for a job asked at bf16 (or mixed)."""
    return bool(c.gpu) and asked in ASKED_16 and c.precision == "fp16"


def fp16_clause(c: Candidate, asked: str | None) -> str | None:
    """"fp16, not bf16: no bfloat16 on the V100-16GB, so a bf16 script must switch to fp16 + GradScaler for this
    time" where ``fp16_instead``; None otherwise."""
    if not fp16_instead(c, asked):
        return None
    return f"{FP16_HEAD} no bfloat16 on the {c.gpu}, so a bf16 script must switch to fp16 + GradScaler for this time"


def fp16_short(c: Candidate, asked: str | None) -> str:
    """", in fp16 with a GradScaler (no bfloat16 on the V100-16GB)" where ``fp16_instead``, else ""."""
    return f", in fp16 with a GradScaler (no bfloat16 on the {c.gpu})" if fp16_instead(c, asked) else ""


def gpus_in_fp16(cands: Iterable[Candidate], asked: str | None) -> list[str]:
    """The GPU models among ``cands`` priced in fp16 for a job asked at bf16, in their first order."""
    return list(dict.fromkeys(c.gpu for c in cands if c.gpu and fp16_instead(c, asked)))


def what_if_precision(label: str, asked: str | None) -> str | None:
    """The precision a what-if labelled ``label`` ("--precision bf16", "--batch-size 64") prices: its own flag's,
    else the job's (``asked``)."""
    words = label.split()
    if "--precision" in words[:-1]:
        return words[words.index("--precision") + 1]
    return asked


def chosen_cell(c: Candidate) -> str:
    """The chosen row's "vs the choice" cell: "chosen", with its reason's ``fp16_clause`` where it has one (the
    table says what the row's time is, not only the verdict)."""
    return "; ".join(["chosen", *(p for p in c.reason.split("; ") if p.startswith(FP16_HEAD))])
