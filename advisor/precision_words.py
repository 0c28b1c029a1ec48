"""The one message for a precision advisor does not know, with the name meant where it can tell: the nearest of
its own names, or the one a PyTorch spelling stands for ('half' and 'torch.float16' are fp16). ``predict`` and
``recommend`` (``advisor.arguments``) and ``profile``'s probe request (``advisor.probe.request``) said it two ways,
and only one of them offered a name."""

from __future__ import annotations

from typing import Any

from advisor.errors import ConfigError, did_you_mean
from advisor.schemas import PRECISIONS

# PyTorch's and common names of a dtype or mode -> the precision advisor calls it.
PYTORCH_SPELLINGS = {"half": "fp16", "float16": "fp16", "bfloat16": "bf16", "float": "fp32", "float32": "fp32",
                     "single": "fp32", "full": "fp32", "tensorfloat32": "tf32", "amp": "mixed", "autocast": "mixed"}


# Names of float64, which no --precision selects: the model's own dtype decides it (autocast leaves it alone).
FLOAT64_SPELLINGS = {"fp64", "float64", "double", "f64"}


def unknown_precision(value: Any) -> ConfigError:
    """The ConfigError for precision ``value``, which is none of ``PRECISIONS`` (nor "mixed")."""
    name = str(value).strip().lower().removeprefix("torch.")
    if name in FLOAT64_SPELLINGS:
        # "did you mean fp16" was the nearest name to fp64: the wrong answer to someone who trains in float64.
        return ConfigError(f"Precision {value!r} is not a setting: a model trains in float64 when the workload "
                           "builds it so (model.double() or torch.set_default_dtype(torch.float64)), and advisor "
                           "then prices it at the FP64 rates whatever the precision.",
                           hint="Fix: build the model in float64 in the workload file and leave out the precision, "
                                f"or use one of {', '.join(PRECISIONS)}, or mixed (= bf16).")
    meant = PYTORCH_SPELLINGS.get(name)
    suggestion = f" Did you mean {meant!r}?" if meant else did_you_mean(name, PRECISIONS)
    return ConfigError(f"Unknown precision {value!r}.{suggestion}",
                       hint=f"Fix: use one of {', '.join(PRECISIONS)}, or mixed (= bf16).")
