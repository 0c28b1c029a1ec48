"""``/api``: the API's endpoints, listed from the app's own OpenAPI schema on a page of the web's frame (no
script, nothing loaded from elsewhere). FastAPI's ``/docs`` loads Swagger UI's script and style from a CDN
(cdn.jsdelivr.net): on a team's network without internet access it is a blank page, so the nav and the error
hints point here, and this page links ``/openapi.json`` (the whole schema) and ``/docs`` (saying what it needs).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from advisor.service.markup import page, text

router = APIRouter(include_in_schema=False)

API_PAGE = "/api"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# Not in the schema (no token, not under /v1), for probes: listed by hand.
_HEALTH = (("GET, HEAD", "/healthz", "Readiness: 200, or 503 while the history database does not answer (no token)"),
           ("GET, HEAD", "/livez", "Liveness: 200 while the process answers, database or not (no token)"))


def endpoints(spec: dict) -> list[tuple[str, str, str]]:
    """(method, path, summary) of each operation in the OpenAPI ``spec``, in its order."""
    return [(method.upper(), path, str(op.get("summary") or ""))
            for path, ops in (spec.get("paths") or {}).items()
            for method, op in ops.items() if method.upper() in _METHODS and isinstance(op, dict)]


@router.get(API_PAGE, response_class=HTMLResponse)
def api_page(request: Request) -> HTMLResponse:
    rows = "".join(f"<tr><td>{text(method)}</td><td><code>{text(path)}</code></td><td>{text(summary)}</td></tr>"
                   for method, path, summary in (*endpoints(request.app.openapi()), *_HEALTH))
    body = ("<h1>API</h1><p>Every <code>/v1</code> call needs the header <code>Authorization: Bearer TOKEN</code>; "
            "bodies are the JSON the CLI prints with <code>--json</code>. The whole schema, with each body's "
            'fields: <a href="/openapi.json">/openapi.json</a>.</p><p class="note"><a href="/docs">/docs</a> is the '
            "interactive Swagger UI, which loads its script and style from cdn.jsdelivr.net: it needs internet "
            "access, and is a blank page without it.</p><table><thead><tr><th>method</th><th>path</th><th>what"
            f"</th></tr></thead><tbody>{rows}</tbody></table>")
    return page("API", body)
