"""The recommendation page shows each machine's time as the CLI and the ranking do: start-up + job (total), the
job alone beside it; its Pareto chart is drawn on those totals and the cost ranked on, so the front drawn is the
front the ranking found (the chosen machine of an ``objective=time`` answer was drawn slower than a GPU)."""

from __future__ import annotations

import html
import re

from service_helpers import auth, profile_data

from advisor.units import format_duration, format_usd

_CIRCLE = re.compile(r'<circle cx="([0-9.]+)" cy="([0-9.]+)" r="[0-9]+" class="point (\w+)"><title>([^<]*)</title>')


def _slow_cpu_profile(factor: float) -> dict:
    """The saved tabular profile with its CPU steps ``factor`` times slower: a GPU then runs the job alone
    sooner than the CPUs but, with its longer start-up (5 min against 2), finishes later in all."""
    profile = profile_data()
    for device in profile["devices"]:
        for m in device["measurements"]:
            m["compute_seconds"] *= factor
            m["compute_seconds_samples"] = [s * factor for s in m["compute_seconds_samples"]]
        for t in device["thread_scaling"]:
            t["compute_seconds"] *= factor
    return profile


def test_the_page_and_chart_show_the_total_time_the_ranking_used(app_client):
    response = app_client.post("/v1/recommendations", headers=auth(), json={
        "profile": _slow_cpu_profile(3), "dataset_size": 1_000_000, "epochs": 1, "batch_size": 64,
        "objective": "time"})
    assert response.status_code == 201, response.text
    rec = response.json()
    chosen = rec["chosen"]
    listed = [*rec["candidates"], *rec["best_per_tier"].values()]
    # The case of the audit: a machine with a shorter job and a lower cost, that start-up makes later in all.
    assert any(c["seconds"] < chosen["seconds"] and c["cost_usd"] < chosen["cost_usd"]
               and c["total_seconds"] > chosen["total_seconds"] for c in listed), "no start-up flip in this job"

    page = app_client.get(f"/recommendations/{rec['id']}", headers=auth())
    assert page.status_code == 200
    total, job = format_duration(chosen["total_seconds"]), format_duration(chosen["seconds"])
    startup = format_duration(chosen["startup_seconds"])
    assert total != job
    spread = f"{format_duration(chosen['total_low'])}–{format_duration(chosen['total_high'])}"
    said = f"{total} total (80% interval {spread}; {job} job + {startup} start-up), {format_usd(chosen['cost_usd'])}"
    assert re.search(r"Chosen: <b>[^<]*: " + re.escape(html.escape(said)) + "</b>", page.text), page.text[:2000]

    # The table: a "total time" column (start-up + job, its 80% interval beside it) and the job beside it, as the
    # CLI's table has.
    assert "<th>total time (80%)</th><th>job</th>" in page.text
    cells = re.findall(r"<tr><td>(\d+)</td>(?:<td[^>]*>[^<]*</td>){3}<td class=\"num\">([^<]*)</td>"
                       r"<td class=\"num\">([^<]*)</td>", page.text)
    assert [(int(i), t, j) for i, t, j in cells] == [
        (i, html.escape(f"{format_duration(c['total_seconds'])} ({format_duration(c['total_low'])}–"
                        f"{format_duration(c['total_high'])})"), format_duration(c["seconds"]))
        for i, c in enumerate(rec["candidates"], 1)]

    points = [(float(x), float(y), kind, html.unescape(tip)) for x, y, kind, tip in _CIRCLE.findall(page.text)]
    assert len(points) >= len(rec["candidates"])
    [ringed] = [p for p in points if p[2] == "chosen"]
    assert f"{chosen['instance_type']} " in ringed[3] and f": {said}" in ringed[3]
    # Cost grows upwards (a smaller y): nothing plotted is both left of (sooner) and below (cheaper) a point the
    # ranking put on the front, the chosen one included.
    for x, y, kind, tip in points:
        if kind in ("pareto", "chosen"):
            beaten = [other[3] for other in points if other[0] < x - 0.05 and other[1] > y + 0.05]
            assert not beaten, f"{tip} drawn dominated by {beaten}"


def test_a_spot_answer_shows_and_plots_the_spot_cost_it_was_ranked_on(app_client):
    response = app_client.post("/v1/recommendations", headers=auth(), json={
        "profile": profile_data(), "dataset_size": 1_000_000, "epochs": 1, "batch_size": 64, "spot": True})
    assert response.status_code == 201, response.text
    chosen = response.json()["chosen"]
    assert chosen["interruptible"] and chosen["spot_cost_usd"] < chosen["cost_usd"]
    page = app_client.get(f"/recommendations/{response.json()['id']}", headers=auth()).text
    spot = f"{format_usd(chosen['spot_cost_usd'])} spot"
    assert re.search(r"Chosen: <b>[^<]* start-up\), " + re.escape(spot) + "</b>", page)
    [ringed] = [tip for _, _, kind, tip in _CIRCLE.findall(page) if kind == "chosen"]
    assert html.unescape(ringed).endswith(f", {spot}")
