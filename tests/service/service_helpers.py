"""Real ``advisor serve`` processes for the service tests: a free port on 127.0.0.1, the server started as a
user starts it, waited for on ``/healthz`` (bounded), and stopped with SIGTERM (then SIGKILL, bounded)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parents[2]
PROFILE_FILE = REPO / "tests" / "hostile" / "data" / "tabular_profile.json"
TOKEN = "test-token-" + "x" * 24
OTHER_TOKEN = "other-token-" + "y" * 24
POSTGRES_URL = os.environ.get("ADVISOR_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def profile_data(name: str | None = None) -> dict:
    data = json.loads(PROFILE_FILE.read_text())
    if name is not None:
        data["workload"]["name"] = name
    return data


def in_process_app(database_url: str):
    """The app in this process on ``database_url``, one token (starlette's TestClient; a server error is an
    answer, not an exception raised into the test)."""
    import warnings

    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what it runs on here
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from advisor.service.app import create_app
    from advisor.service.config import ServiceConfig
    from advisor.settings import Settings

    config = ServiceConfig(tokens=(TOKEN,), rate_per_minute=1000, settings=Settings(database_url=database_url))
    return TestClient(create_app(config), base_url="http://127.0.0.1", raise_server_exceptions=False)


def plain_http(port: int, request: bytes, sent=None, timeout: float = 120.0) -> int:
    """``request`` (HTTP/1.1 with ``Connection: close``) on a new plain socket to 127.0.0.1:``port``, ``sent()``
    called once it has left, the answer read to its end; its status. For tests that must know when a request
    left, or must open each connection themselves."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        if sent is not None:
            sent()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def unsent() -> httpx.MockTransport:
    """A transport that fails the test if anything is sent through it (for checks that must come first)."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    return httpx.MockTransport(refuse)


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Server:
    """``advisor serve`` in a child process (its own process group), with ``url``, ``log`` and ``stop()``."""

    def __init__(self, tmp: Path, *, database_url: str, tokens: str | None = TOKEN, workers: int = 1,
                 args: tuple[str, ...] = (), env: dict[str, str] | None = None, wait: bool = True) -> None:
        self.port = free_port()
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"server-{self.port}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
        full_env.update(ADVISOR_DATABASE_URL=database_url, PYTHONPATH=str(REPO), **(env or {}))
        if tokens is not None:
            full_env["ADVISOR_API_TOKENS"] = tokens
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "advisor.cli.app", "serve", "--port", str(self.port), "--workers", str(workers),
             *args], cwd=tmp, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_ready()

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self, timeout_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"advisor serve exited with {self.process.returncode}:\n{self.log}")
            try:
                # 503: up, with its database down (what some tests start it with)
                if (httpx.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503)
                        and self.log.count("Application startup complete.") >= self.workers):
                    # every worker: one that answered while another still starts would get the whole of a burst
                    # (a worker's socket joins the port's group only once its app has started)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"advisor serve did not answer /healthz in {timeout_seconds} s:\n{self.log}")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the server process), when it runs several."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        pids = [int(p) for p in out.split()]
        # multiprocessing's resource tracker is a child too; workers are the ones running uvicorn's server.
        return [p for p in pids if "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text(errors="replace")]

    def stop(self, timeout_seconds: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def postgres_schema() -> tuple[str, object, str] | None:
    """(url, admin engine, schema) of a fresh PostgreSQL schema, or None when the server is unreachable."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        schema = f"advisor_svc_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # noqa: BLE001 - the caller skips with the reason
        return None
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}", admin, schema


def drop_schema(admin, schema: str) -> None:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
