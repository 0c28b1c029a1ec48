"""Client mode: ``advisor recommend ... --server URL``, ``advisor predict ... --server URL`` and ``advisor history ...
--server URL``.

The commands stay as they are; where they would call ``advisor.api`` or open the local history, they call these
instead, which go through ``advisor.Client`` (token from ``ADVISOR_API_TOKEN``). A workload is still probed
here; only its profile is sent. Nothing is written to the local history database: the server's is the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

ServerOption = Annotated[str | None, typer.Option(
    "--server", help="Ask an `advisor serve` server at this URL (token: ADVISOR_API_TOKEN); nothing is saved here.")]

# Flags that name something on this machine the server cannot use.
_LOCAL_ONLY = {"pricing_files": "--pricing"}
_NOT_SENT = {"settings", "before_save", "progress", "probe_seconds", "save"}


def client(server: str):
    """An ``advisor.Client`` for ``--server`` (a context manager with the history's list / show / compare)."""
    from advisor.service.client import Client

    return Client(server)


def recommender(server: str) -> Callable[..., Any]:
    """A stand-in for ``advisor.api.recommend`` that asks the server (same arguments, same result).

    ``before_save`` (the CLI's plot) runs after the server answered: the server stores first.
    """

    def recommend(source: Any, **kwargs: Any):
        from advisor.errors import ConfigError

        for key, flag in _LOCAL_ONLY.items():
            if kwargs.pop(key, None):
                raise ConfigError(f"{flag} cannot be used with --server: the server prices with its own catalog.",
                                  hint=f"Fix: drop {flag}, or ask the server's operator to add the rates.")
        unsupported = sorted(k for k, v in kwargs.items() if v is not None and k not in _NOT_SENT
                             and k not in _REQUEST_KEYS)
        if unsupported:
            raise ConfigError(f"--{unsupported[0].replace('_', '-')} cannot be used with --server.",
                              hint="Fix: drop it, or run the command without --server.")
        before_save = kwargs.pop("before_save", None)
        kwargs.pop("settings", None)
        with client(server) as api_client:
            rec = api_client.recommend(source, **{k: v for k, v in kwargs.items() if v is not None})
        if before_save is not None:
            before_save(rec)
        return rec

    return recommend


_REQUEST_KEYS = {"dataset_size", "epochs", "batch_size", "deadline", "budget", "objective", "providers", "regions",
                 "spot", "top", "precision", "startup_seconds_cpu", "startup_seconds_gpu",
                 # how the job steps (advisor.service.wire.JOB_STEP_KEYS; not imported: the CLI's start-up)
                 "compile", "grad_accum_steps", "eval_every", "eval_steps",
                 "name"}  # the workload's: the profile sent carries it


def predictor(server: str) -> Callable[..., Any]:
    """A stand-in for ``advisor.api.predict`` that asks the server (same arguments, and ``startup_seconds_gpu``):
    the workload is probed here, the prediction made, and saved unless ``save`` is False, there. It returns the
    ``Estimate`` and the instance start-up the server put in its answer (a GPU model's; else None), which the
    command shows as the server sent it rather than adding its own."""

    def predict(source: Any, **kwargs: Any):
        from advisor.schemas import Estimate

        with client(server) as api_client:
            data = api_client.predict_json(source, **{k: v for k, v in kwargs.items() if v is not None})
        return Estimate.model_validate(data), data.get("instance_startup_seconds")

    return predict


def instance_predictor(server: str, placed: Any) -> Callable[..., Any]:
    """``predictor`` of a catalog instance (``advisor.instance_target.InstanceTarget``, of this machine's catalog):
    the server is sent its target as recommend's row reads it (the GPUs, their links) and its vCPUs, which a
    request carries, and the answer gets the instance's note, as ``predict --instance`` here adds it. (A CPU
    instance's CPU family and memory have no place in a request: the caller refuses those.)"""

    def predict(source: Any, **kwargs: Any):
        est, startup = predictor(server)(source, target=placed.target, vcpus=placed.vcpus, **kwargs)
        return est.model_copy(update={"notes": [*est.notes, placed.note()]}), startup

    return predict


def outcome_recorder(server: str) -> Callable[..., Any]:
    """A stand-in for ``advisor.api.record_outcome`` that records on the server."""

    def record_outcome(recommendation_id: int, actual_seconds: Any, *, instance_type: str | None = None,
                       force: bool = False, failed: bool = False, **_ignored: Any):
        # The client reads "1h30" as the local command does, and refuses a bad value with the same message.
        with client(server) as api_client:
            return api_client.record_outcome(recommendation_id, actual_seconds, instance_type=instance_type,
                                             force=force, failed=failed)

    return record_outcome
