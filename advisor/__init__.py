"""advisor: a cost-aware compute advisor for PyTorch training jobs.

Public API (lazy: ``import advisor`` does not import torch)::

    import advisor
    prof = advisor.profile("model.py")
    est = advisor.predict(prof, dataset_size=..., epochs=..., batch_size=..., target=advisor.Target.gpu("A100-80GB", 4))
    rec = advisor.recommend("model.py", dataset_size=..., epochs=..., batch_size=..., deadline="6h")
    with advisor.track(rec.id):
        train()
    advisor.History().list(workload="model")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "profile": ("advisor.api", "profile"),
    "predict": ("advisor.api", "predict"),
    "recommend": ("advisor.api", "recommend"),
    "track": ("advisor.history.track", "track"),
    "History": ("advisor.history.repository", "History"),
    "Workload": ("advisor.workload", "Workload"),
    "load_workload": ("advisor.workload", "load_workload"),
    "Target": ("advisor.schemas", "Target"),
    "Profile": ("advisor.schemas", "Profile"),
    "Estimate": ("advisor.schemas", "Estimate"),
    "Recommendation": ("advisor.schemas", "Recommendation"),
    "AdvisorError": ("advisor.errors", "AdvisorError"),
    "WorkloadError": ("advisor.errors", "WorkloadError"),
    "UnbuildableModelError": ("advisor.errors", "UnbuildableModelError"),
    "ProbeError": ("advisor.errors", "ProbeError"),
    "HardwareError": ("advisor.errors", "HardwareError"),
    "PredictionError": ("advisor.errors", "PredictionError"),
    "CatalogError": ("advisor.errors", "CatalogError"),
    "HistoryError": ("advisor.errors", "HistoryError"),
    "DatabaseUnavailableError": ("advisor.errors", "DatabaseUnavailableError"),
    "ConfigError": ("advisor.errors", "ConfigError"),
    "NoFeasibleCandidateError": ("advisor.errors", "NoFeasibleCandidateError"),
    "ProbeNote": ("advisor.errors", "ProbeNote"),
    "OutlierRecorded": ("advisor.errors", "OutlierRecorded"),
    "Client": ("advisor.service.client", "Client"),
    "ServiceError": ("advisor.service.client", "ServiceError"),
}

__all__ = sorted(_LAZY) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from advisor.api import predict, profile, recommend  # noqa: F401
    from advisor.errors import (  # noqa: F401
        AdvisorError,
        CatalogError,
        ConfigError,
        DatabaseUnavailableError,
        HardwareError,
        HistoryError,
        NoFeasibleCandidateError,
        OutlierRecorded,
        PredictionError,
        ProbeError,
        ProbeNote,
        UnbuildableModelError,
        WorkloadError,
    )
    from advisor.history.repository import History  # noqa: F401
    from advisor.history.track import track  # noqa: F401
    from advisor.schemas import Estimate, Profile, Recommendation, Target  # noqa: F401
    from advisor.service.client import Client, ServiceError  # noqa: F401
    from advisor.workload import Workload, load_workload  # noqa: F401


def __getattr__(name: str) -> Any:
    import importlib
    import importlib.util

    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    # The README names calls such as ``advisor.api.record_outcome``; a submodule is only an attribute of the package
    # once something imported it, so load a public one here rather than fail on a bare ``import advisor``.
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
