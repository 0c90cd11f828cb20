"""Structured logs: JSON lines when not on a terminal, readable lines when on one."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "warning", own_handler: bool = True) -> None:
    """Route structlog through the stdlib logger named ``kringloop``: on stderr, or (inside
    a Prefect flow, ``own_handler=False``) through the handlers Prefect attached to it
    (PREFECT_LOGGING_EXTRA_LOGGERS), so the lines show in the flow run's log too."""
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    root = logging.getLogger("kringloop")
    root.setLevel(level.upper())
    if own_handler:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.handlers[:] = [handler]
        root.propagate = False
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # below the level: dropped before any rendering
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str = "kringloop") -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
