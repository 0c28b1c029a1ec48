"""The project's held-out sources, which no calibration fit may read, and the check that refuses them.

NeuSight's labels, NVIDIA DeepLearningExamples' READMEs, rasbt/LLMs-from-scratch and karpathy/nanoGPT figures are
kept as an independent check of the predictor (``bench/heldout_gpu.py`` predicts such rows with the shipped
constants). Every loader and fit of :mod:`advisor.predictor.calibration_fit` and ``bench/gpu_rows.py`` passes its
rows through :func:`refuse_held_out`, so a held-out row added to a fitted table stops the fit with a message
instead of tuning the constants on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from advisor.errors import PredictionError

# (the source's name, what its source or URL text matches)
HELD_OUT_SOURCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("NeuSight", re.compile(r"neusight", re.I)),
    ("NVIDIA DeepLearningExamples", re.compile(r"deeplearningexamples", re.I)),
    ("rasbt/LLMs-from-scratch", re.compile(r"llms[-_ ]from[-_ ]scratch", re.I)),
    ("karpathy/nanoGPT", re.compile(r"karpathy/nanogpt|^nanogpt\b", re.I)),
    ("advisor's held-out benchmark rows", re.compile(r"^heldout", re.I)),  # its Row.source: "heldout-dle"
)


def held_out_source(*texts: str | None) -> str | None:
    """The held-out source that one of ``texts`` (a row's source, its URL) names, or None."""
    for name, pattern in HELD_OUT_SOURCES:
        if any(text and pattern.search(text) for text in texts):
            return name
    return None


def row_texts(row: object) -> tuple[str | None, ...]:
    """A row's source and URL: ``source``/``url`` attributes, or an ``extra`` dict's (a published CSV row)."""
    extra = getattr(row, "extra", None) or {}
    return (getattr(row, "source", None), getattr(row, "url", None), extra.get("source"), extra.get("url"))


def refuse_held_out(rows: Iterable[object], where: str) -> None:
    """Raise ``PredictionError`` naming the first row of ``rows`` whose source or URL is a held-out source.

    ``where``: what was reading the rows ("profiles/published_throughput.csv", "the fit"), for the message.
    """
    for row in rows:
        name = held_out_source(*row_texts(row))
        if name:
            label = getattr(row, "label", None) or " ".join(
                str(getattr(row, k, "")) for k in ("model", "precision", "gpu_count") if getattr(row, k, ""))
            raise PredictionError(
                f"{where}: the row {label!r} (source {getattr(row, 'source', '')!r}) comes from {name}, a held-out "
                "source: it is never calibrated or tuned on.",
                hint="Fix: remove the row from the fitted table; held-out rows are only predicted, by the "
                     "held-out benchmark of a source checkout, never fitted.")
