"""``advisor serve``: the advisor as an HTTP service for a team, and its client.

Modules: ``wire`` (the request and error bodies both sides share; pydantic only), ``client`` (``advisor.Client``,
over httpx: it imports neither FastAPI nor any server module), ``config`` (tokens, limits, from the environment),
``security`` (bearer tokens, the web page's session cookie, per-token rate limits), ``backend`` (the calls into
``advisor.api`` and ``advisor.history`` over one long-lived history, with the recommendation cache),
``gate`` (the ASGI layers in front of the app: access log, body limit, authentication), ``faults`` (errors as
JSON), ``routes`` (the ``/v1`` API), ``web`` and ``chart`` (the HTML pages and their SVG Pareto chart),
``app`` (the FastAPI application) and ``server`` (uvicorn).

The server never imports or runs user code: it takes a ``Profile`` (data, validated against the schema's
ranges) and reads no file a request names. Nothing is imported here, so ``advisor.Client`` stays light.
"""
