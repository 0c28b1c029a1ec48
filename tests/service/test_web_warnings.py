"""The recommendation page shows the answer's warnings and notes (escaped), as ``advisor history show`` prints
them: a probe that other processes disturbed, or whose timings it called unreliable, read as a clean "when idle"
figure on the page, which dropped them all. The list at ``/`` marks such rows."""

from __future__ import annotations

import html

from service_helpers import auth, profile_data

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HOSTILE = "cpu: <script>alert(1)</script> & a note of the probe's own"


def _stored(app_client, notes: list[str], busy: bool = False) -> dict:
    profile = profile_data()
    profile["notes"] = notes
    for m in profile["devices"][0]["measurements"] if busy else []:  # every window disturbed by others
        m.update(clean=False, others_cpu_cores=1.5)
    response = app_client.post("/v1/recommendations", headers=auth(), json={
        "profile": profile, "dataset_size": 20_000, "epochs": 2})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_page_shows_the_probe_warnings_escaped(app_client):
    unreliable = profile_data()["notes"][0]
    assert "unreliable" in unreliable
    rec = _stored(app_client, [unreliable, HOSTILE])
    assert f"probe: {HOSTILE}" in rec["verdict"]["warnings"]
    page = app_client.get(f"/recommendations/{rec['id']}", headers={**auth(), **BROWSER})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h2>Warnings</h2>" in page.text
    for warning in rec["verdict"]["warnings"]:  # the probe's, and any price or spot warning of the answer
        assert f"<li>{html.escape(warning, quote=True)}</li>" in page.text
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a note" in page.text
    assert page.text.count("unreliable. Fix: probe again on an idle machine.") == 1  # a warning, not a note too
    for note in rec["notes"]:
        assert html.escape(note, quote=True) in page.text


def test_the_list_marks_a_row_whose_probe_was_unreliable(app_client):
    clean = _stored(app_client, [])
    noisy = _stored(app_client, profile_data()["notes"])
    busy = _stored(app_client, [], busy=True)
    assert busy["here"][0]["busy_when_probed"]
    page = app_client.get("/", headers={**auth(), **BROWSER}).text
    rows = {rid: page.split(f'<a href="/recommendations/{rid}">')[1].split("</tr>")[0]
            for rid in (clean["id"], noisy["id"], busy["id"])}
    assert "warning: unreliable timings" in rows[noisy["id"]]
    assert "warning: disturbed (other processes used the CPU)" in rows[busy["id"]]
    assert "warning" not in rows[clean["id"]]
