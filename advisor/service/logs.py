"""Structured logs: one JSON object per line on stderr, for the access log and the server's own messages."""

from __future__ import annotations

import json
import logging
import time

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", ...extra fields}``; a traceback, if any, as one escaped string."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                + f".{int(record.msecs):03d}Z", "level": record.levelname.lower(), "logger": record.name,
                "event": record.getMessage()}
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def log_config(level: str = "info") -> dict:
    """A ``logging.config.dictConfig`` for uvicorn and advisor's service loggers (every worker applies it)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    lvl = level.upper()
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": "advisor.service.logs.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "loggers": {name: {"handlers": ["stderr"], "level": lvl, "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "advisor.service", "advisor.service.access")},
    }
