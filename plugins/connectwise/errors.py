"""Exceptions raised by the connectwise package, split by whose fault it is.

The split decides what Airflow should do: a configuration error will fail again on retry, so the
task boundary turns it into ``AirflowFailException``; a transient error propagates so Airflow
retries the task.
"""

from __future__ import annotations


class ConnectWiseError(Exception):
    """Base for everything this package raises."""

    api_message: str | None = None  # ConnectWise's own words, when the API answered


class ConnectWiseConfigError(ConnectWiseError):
    """Bad connection, settings or mapping; retrying won't help."""


class ConnectWiseMappingError(ConnectWiseConfigError):
    """A mapping file is malformed or names something that does not exist."""


class ConnectWiseConnectionError(ConnectWiseConfigError):
    """The connection's host, company id or transport settings are wrong."""


class ConnectWiseAuthError(ConnectWiseConfigError):
    """401: keys or company id rejected."""


class ConnectWiseClientIdError(ConnectWiseAuthError):
    """The integration's clientId was refused (missing, unknown or revoked)."""


class ConnectWisePermissionError(ConnectWiseConfigError):
    """403: the API member's security role lacks a module or a table."""


class ConnectWiseRequestError(ConnectWiseError):
    """The API refused a request (400/404/409...) for a reason retrying will not fix."""

    def __init__(self, message: str, *, status: int, api_message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.api_message = api_message


class ConnectWiseTransientError(ConnectWiseError):
    """429/5xx/timeouts/garbled bodies still failing after the retry budget."""


class EntityDisabledError(ConnectWiseError):
    """An optional entity has no section in the mapping file, so it is not synced."""


class TemporaryStorageError(ConnectWiseError):
    """The temporary directory a sync keeps pages and chunks in is full or not writable."""


class QualityGateError(ConnectWiseError):
    """Too many records of a chunk or run failed the quality checks."""


class DeleteSafetyError(ConnectWiseError):
    """A reconciliation would soft-delete more than the configured share of a table."""


class CallbacksNotConfiguredError(ConnectWiseError):
    """The connection has no ``callback_url``, so callbacks are neither installed nor received."""
