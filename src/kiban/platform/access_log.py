"""Access logs without query strings.

A query string can carry what a person typed or a token; the log keeps the path only, so
that nothing personal reaches the access log however a page is linked. ``kiban serve`` gives
uvicorn :func:`log_config`, which puts :class:`PathOnly` on uvicorn's access logger.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_ACCESS_ARGS = 5  # uvicorn's access record: client, method, path with query, version, status.


class PathOnly(logging.Filter):
    """Drops the query string from uvicorn's access log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS:
            client, method, path, version, status = args
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with :class:`PathOnly` on the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": f"{__name__}.PathOnly"}
    config["handlers"]["access"].setdefault("filters", []).append("path_only")
    return config
