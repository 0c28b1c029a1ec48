from __future__ import annotations

import pytest

from advisor.cli.plot import plot_recommendation
from advisor.errors import ConfigError, NoFeasibleCandidateError
from advisor.predictor.targets import offer_target
from advisor.ranking import rank
from advisor.schemas import Constraints, Estimate, Offer, WorkloadSummary
from advisor.units import format_duration


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


def _narrow(constraints: Constraints):
    """CPU candidates only, jobs of 10-60 s: totals between 2m10s and 3m with the 2-minute start-up."""
    offers = [Offer(provider="aws", instance_type=f"c7i.{n}x", region="r", vcpus=4 * n, memory_gib=8.0 * n,
                    price_usd_per_hour=0.18 * n) for n in (1, 2, 4, 8)]
    priced = []
    for o in offers:
        t = offer_target(o, lambda p, i: (None, 2))
        s = 60.0 / (t.threads or 1) ** 0.5
        priced.append((o, Estimate(target=t, dataset_size=1000, epochs=1, batch_size=64, seconds=s, low=0.9 * s,
                                   high=1.1 * s, step_seconds=0.1, steps_per_epoch=16, total_steps=16,
                                   fits_memory=True, per_device_batch_size=64, method="scaled",
                                   precision="fp32")))
    return rank(priced, constraints, workload=WorkloadSummary(name="narrow"), dataset_size=1000, epochs=1,
                batch_size=64, startup_seconds_cpu=120, startup_seconds_gpu=300)


def test_axes_read_as_durations_and_dollars_even_on_a_narrow_range(tmp_path):
    import re

    rec = _narrow(Constraints())
    assert all(130 < c.total_seconds < 180 for c in rec.all_candidates)
    svg = plot_recommendation(rec, tmp_path / "narrow.svg").read_text()
    labels = re.findall(r"<!-- (.*?) -->", svg)
    ticks = [t for t in labels if re.fullmatch(r"\d+m(\d+s)?|\d+(\.\d)?s", t)]
    assert len(ticks) >= 3, labels  # several time ticks, written like the table's times
    assert not any("10^" in t or "times" in t or "mathdefault" in t for t in labels), labels
    assert any(t.startswith("$0.0") for t in labels), labels  # cost ticks in dollars
    chosen = rec.chosen
    assert any(f"{format_duration(chosen.total_seconds)} total ({format_duration(chosen.seconds)} job)" in t
               for t in labels), labels


def _drawn(rec, monkeypatch, tmp_path):
    """The axes ``plot_recommendation`` drew ``rec`` on (kept from being closed)."""
    import matplotlib.pyplot as plt

    kept = []
    monkeypatch.setattr(plt, "close", lambda fig: kept.append(fig))
    plot_recommendation(rec, tmp_path / "p.png")
    return kept[0].axes[0]


def test_the_choice_is_drawn_with_its_interval_and_marked_at_risk(monkeypatch, tmp_path):
    """A star left of the deadline line looked safe with its slow end past it: the chosen point carries its 80%
    interval as error bars (time; cost where billed by the second) and its label says at risk."""
    from matplotlib.container import ErrorbarContainer

    from advisor.units import format_usd

    fastest = _recommend(Constraints())
    deadline = fastest.chosen.total_seconds * 1.05  # within on the point, not at the slow end (x1.25)
    rec = _recommend(Constraints(deadline_seconds=deadline))
    assert rec.status == "at_risk" and rec.chosen.total_high > deadline
    ax = _drawn(rec, monkeypatch, tmp_path)
    c = rec.chosen
    (bars,) = [b for b in ax.containers if isinstance(b, ErrorbarContainer)]
    spans = [seg for col in bars.lines[2] for seg in col.get_segments()]
    x, y = c.total_seconds, c.ranked_cost_usd
    assert any(seg[0][0] == pytest.approx(c.total_low) and seg[1][0] == pytest.approx(c.total_high) for seg in spans)
    assert any(seg[0][1] == pytest.approx(y * c.total_low / x) and seg[1][1] == pytest.approx(y * c.total_high / x)
               for seg in spans)
    (label,) = [t.get_text() for t in ax.texts if t.get_text().startswith("chosen")]
    assert label.startswith("chosen (at risk): ")
    assert label.endswith(f"80%: {format_duration(c.total_low)}–{format_duration(c.total_high)}, "
                          f"{format_usd(y * c.total_low / x)}–{format_usd(y * c.total_high / x)}")
    safe = _drawn(_recommend(Constraints()), monkeypatch, tmp_path)
    assert not any("(at risk)" in t.get_text() for t in safe.texts)
