"""A catalog instance as ``predict``'s target (``advisor predict --instance TYPE``, ``advisor.predict(...,
instance_type=TYPE)``): the offer found by its name, and what ``recommend`` prices that offer's row on (its target,
with its instance family's GPU links, ``profiles/gpu_links.csv``; its vCPUs; a CPU instance's memory and physical
cores; its start-up), so that predict's figures are that row's. The target is made by the ranker's own
``predictor.targets.offer_keys``, not rebuilt here: one reading of an offer for both commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.errors import ConfigError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from advisor.schemas import Offer, Target
    from advisor.settings import Settings

# The ways of naming a target that an instance replaces (predict's flags; the API's parameters read the same
# through ``option_words``).
TARGET_FLAGS = ("--gpu", "--gpus", "--vcpus", "--p2p", "--no-p2p", "--device", "--threads")


@dataclass(frozen=True)
class InstanceTarget:
    """One catalog offer as a target: ``estimate``'s target, ``vcpus`` and (a CPU instance) ``memory_gib``,
    exactly the key ``recommend`` estimates its row with."""

    offer: Offer
    target: Target
    vcpus: int | None
    memory_gib: float | None  # a CPU instance's own memory, which its job is judged against; None for a GPU's

    @property
    def estimate_kwargs(self) -> dict:
        """``estimate``'s host arguments: the vCPUs, and a CPU instance's memory (a GPU's is its GPUs')."""
        memory = {"machine_memory_gib": self.memory_gib} if self.target.kind == "cpu" else {}
        return {"vcpus": self.vcpus, **memory}

    def startup_seconds(self, settings: Settings) -> float:
        """The paid start-up of a fresh instance of it, as recommend's row adds it (a GPU's or a CPU's)."""
        return settings.startup_seconds_gpu if self.offer.gpu_count else settings.startup_seconds_cpu

    def json_fields(self) -> dict:
        """What ``predict --json`` adds to its ``target``: the instance it was priced as."""
        return {"instance_type": self.offer.instance_type, "provider": self.offer.provider}

    def note(self) -> str:
        """The estimate's note naming the instance and what of it was priced."""
        o, t = self.offer, self.target
        if t.kind == "cpu":
            cores = f"{o.vcpus} vCPUs: {t.threads} physical cores" if t.threads else "its CPU"
            host = f"{cores}{f' of {t.cpu_name}' if t.cpu_name else ''}" + (f", {o.memory_gib:g} GiB" if o.memory_gib
                                                                            else "")
        else:
            link = (f" over NVLink {t.nvlink_gbs:g} GB/s" if t.nvlink_gbs else " without peer-to-peer"
                    if t.peer_to_peer is False else "")
            host = f"{t.count} x {t.gpu_name}{link}" + (f", {o.vcpus} vCPUs" if o.vcpus else "")
        return f"priced as {o.provider} {o.instance_type} ({host}), as `advisor recommend` prices its row."


def check_no_target_flags(given: dict[str, object]) -> None:
    """ConfigError naming the target flags given beside ``--instance`` (``given``: flag -> value, None: not
    given): the instance is the whole target, so another way of naming one clashes with it."""
    clash = [flag for flag, value in given.items() if value is not None]
    if clash:
        raise ConfigError(f"--instance is the whole target (its GPUs, their links, its vCPUs): it is not taken with "
                          f"{', '.join(clash)}.",
                          hint="Fix: drop " + ", ".join(clash) + ", or drop --instance and name the target by them.")


def find_offer(instance_type: str, provider: str | None, offers: list[Offer]) -> Offer:
    """The offer of ``instance_type`` (at ``provider``) in the catalog's ``offers``: its first region's (the
    target is the same in every region). An exact name first, else one that differs only in case. ConfigError for
    an unknown name (with near misses), or a name at several providers without ``provider``."""
    if not isinstance(instance_type, str) or not instance_type.strip():
        raise ConfigError(f"--instance must name an instance type, got {instance_type!r:.80}.",
                          hint="Fix: e.g. --instance g5.24xlarge (`advisor pricing list` lists them).")
    name, provider = instance_type.strip(), provider.strip().lower() if isinstance(provider, str) else provider
    at = [o for o in offers if provider is None or o.provider == provider]
    if provider is not None and not at:
        from advisor.pricing.catalog import provider_suggestion  # recommend's reading: "amazon" means 'aws'

        providers = sorted({o.provider for o in offers})
        raise ConfigError(f"Unknown provider {provider!r}.{provider_suggestion(provider, providers)}",
                          hint="Fix: one of " + ", ".join(providers) + ".")
    found = [o for o in at if o.instance_type == name] or [o for o in at if o.instance_type.lower() == name.lower()]
    if not found:
        elsewhere = sorted({o.provider for o in offers if o.instance_type.lower() == name.lower()})
        where = f" at {provider} ({', '.join(elsewhere)} prices it)" if elsewhere else f" at {provider}" \
            if provider else ""
        # Priced at another provider: that provider is the fix, not a new row for a name the catalog has.
        hint = (f"Fix: --provider {elsewhere[0]}, which prices {name} (or leave --provider out)." if elsewhere
                else "Fix: name one of the catalog's instances (`advisor pricing list`), or add its row with a "
                     "pricing file (ADVISOR_PRICING).")
        raise ConfigError(f"Unknown instance type {name!r}{where}: the price catalog has no such instance"
                          f"{' there' if elsewhere else ''}."
                          f"{did_you_mean(name, sorted({o.instance_type for o in at}))}", hint=hint)
    providers = sorted({o.provider for o in found})
    if len(providers) > 1:
        raise ConfigError(f"Instance type {name!r} is priced at several providers: {', '.join(providers)}.",
                          hint=f"Fix: add --provider, e.g. --provider {providers[0]}.")
    return found[0]


def instance_target(instance_type: str, provider: str | None = None,
                    pricing_files: tuple[Path, ...] = ()) -> InstanceTarget:
    """The catalog's ``instance_type`` (the built-in rates and ``pricing_files``, as recommend reads them) as the
    target, vCPUs and memory its recommend row is estimated with."""
    from advisor import pricing
    from advisor.predictor.targets import default_cpu_lookup, offer_keys

    offer = find_offer(instance_type, provider, pricing.load_catalog(list(pricing_files)).offers)
    [(_, (target, memory, vcpus))] = offer_keys([offer], default_cpu_lookup())
    return InstanceTarget(offer=offer, target=target, vcpus=vcpus, memory_gib=memory)


def placed_target(instance_type: str | None, provider: str | None, settings: Settings, *, target: object,
                  vcpus: object, device: object) -> InstanceTarget | None:
    """``advisor.predict``'s instance (None without ``instance_type``), checked against the other ways of naming
    the target that were given (``target`` named as the API's parameter: the CLI checks its own flags first)."""
    if instance_type is None:
        if provider is not None:
            raise ConfigError("--provider says whose --instance is meant: it needs --instance TYPE.",
                              hint="Fix: add --instance TYPE, or drop --provider.")
        return None
    check_no_target_flags({"target=": target, "--vcpus": vcpus, "--device": device})
    return instance_target(instance_type, provider, settings.pricing_files)
