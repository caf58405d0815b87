"""Keep the callback path token out of every log line.

The token in ``/callbacks/<token>`` is the receiver's only gate, and web servers log request
paths. Two layers, because a request that fails is logged by code we do not control
(Starlette's error handler answers the 500; uvicorn's or Airflow's access log writes the path):

- ``HideTokenFromAccessLogs`` masks the path in the ASGI scope as the request *enters*, before
  anything reads it, and hands the real token to the route under ``SCOPE_ENTRY``;
- ``LogRedactor``, the process's log record factory, masks tokens in every stdlib record —
  message, arguments and traceback — whatever logger or thread it comes from. Known tokens are
  also given to Airflow's secrets maskers (the api-server's access log redacts with them).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any

MASK = "***"
SCOPE_ENTRY = "connectwise.callback_token"  # where the route finds the real path token
MAX_KNOWN_TOKENS = 8  # the current token and a few rotated ones
# Any segment after /callbacks/ in a request path: a wrong token is masked too.
_TOKEN_IN_PATH = re.compile(r"(/callbacks/)[^/?\s\"']+")
# In free text only a last path segment without a dot, so source paths in tracebacks
# (``connectwise/callbacks/receiver.py``, ``airflow/callbacks/...``) stay readable.
_TOKEN_IN_TEXT = re.compile(r"(/callbacks/)(?!\*\*\*)[^/?#\s\"'.<>(),;]+(?=[?#\s\"'<>),;]|$)")
_PLAIN = (int, float, bool, type(None))
_INSTALL_LOCK = threading.Lock()


def redact(text: str) -> str:
    """Return ``text`` (a request path) with any ``/callbacks/<token>`` segment masked."""
    return _TOKEN_IN_PATH.sub(rf"\1{MASK}", text)


class HideTokenFromAccessLogs:
    """ASGI middleware: mask the path token in the request scope as the request enters.

    Starlette passes one scope dict down (mounts update it in place), so uvicorn's access log
    and Airflow's ``HttpAccessLogMiddleware`` read the masked path too, even when the request
    fails and the answer comes from an error handler outside this middleware.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: D102
        if scope.get("type") == "http":
            path = scope.get("path", "")
            root = scope.get("root_path", "")
            route_path = path[len(root) :] if root and path.startswith(root) else path
            match = re.fullmatch(r"/callbacks/([^/]+)", route_path)
            scope[SCOPE_ENTRY] = match.group(1) if match else ""
            scope["path"] = redact(path)
            if isinstance(scope.get("raw_path"), bytes):
                scope["raw_path"] = redact(scope["raw_path"].decode("latin-1")).encode("latin-1")
        await self.app(scope, receive, send)


class LogRedactor:
    """A log record factory that masks callback tokens in each record it makes.

    The common case costs one formatting of the message and two substring scans; only a
    record that holds a token is rewritten. Thread-safe: the known tokens are an immutable
    tuple replaced in one assignment.
    """

    def __init__(self, make_record: Callable[..., logging.LogRecord]) -> None:
        self._make_record = make_record
        self._tokens: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add_token(self, token: str) -> None:
        """Mask ``token`` wherever it appears from now on (and tell Airflow's maskers)."""
        if not token or token in self._tokens:
            return
        with self._lock:
            if token in self._tokens:
                return
            self._tokens = (token, *self._tokens)[:MAX_KNOWN_TOKENS]
        _mask_in_airflow(token)

    def redact(self, text: str) -> str:
        """Return ``text`` with known tokens and ``/callbacks/<token>`` segments masked."""
        for token in self._tokens:
            text = text.replace(token, MASK)
        return _TOKEN_IN_TEXT.sub(rf"\1{MASK}", text)

    def holds_secret(self, text: str) -> bool:
        """Tell whether ``text`` holds a known token or a ``/callbacks/<token>`` segment."""
        return any(token in text for token in self._tokens) or bool(_TOKEN_IN_TEXT.search(text))

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """Make the record as before, then mask it."""
        record = self._make_record(*args, **kwargs)
        try:
            self._clean(record)
        except Exception:  # logging must go on: withhold what could not be checked
            record.msg, record.args, record.exc_info, record.exc_text = (
                "(log record withheld: it could not be checked for callback tokens)",
                (),
                None,
                None,
            )
        return record

    def _clean(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad arguments: the handler reports them, masked
            message = ""
            self._clean_parts(record)
        if record.exc_info and record.exc_info[1] is not None:
            trace = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if self.holds_secret(trace):
                # Formatters render exc_info themselves (structlog ignores exc_text), so the
                # masked traceback becomes part of the message instead.
                record.msg = f"{self.redact(message)}\n{self.redact(trace)}"
                record.args, record.exc_info, record.exc_text = (), None, None
                return
        if not self.holds_secret(message):
            return
        self._clean_parts(record)
        if self.holds_secret(record.getMessage()):  # a token split across msg and args
            record.msg, record.args = self.redact(message), ()

    def _clean_parts(self, record: logging.LogRecord) -> None:
        # Mask msg and args apart, so formatters that read args (uvicorn's access log) work.
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: self._clean_arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._clean_arg(value) for value in record.args)

    def _clean_arg(self, value: Any) -> Any:
        if isinstance(value, _PLAIN):
            return value
        text = value if isinstance(value, str) else str(value)
        return self.redact(text) if self.holds_secret(text) else value


def install_log_redaction() -> LogRedactor:
    """Return the process's ``LogRedactor``, making it the log record factory if it is not.

    The record factory is the one step every stdlib log record passes through, whichever
    logger, handler or formatter (uvicorn's, Airflow's, pytest's) deals with it afterwards.
    """
    with _INSTALL_LOCK:
        current = logging.getLogRecordFactory()
        if isinstance(current, LogRedactor):
            return current
        redactor = LogRedactor(current)
        logging.setLogRecordFactory(redactor)
        return redactor


def _mask_in_airflow(token: str) -> None:
    # The api-server's access log redacts query strings with the core masker; task and SDK
    # code use the SDK's. Both are process-wide; outside Airflow there is nothing to tell.
    try:
        from airflow._shared.secrets_masker import mask_secret as mask_core
        from airflow.sdk.log import mask_secret as mask_sdk
    except ImportError:  # pragma: no cover - Airflow is a hard dependency
        return
    mask_core(token)
    mask_sdk(token)
