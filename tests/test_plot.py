from __future__ import annotations

import pytest

from advisor.cli.plot import plot_recommendation
from advisor.errors import ConfigError, NoFeasibleCandidateError
from advisor.predictor.targets import offer_target
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Offer, WorkloadSummary


def _offers():
    out = [Offer(provider="aws", instance_type=f"c7i.{n}x", region="r", vcpus=4 * n, memory_gib=8.0 * n,
                 price_usd_per_hour=0.18 * n) for n in (1, 2, 4, 8)]
    out += [Offer(provider="lambda", instance_type=f"gpu_{k}x_a100", region="r", vcpus=30 * k, gpu="A100-40GB",
                  gpu_count=k, gpu_memory_gib=40, price_usd_per_hour=1.99 * k, spot_price_usd_per_hour=0.8 * k)
            for k in (1, 2, 4, 8)]
    return out


def _recommend(constraints: Constraints, name: str = "toy"):
    priced = []
    for o in _offers():
        t = offer_target(o, lambda p, i: (None, 2))
        speed = (t.threads or 1) if o.gpu is None else 40 * o.gpu_count * 0.9 ** (o.gpu_count - 1)
        s = 40000.0 / speed
        priced.append((o, Estimate(target=t, dataset_size=1000, epochs=3, batch_size=64, seconds=s, low=0.8 * s,
                                   high=1.25 * s, step_seconds=1.0, steps_per_epoch=16, total_steps=48,
                                   fits_memory=True, per_device_batch_size=64, method="scaled",
                                   precision="fp32")))
    return rank(priced, constraints, workload=WorkloadSummary(name=name), dataset_size=1000, epochs=3,
                batch_size=64, startup_seconds_cpu=120, startup_seconds_gpu=300)


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_writes_png_and_svg(tmp_path, suffix, magic):
    rec = _recommend(Constraints(deadline_seconds=3600, budget_usd=20, top=3))
    path = plot_recommendation(rec, tmp_path / f"choice{suffix}")
    data = path.read_bytes()
    assert path.exists() and len(data) > 5000 and data.startswith(magic)
    if suffix == ".svg":
        text = data.decode()
        assert "chosen" in text and "deadline" in text  # labels are text in an SVG


def test_plot_of_an_infeasible_recommendation(tmp_path):
    with pytest.raises(NoFeasibleCandidateError) as info:
        _recommend(Constraints(deadline_seconds=60))
    path = plot_recommendation(info.value.recommendation, tmp_path / "miss.png")
    assert path.stat().st_size > 5000


def test_plot_rejects_other_formats(tmp_path):
    rec = _recommend(Constraints())
    with pytest.raises(ConfigError, match=r"\.png or \.svg"):
        plot_recommendation(rec, tmp_path / "choice.pdf")
    with pytest.raises(ConfigError, match="does not exist"):
        plot_recommendation(rec, tmp_path / "no" / "choice.png")
