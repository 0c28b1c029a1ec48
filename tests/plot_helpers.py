"""A small ranked recommendation for the ``--plot`` tests: two CPU offers whose names the test chooses."""

from __future__ import annotations

from advisor.predictor.targets import offer_target
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Offer, Recommendation, WorkloadSummary


def two_offer_recommendation(name: str, instance: str) -> Recommendation:
    """A recommendation of workload ``name`` over two AWS CPU offers named ``instance`` + "1" and + "2"."""
    offers = [Offer(provider="aws", instance_type=f"{instance}{n}", region="r", vcpus=4 * n, memory_gib=8.0 * n,
                    price_usd_per_hour=0.2 * n) for n in (1, 2)]
    priced = []
    for o in offers:
        t = offer_target(o, lambda p, i: (None, 2))
        s = 4000.0 / t.threads
        priced.append((o, Estimate(target=t, dataset_size=1000, epochs=1, batch_size=64, seconds=s, low=0.8 * s,
                                   high=1.25 * s, step_seconds=1.0, steps_per_epoch=16, total_steps=16,
                                   fits_memory=True, per_device_batch_size=64, method="scaled",
                                   precision="fp32")))
    return rank(priced, Constraints(), workload=WorkloadSummary(name=name), dataset_size=1000, epochs=1,
                batch_size=64, startup_seconds_cpu=120, startup_seconds_gpu=300)
