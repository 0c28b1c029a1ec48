"""What to predict for each catalog offer, and the estimates of a whole catalog.

An offer becomes a ``Target``: K GPUs of its model, or its CPU at its physical cores on its CPU family. The
ranker receives (offer, estimate) pairs from ``estimate_offers`` and only combines them with prices (SkyPilot's
optimizer: the estimator gives the time, the catalog the price).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from advisor.errors import AdvisorError, HardwareError, PredictionError
from advisor.predictor.cpu_scaling import threads_for_vcpus
from advisor.schemas import Estimate, JobSpec, Offer, Profile, Target
from advisor.schemas.devices import MAX_TARGET_GPUS, MAX_TARGET_THREADS

# (provider, instance_type) -> (CPU family name or None, vCPUs per physical core or None)
CpuLookup = Callable[[str, str], "tuple[str | None, int | None]"]
# An estimate -> the estimate to use (the learned history correction, or the identity).
Correction = Callable[[Estimate], Estimate]
# A bound is shaved by this much: sums of the same terms in another order round differently.
LOW_MARGIN = 1.0 - 1e-9
# (offer, its estimate, or the error that says why its target cannot be predicted: the ranker lists it as skipped)
Priced = list[tuple[Offer, "Estimate | AdvisorError"]]


def default_cpu_lookup() -> CpuLookup:
    """(provider, instance_type) -> (CPU family, vCPUs per core) from ``profiles/cpu_families.csv`` (read once
    per call of this function, answers memoised); (None, None) where the family is not listed."""
    from advisor.hardware.specs import cpu_family_for_instance, load_cpu_families, threads_per_core_for_instance

    families = load_cpu_families()
    return _memoized(lambda p, i: (cpu_family_for_instance(p, i, families),
                                   threads_per_core_for_instance(p, i, families)))


def _memoized(lookup: CpuLookup) -> CpuLookup:
    cache: dict[tuple[str, str], tuple[str | None, int | None]] = {}

    def cached(provider: str, instance_type: str) -> tuple[str | None, int | None]:
        key = (provider, instance_type)
        if key not in cache:
            cache[key] = lookup(provider, instance_type)
        return cache[key]

    return cached


def offer_target(offer: Offer, cpu_lookup: CpuLookup | None = None, gpu_links: list | None = None) -> Target:
    """What to predict for an offer: K GPUs of its model (over PCIe without peer-to-peer where its instance family
    has none, over NVLink where its family's GPUs are bridged though their card's spec says PCIe:
    ``profiles/gpu_links.csv``), or its CPU.

    A CPU instance is predicted at its physical cores: vcpus // threads_per_core (2 on SMT x86 unless
    ``profiles/cpu_families.csv`` says otherwise, e.g. AWS m7a has one vCPU per core), with ``cpu_name`` its
    CPU family where known. ``cpu_lookup`` replaces ``default_cpu_lookup`` (tests pass a fixed one). A CPU
    offer without vcpus gets ``threads=None``: this machine's probed thread count. ``gpu_links``: the rows of
    ``profiles/gpu_links.csv`` (``gpu_links.load_gpu_links``), read once by a caller of many offers.
    """
    if offer.gpu:
        if offer.gpu_count == 1:  # no link to price
            return Target.gpu(offer.gpu)
        from advisor.hardware.gpu_links import nvlink_gbs_for_instance, peer_to_peer_for_instance

        p2p = peer_to_peer_for_instance(offer.provider, offer.instance_type, gpu_links)
        nvlink_gbs = nvlink_gbs_for_instance(offer.provider, offer.instance_type, gpu_links)
        return Target(kind="gpu", gpu=offer.gpu, count=offer.gpu_count, peer_to_peer=p2p, nvlink_gbs=nvlink_gbs)
    family, threads = instance_cpu(offer.provider, offer.instance_type, offer.vcpus, cpu_lookup)
    return Target.cpu(threads=threads, cpu_name=family)


def instance_cpu(provider: str, instance_type: str, vcpus: int | None,
                 cpu_lookup: CpuLookup | None = None) -> tuple[str | None, int | None]:
    """(CPU family, threads to predict at) of a CPU instance of ``vcpus``: its physical cores, vCPUs over its
    family's threads per core (``threads_for_vcpus``); None threads without a vCPU count. The one reading of an
    instance's size, for a target and for the history's runs on it (``advisor.history.training``)."""
    family, per_core = (cpu_lookup or default_cpu_lookup())(provider, instance_type)
    return family, threads_for_vcpus(vcpus, per_core) if vcpus else None


def _order(t: Target) -> tuple:
    return (t.kind, t.threads or 0, t.cpu_name or "", t.gpu_name or "", t.count, str(t.peer_to_peer), t.nvlink_gbs or 0)


def needed_targets(offers: Sequence[Offer], cpu_lookup: CpuLookup | None = None) -> list[Target]:
    """The distinct targets the offers need an ``Estimate`` for, in a fixed order."""
    from advisor.hardware.gpu_links import load_gpu_links

    cpu_lookup, links = _memoized(cpu_lookup) if cpu_lookup else default_cpu_lookup(), load_gpu_links()
    return sorted({offer_target(offer, cpu_lookup, links) for offer in offers}, key=_order)


def offer_keys(offers: Sequence[Offer], cpu_lookup: CpuLookup) -> list[tuple[Offer, tuple]]:
    """Each offer with the key of its estimate: (target, the CPU instance's memory, vCPUs). A CPU offer is judged
    against its own memory (not the probing machine's RAM), so its key holds it. A caller that prices the same
    offers several times passes these to ``estimate_offers`` and ``LazyEstimates`` (``keyed``)."""
    from advisor.hardware.gpu_links import load_gpu_links

    links = load_gpu_links()
    return [(offer, (t := offer_target(offer, cpu_lookup, links), offer.memory_gib if t.kind == "cpu" else None,
                     offer.vcpus or None))
            for offer in offers]


def _estimate_key(profile: Profile, job: JobSpec, key: tuple, precision: str | None, ctx,
                  correction: Correction | None) -> Estimate | AdvisorError:
    """The estimate of one key (``estimate`` itself, or the job-shape model it kept: ``kept_model``), corrected;
    its step recorded as the bound of the job's shape (``LazyEstimates``)."""
    shapes = ctx.offer_shapes.get((precision, job.shape))
    if shapes is None:
        shapes = ctx.offer_shapes.setdefault((precision, job.shape), {})
    shape = shapes.get(key)
    if shape is not None and shape[2] is not None:
        est = shape[2](job)
    else:
        from advisor.predictor.estimate import estimate, kept_model

        target, memory, vcpus = key
        cpu = {"machine_memory_gib": memory} if target.kind == "cpu" else {}
        try:
            # The precision asked for is the GPUs' (mixed precision is a GPU feature): a CPU is predicted at
            # the precision it runs the job at, and says so (``estimate``).
            est = estimate(profile, job, target, precision=precision, context=ctx, vcpus=vcpus, **cpu)
        except AdvisorError as exc:
            return exc
        shapes[key] = (est.startup_seconds, est.step_seconds,
                       kept_model(job, target, ctx, precision=precision, vcpus=vcpus, **cpu))
    return correction(est) if correction is not None else est


def estimate_offers(profile: Profile, job: JobSpec, offers: Sequence[Offer], *, precision: str | None = None,
                    context=None, cpu_lookup: CpuLookup | None = None,
                    correction: Correction | None = None,
                    keyed: Sequence[tuple[Offer, tuple]] | None = None) -> Priced:
    """(offer, estimate) for every offer, in the offers' order. Where the offer's target cannot be predicted (no
    spec, no probe, a precision the GPU lacks) the pair holds the ``AdvisorError`` instead, so the ranker can say
    why it was skipped and how to fix it. Each distinct (target, instance memory, vCPUs) is estimated once, with
    ``estimate`` itself, so a candidate is what ``advisor predict`` says of its target (``--vcpus`` the offer's):
    the vCPUs feed the input pipeline (``advisor.predictor.input_bound``). The compute side of a GPU target is
    computed once per target (the context caches it) however many vCPU counts its offers have."""
    if keyed is None:
        keyed = offer_keys(offers, _memoized(cpu_lookup) if cpu_lookup else default_cpu_lookup())
    found = estimate_keys(profile, job, sorted({key for _, key in keyed}, key=_key_order), precision=precision,
                          context=context, correction=correction)
    return [(offer, found[key]) for offer, key in keyed]


def _key_order(key: tuple) -> tuple:
    return _order(key[0]), key[1] or 0.0, key[2] or 0


def estimate_keys(profile: Profile, job: JobSpec, keys: Sequence[tuple], *, precision: str | None = None,
                  context=None, correction: Correction | None = None) -> dict[tuple, Estimate | AdvisorError]:
    """The estimate (or the error that says why there is none) of each distinct key of ``offer_keys``, made in
    the order given: what ``estimate_offers`` hands to each offer of the key."""
    from advisor.predictor.estimate import EstimateContext

    ctx = context or EstimateContext.load()
    return {key: _estimate_key(profile, job, key, precision, ctx, correction) for key in keys}


class LazyEstimates:
    """The estimates of ``estimate_offers``, each made when it is asked for (``resolve``), with what is known of
    each beforehand: ``low_seconds``, a lower bound on its seconds (``ranking.scoring.Bounded``).

    A job's time is at least its start-up plus every step but each epoch's last at the full batch's step time
    (``advisor.predictor.job``: the last step, evaluation and per-epoch work only add), and a job of the same
    shape (batch size, accumulation, evaluation, compile; any dataset size or epochs) steps at the same speed.
    So an estimate made before for the key and shape (recorded in the context's ``offer_shapes``) bounds this
    one, and a what-if needs only the estimates whose bound could still win. ``correction_floor``: the
    smallest factor ``correction`` can apply (None with a correction: a bound of no job
    seconds, the start-up's alone, as for a shape never priced). ``known``: the estimates of
    keys made already, given exactly. ``keyed``: ``offer_keys(offers, ...)``, made before."""

    def __init__(self, profile: Profile, job: JobSpec, offers: Sequence[Offer], *, precision: str | None = None,
                 context=None, cpu_lookup: CpuLookup | None = None, correction: Correction | None = None,
                 correction_floor: float | None = None, known: Mapping[tuple, Estimate | AdvisorError] | None = None,
                 keyed: Sequence[tuple[Offer, tuple]] | None = None) -> None:
        from advisor.predictor.estimate import EstimateContext

        self._args = (profile, job, precision, context or EstimateContext.load(), correction)
        self._keyed = keyed if keyed is not None else offer_keys(
            offers, _memoized(cpu_lookup) if cpu_lookup else default_cpu_lookup())
        self._found: dict[tuple, Estimate | AdvisorError] = {}
        self._known = known or {}
        self.offers = [offer for offer, _ in self._keyed]
        floor = 1.0 if correction is None else correction_floor
        bounds = self._args[3].offer_shapes.get((precision, job.shape), {})
        known = self._known
        epochs, steps = job.epochs, job.steps_per_epoch - 1  # every step but each epoch's last, at the full batch
        self.low_seconds: list[float | None] = []
        for _, key in self._keyed:
            known_est = known.get(key) if known else None
            if isinstance(known_est, Estimate):
                self.low_seconds.append(known_est.seconds)
                continue
            seen = bounds.get(key)
            if (known and key in known) or seen is None or floor is None:
                # Nothing recorded for the shape (a profile not priced before, the CLI): a job takes no less
                # than nothing, which still bounds the candidate's total by its start-up and its cost by the
                # start-up's, and the search skips offers whose start-up alone costs more than the best found.
                self.low_seconds.append(0.0)
            else:
                startup, step, _ = seen
                self.low_seconds.append(floor * (startup + epochs * (steps * step)) * LOW_MARGIN)

    def resolve(self, i: int) -> Estimate | AdvisorError:
        """The estimate of ``offers[i]`` (made once per key)."""
        key = self._keyed[i][1]
        if key in self._known:
            return self._known[key]
        if key not in self._found:
            profile, job, precision, ctx, correction = self._args
            self._found[key] = _estimate_key(profile, job, key, precision, ctx, correction)
        return self._found[key]

    @property
    def resolved(self) -> int:
        """How many keys were estimated."""
        return len(self._found)


def resolve_target(target: Target | str | None = None, *, gpu: str | None = None, gpus: int = 1,
                   threads: int | None = None, peer_to_peer: bool | None = None) -> Target:
    """A ``Target`` from the API/CLI's ways of naming one; GPU names are resolved to their canonical spec.
    ``peer_to_peer``: the CLI's ``--p2p/--no-p2p`` for ``gpu`` (None: the card's own guess).

    A device of this machine ("cuda:0") is resolved by ``advisor.hardware.devices``, which knows the GPUs here.
    """
    if isinstance(target, Target):
        if target.kind == "gpu":
            return target.model_copy(update={"gpu_name": _gpu_model(target.gpu_name)})  # its link kept
        return target
    if isinstance(target, str):
        if target.lower() == "cpu":
            return Target.cpu(_checked_count(threads, "--threads", MAX_TARGET_THREADS))
        gpu = target
    if gpu:
        return Target.gpu(_gpu_model(gpu), _checked_count(gpus, "--gpus", MAX_TARGET_GPUS), peer_to_peer)
    return Target.cpu(_checked_count(threads, "--threads", MAX_TARGET_THREADS))


# A device of a machine, as PyTorch names one ("cuda:0", "cuda") or as people say it ("gpu"), not a GPU model.
_DEVICE_NAME = re.compile(r"(?:cuda|gpu)(?::(\d+))?", re.IGNORECASE)


def _gpu_model(name: str) -> str:
    """The canonical spec name of GPU model ``name``; HardwareError if unknown. A device name ("cuda:0", "gpu")
    gets a fix of its own: the unknown-GPU fix told the user to add it to the spec file as a GPU model."""
    from advisor.hardware.specs import resolve_gpu

    device = _DEVICE_NAME.fullmatch(name.strip()) if isinstance(name, str) else None
    if device is not None:
        here = f"cuda:{device.group(1) or 0}"
        raise HardwareError(f"{name.strip()!r} is a device, not a GPU model.",
                            hint=f"Fix: for a GPU of this machine, pass --device {here} (`advisor hardware` lists "
                                 "them); for a GPU model, --gpu NAME, e.g. --gpu A100-80GB.")
    return resolve_gpu(name).name


def _checked_count(value: int | None, flag: str, most: int) -> int | None:
    """``value`` where it is from 1 to ``most`` (None: not given, for --threads); else the flag's error, in the
    CLI's words (the Target's own would name ``advisor.Target.cpu``)."""
    if value is None and flag == "--threads":
        return None
    if value is None or value < 1:
        raise PredictionError(f"{flag} must be 1 or more, got {value!r}.", hint=f"Fix: e.g. {flag} 8.")
    if value > most:
        raise PredictionError(f"{flag} must be at most {most:,}, got {value:,}.", hint=f"Fix: e.g. {flag} 8.")
    return value
