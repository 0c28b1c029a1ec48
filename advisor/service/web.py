"""The web page: recent recommendations (``/``) and one page per recommendation (``/recommendations/{id}``) with
its time/cost Pareto chart; a login form (``/login``) trades a token for a session cookie.

Server-rendered HTML with no script at all (the Content-Security-Policy forbids any), every piece of data text
escaped (``markup.text``). The pages read the history through the same ``Backend`` as the API.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from advisor.outcome_words import elsewhere_words
from advisor.schemas import Recommendation
from advisor.service.backend import Backend
from advisor.service.chart import cost_text, interval_text, pareto_svg, total_time_text
from advisor.service.markup import page as _page
from advisor.service.markup import text
from advisor.service.security import SESSION_COOKIE, SESSION_SECONDS, RateLimiter, Tokens
from advisor.units import format_duration, format_span

router = APIRouter(include_in_schema=False)


def _backend(request: Request) -> Backend:
    return request.app.state.backend


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@router.get("/", response_class=HTMLResponse)
def index(request: Request, workload: Annotated[str | None, Query(max_length=200)] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> HTMLResponse:
    entries = _backend(request).list(workload=workload or None, since=None, limit=limit)
    flags = _backend(request).probe_flags([e.id for e in entries]) if entries else {}
    rows = []
    for e in entries:
        chosen = "-" if not e.instance_type else text(
            f"{e.provider} {e.instance_type}" + (f" ({e.gpu_count} x {e.gpu})" if e.gpu else ""))
        actual = format_duration(e.actual_seconds) if e.actual_seconds else "-"
        if e.status == "failed":
            actual += " (failed)"
        actual += elsewhere_words(e)  # a run on another machine: its own prediction, as the CLI's list says
        predicted = format_duration(e.predicted_seconds) + (  # the job alone, with its 80% interval
            f" ({format_span(e.low, e.high, e.predicted_seconds)})" if None not in (e.low, e.high) else "")
        # The cost pays for the whole run (the instance's start-up + the job), whose time it names.
        cost = cost_text(e) + (f" for {format_duration(e.total_seconds)}" if e.total_seconds is not None else "")
        rows.append([f'<a href="/recommendations/{e.id}">{e.id}</a>', text(str(e.created_at)[:19].replace("T", " ")),
                     text(e.workload), text(f"{e.epochs} x {e.dataset_size:,} @ {e.batch_size}"), chosen,
                     text(predicted), text(actual), text(cost),
                     text(e.method or "-"), _probe_flag(flags.get(e.id, []))])
    table = (_table(["id", "when (UTC)", "workload", "job", "chosen", "predicted (80%)", "actual",
                     "cost (whole run)", "method", "probe"], rows, {5, 6, 7}) if rows else
             f'<p class="note">No stored recommendation of a workload named {text(workload)}.</p>' if workload else
             '<p class="note">Nothing stored yet.</p>')
    title = f"Recommendations for {workload}" if workload else "Recent recommendations"
    return _page(title, f"<h1>{text(title)}</h1>{table}")


# What the list says of a row whose probe ``here_run.probe_flags`` flags: its page says why (its warnings).
_FLAG_TEXT = {"busy": "disturbed (other processes used the CPU)", "unreliable": "unreliable timings"}


def _probe_flag(flags: list[str]) -> str:
    """The list's "probe" cell: a warning where the probe was disturbed or its timings unreliable, else empty."""
    return f'<span class="err">warning: {text("; ".join(_FLAG_TEXT[f] for f in flags))}</span>' if flags else ""


def _remarks(rec: Recommendation) -> str:
    """The answer's warnings (the probe's, stale or suspect prices, spot and deadline risks) and its other notes,
    as the CLI prints them after the table: without them a disturbed probe's figure reads as a clean one."""
    warnings = list(rec.verdict.warnings) if rec.verdict is not None else [
        n for n in rec.notes if n.startswith("probe:")]
    notes = [n for n in rec.notes if n not in set(warnings)]
    advice = rec.verdict.could_be_better if rec.verdict is not None else rec.advice

    def items(title: str, lines: list[str], css: str = "") -> str:
        return (f"<h2>{text(title)}</h2><ul{css}>" + "".join(f"<li>{text(line)}</li>" for line in lines) + "</ul>"
                if lines else "")

    return (items("Warnings", warnings, ' class="warn"') + items("Notes", notes, ' class="notes"')
            + items("Could be better", advice))


_CANDIDATE_HEADERS = ["#", "provider", "instance", "hardware", "total time (80%)", "job", "cost", "Pareto", "method"]


@router.get("/recommendations/{recommendation_id}", response_class=HTMLResponse)
def recommendation_page(request: Request, recommendation_id: int) -> HTMLResponse:
    detail = _backend(request).show(recommendation_id)
    rec = detail.recommendation
    chosen = rec.chosen
    summary = (f"<p>{rec.epochs} epochs x {rec.dataset_size:,} samples, batch {rec.batch_size}; objective "
               f"{text(rec.constraints.objective)}. Chosen: <b>" + (text(
                   f"{chosen.provider} {chosen.instance_type} ({chosen.region}), {chosen.hardware_label}: "
                   f"{total_time_text(chosen)}, {cost_text(chosen)}") if chosen else "none")
               + "</b></p>")
    if rec.verdict is not None and rec.verdict.here:  # the job on the machine that was probed
        summary += f"<p>Here: {text(rec.verdict.here)}</p>"
    # The listed candidates, the best of each tier (GPUs too, when the top rows are all CPUs) and the chosen one.
    shown = list({(c.provider, c.instance_type, c.region): c for c in [
        *rec.candidates, *rec.best_per_tier.values(), *([chosen] if chosen is not None else [])]}.values())
    # Times and costs as the CLI's table and the chart show them: start-up + job, and the cost ranked on.
    rows = [[str(i), text(c.provider), text(c.instance_type), text(c.hardware_label),
             text(f"{format_duration(c.total_seconds)} ({interval_text(c)})"), text(format_duration(c.seconds)),
             text(cost_text(c)),
             "yes" if c.pareto else "", text(c.method)] for i, c in enumerate(rec.candidates, 1)]
    outcomes = [[text(str(o.recorded_at)[:19].replace("T", " ")), text(o.instance_type or "-"),
                 text(format_duration(o.actual_seconds)), text(o.status)] for o in detail.outcomes]
    body = (f"<h1>Recommendation {rec.id}: {text(rec.workload.name)}</h1>{summary}{_remarks(rec)}"
            f"<h2>Time and cost of the candidates</h2>{pareto_svg(shown, chosen)}"
            '<p class="note">Time: start-up + job, as ranked. Orange: the Pareto front (nothing is both done sooner '
            'and cheaper); green ring: chosen.</p>'
            f"<h2>Candidates</h2>{_table(_CANDIDATE_HEADERS, rows, {4, 5, 6})}"
            "<h2>Outcomes</h2>" + (_table(["recorded (UTC)", "instance", "actual", "status"], outcomes, {2})
                                   if outcomes else '<p class="note">No outcome recorded yet.</p>'))
    return _page(f"Recommendation {rec.id}", body)


# The session cookie is a MAC of the token id and its expiry, checked without any state (every worker takes it):
# logging out deletes it from this browser, and a copy of it elsewhere stays good. Said where it happens.
LOGGED_OUT = ("Logged out in this browser: its session cookie is deleted. The server keeps no sessions, so a copy "
              f"of that cookie (another browser profile, a proxy's log) stays valid until it expires, "
              f"{SESSION_SECONDS // 3600} h after the login, or until its token is taken off the server's "
              "ADVISOR_API_TOKENS (and the server restarted).")


def _login_form(message: str = "", status: int = 200, note: str = "") -> HTMLResponse:
    err = f'<p class="err">{text(message)}</p>' if message else ""
    err += f'<p class="note">{text(note)}</p>' if note else ""
    return _page("Log in", f"<h1>Log in</h1>{err}<form method=\"post\" action=\"/login\">"
                 '<label>API token <input type="password" name="token" autocomplete="current-password" '
                 'size="48"></label> <button type="submit">Log in</button></form>', status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, logged_out: Annotated[str | None, Query(max_length=8)] = None) -> HTMLResponse:
    if not request.app.state.tokens:
        return RedirectResponse("/", status_code=303)
    return _login_form(note=LOGGED_OUT if logged_out is not None else "")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> HTMLResponse:
    tokens: Tokens = request.app.state.tokens
    if not tokens:
        return RedirectResponse("/", status_code=303)
    limiter: RateLimiter = request.app.state.login_limiter
    if limiter.wait_seconds(f"login:{request.client.host if request.client else '-'}") > 0:
        return _login_form("Too many attempts; wait a minute.", 429)
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    tid = tokens.check((form.get("token") or [""])[0].strip())
    if tid is None:
        return _login_form("That token is not valid on this server.", 401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, tokens.session_cookie(tid), max_age=SESSION_SECONDS, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.get("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login?logged_out=1", status_code=303)  # whose form says what logging out did
    response.delete_cookie(SESSION_COOKIE)
    return response
