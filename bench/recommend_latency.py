"""Latency of a recommendation over the whole catalog, probes excluded.

Two paths, each timed N times (median and 90th percentile; the first, cold run is reported apart):

* ``ranking``: ``load_catalog`` + ``needed_targets`` + ``rank`` (with the two what-if alternatives the API
  adds, bf16 and twice the batch size) over every offer of the built-in catalog, with one synthetic ``Estimate``
  per distinct target (ResNet-50-like figures scaled by the GPU's FP32 datasheet peak; the predictor's own time
  is what the API path measures).
* ``api``: ``advisor.api.recommend(profile.json, save=False)``: the whole path from a saved profile to a ranked
  recommendation (predicting every target, pricing, ranking), as ``advisor recommend --profile FILE --no-save``
  does it minus the CLI. Skipped, with the reason, when no profile is given or the path fails.

Usage::

    .venv/bin/python bench/recommend_latency.py [--profile profile.json] [--runs 20]
    .venv/bin/python bench/recommend_latency.py --make-profile examples/tabular_mlp.py   # probes once, then times

The target is well under a second for the whole path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESNET_TRAIN_FLOPS_PER_SAMPLE = 3 * 4.1e9  # forward + backward of ResNet-50 at 224x224
IMAGENET = 1_281_167


def synthetic_estimates(targets, *, epochs: int = 1, batch_size: int = 256, speedup: float = 1.0):
    """One plausible Estimate per target: GPUs at 40% of their FP32 peak (90% scaling per extra GPU),
    CPUs at 30% of 50 GFLOP/s per core; 20 GiB peak memory per GPU."""
    from advisor.hardware.specs import load_gpu_specs
    from advisor.schemas import Estimate

    specs = load_gpu_specs()
    out = {}
    for t in targets:
        if t.kind == "gpu":
            spec = specs.get(t.gpu_name)
            peak = (spec.fp32_tflops if spec and spec.fp32_tflops else 20.0) * 1e12
            rate = 0.4 * peak * t.count * 0.9 ** (t.count - 1)
            capacity = spec.memory_gib if spec and spec.memory_gib else 24.0
            peak_mem, fits = 20.0, 20.0 <= capacity
        else:
            rate = 0.3 * 50e9 * (t.threads or 8)
            capacity, peak_mem, fits = None, 6.0, True
        seconds = epochs * IMAGENET * RESNET_TRAIN_FLOPS_PER_SAMPLE / rate / speedup
        steps = -(-IMAGENET // batch_size)
        out[t] = Estimate(
            target=t, dataset_size=IMAGENET, epochs=epochs, batch_size=batch_size, seconds=seconds,
            low=0.8 * seconds, high=1.25 * seconds, step_seconds=seconds / (steps * epochs),
            steps_per_epoch=steps, total_steps=steps * epochs, fits_memory=fits, peak_memory_gib=peak_mem,
            memory_capacity_gib=capacity, per_device_batch_size=max(1, batch_size // max(1, t.count)),
            method="scaled", precision="fp32")
    return out


def timed(fn: Callable[[], object], runs: int) -> dict:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    cold, warm = samples[0], samples[1:] or samples
    warm_sorted = sorted(warm)
    return {"cold": cold, "median": statistics.median(warm),
            "p90": warm_sorted[min(len(warm_sorted) - 1, int(0.9 * len(warm_sorted)))], "runs": runs}


def ranking_path(runs: int) -> tuple[dict[str, dict], dict]:
    from advisor.predictor.targets import default_cpu_lookup, needed_targets, offer_target
    from advisor.pricing import load_catalog
    from advisor.ranking import rank
    from advisor.schemas import Constraints, WorkloadSummary

    catalog = load_catalog()
    targets = needed_targets(catalog.offers)
    lookup = default_cpu_lookup()

    def priced(estimates):
        return [(o, estimates.get(offer_target(o, lookup))) for o in catalog.offers]

    estimates = priced(synthetic_estimates(targets))
    alternatives = {"--precision bf16": priced(synthetic_estimates(targets, speedup=2.0)),
                    "--batch-size 512": priced(synthetic_estimates(targets, batch_size=512, speedup=1.1))}

    def do_rank():
        return rank(estimates, Constraints(deadline_seconds=6 * 3600),
                    workload=WorkloadSummary(name="resnet50 (synthetic)"), dataset_size=IMAGENET, epochs=1,
                    batch_size=256, startup_seconds_cpu=120, startup_seconds_gpu=300, what_ifs=alternatives,
                    pricing_snapshot=catalog.snapshot())

    def whole():
        cat = load_catalog()
        needed_targets(cat.offers)
        do_rank()

    stats = {
        "load_catalog (built-in, 273 offers)": timed(load_catalog, runs),
        f"needed_targets ({len(targets)} targets)": timed(lambda: needed_targets(catalog.offers), runs),
        "rank (+2 what-if alternatives)": timed(do_rank, runs),
        "load_catalog + needed_targets + rank": timed(whole, runs),
    }
    rec = do_rank()
    info = {"offers": len(catalog.offers), "targets": len(targets), "candidates": len(rec.all_candidates),
            "excluded": len(rec.excluded), "chosen": f"{rec.chosen.provider} {rec.chosen.instance_type}"}
    return stats, info


def api_path(profile: Path, runs: int) -> tuple[dict | None, str]:
    import advisor.ranking  # noqa: F401  (see the report: `from advisor import recommend` needs the module)
    from advisor import api

    def go():
        return api.recommend(str(profile), save=False)

    try:
        rec = go()
    except Exception as exc:  # the bench reports why the path is not available, it does not fix it
        return None, f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return timed(go, runs), f"{len(rec.all_candidates)} candidates, chosen {rec.chosen.provider} " \
                            f"{rec.chosen.instance_type}" if rec.chosen else "no candidate"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", type=Path, help="a saved profile JSON (advisor profile -o FILE)")
    parser.add_argument("--make-profile", type=Path, help="probe this workload once (CPU) and time the API on it")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("ADVISOR_DATABASE_URL",
                          f"sqlite:///{Path(tempfile.mkdtemp(prefix='advisor-bench-')) / 'history.db'}")

    start = time.perf_counter()
    import advisor.pricing  # noqa: F401
    import advisor.ranking  # noqa: F401

    imports = time.perf_counter() - start
    stats, info = ranking_path(args.runs)

    profile = args.profile
    if args.make_profile:
        from advisor import api

        prof = api.profile(str(args.make_profile), devices="cpu", probe_seconds=15)
        profile = Path(tempfile.mkdtemp(prefix="advisor-bench-")) / "profile.json"
        api.save_profile(prof, profile)
    api_stats, api_info = api_path(profile, max(3, args.runs // 4)) if profile else (None, "no --profile given")

    print(f"catalog: {info['offers']} offers -> {info['targets']} distinct targets -> {info['candidates']} "
          f"candidates + {info['excluded']} excluded (do not fit); chosen: {info['chosen']}")
    print(f"import advisor.pricing + advisor.recommend: {imports * 1000:.0f} ms (once per process)")
    print()
    print("| stage | cold (first run) | median | p90 | runs |")
    print("|---|---:|---:|---:|---:|")
    for name, s in stats.items():
        print(f"| {name} | {s['cold'] * 1000:.1f} ms | {s['median'] * 1000:.1f} ms | {s['p90'] * 1000:.1f} ms "
              f"| {s['runs']} |")
    if api_stats:
        print(f"| api.recommend(profile.json, save=False): {api_info} | {api_stats['cold'] * 1000:.0f} ms "
              f"| {api_stats['median'] * 1000:.0f} ms | {api_stats['p90'] * 1000:.0f} ms | {api_stats['runs']} |")
    else:
        print(f"| api.recommend(profile.json): not timed ({api_info}) | - | - | - | - |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
