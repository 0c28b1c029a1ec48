"""The list at ``/`` gives a recommendation's cost as its page does: the cost it was ranked on, "spot" after a spot
cost. An answer ranked under ``spot`` was listed at its on-demand cost, 2.6x its page's "$22.02 spot". Its
predicted job has its 80% interval beside it, and its cost the whole run's time it pays for (start-up included)."""

from __future__ import annotations

from service_helpers import auth, profile_data

from advisor.units import format_duration, format_usd

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_list_gives_a_spot_answer_its_spot_cost(app_client):
    response = app_client.post("/v1/recommendations", headers=auth(), json={
        "profile": profile_data(), "dataset_size": 2_000_000, "epochs": 20, "spot": True})
    assert response.status_code == 201, response.text
    rec = response.json()
    chosen = rec["chosen"]
    assert chosen["interruptible"] and chosen["spot_cost_usd"] < chosen["cost_usd"]
    page = app_client.get("/", headers={**auth(), **BROWSER}).text
    row = page.split(f'<a href="/recommendations/{rec["id"]}">')[1].split("</tr>")[0]
    # the whole run's cost, with the whole run's time (start-up + job) it pays for
    whole = format_duration(chosen["total_seconds"])
    assert f'<td class="num">{format_usd(chosen["spot_cost_usd"])} spot for {whole}</td>' in row
    assert "<th>cost (whole run)</th>" in page
    assert format_usd(chosen["cost_usd"]) not in row
    # The predicted job (the job alone) with its 80% interval, as `history list` gives it.
    job = f"{format_duration(chosen['seconds'])} ({format_duration(chosen['low'])}–{format_duration(chosen['high'])})"
    assert f'<td class="num">{job}</td>' in row and "<th>predicted (80%)</th>" in page
    detail = app_client.get(f"/recommendations/{rec['id']}", headers={**auth(), **BROWSER}).text
    assert f"{format_usd(chosen['spot_cost_usd'])} spot" in detail  # the same figure as the page


def test_the_list_gives_a_run_on_another_machine_that_machines_prediction(app_client):
    """A run recorded on another candidate than the chosen one was listed beside the chosen one's prediction, with
    no word of the machine it ran on: the page now says it, with that machine's own prediction and the error, as
    `history list` does."""
    response = app_client.post("/v1/recommendations", headers=auth(), json={
        "profile": profile_data(), "dataset_size": 2_000_000, "epochs": 20})
    assert response.status_code == 201, response.text
    rec = response.json()
    other = next(c for c in rec["candidates"] if c["instance_type"] != rec["chosen"]["instance_type"])
    actual_seconds = 2.0 * other["seconds"]  # twice its own prediction: -50.0%, within the 20x guard
    recorded = app_client.post(f"/v1/recommendations/{rec['id']}/outcome", headers=auth(), json={
        "actual_seconds": actual_seconds, "instance_type": other["instance_type"]})
    assert recorded.status_code == 201, recorded.text
    page = app_client.get("/", headers={**auth(), **BROWSER}).text
    row = page.split(f'<a href="/recommendations/{rec["id"]}">')[1].split("</tr>")[0]
    assert (f"{format_duration(actual_seconds)} on {other['instance_type']} (predicted "
            f"{format_duration(other['seconds'])} there, -50.0%)") in row
