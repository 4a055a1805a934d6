"""Structured logging, configured once at the process edge."""

from __future__ import annotations

import logging
import os
import sys

import orjson
import structlog

from mcreg.settings import Settings


def configure_logging(settings: Settings) -> None:
    """JSON lines in production or when not on a terminal (rendered by orjson, written as bytes: the access log's
    line is a good part of what a request costs); the console renderer on a tty."""
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and (settings.env == "production" or not sys.stderr.isatty())
    )
    renderer: structlog.typing.Processor
    factory: structlog.typing.WrappedLogger
    if as_json:
        renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps, default=str)
        factory = structlog.BytesLoggerFactory(sys.stderr.buffer)
    else:
        renderer = structlog.dev.ConsoleRenderer()
        factory = structlog.PrintLoggerFactory(sys.stderr)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            add_pid,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[settings.log_level.upper()]),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )


def add_pid(_logger: object, _method: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
    """Name the process: ``serve --workers`` and ``mcreg project`` processes write to one log."""
    event["pid"] = os.getpid()
    return event
