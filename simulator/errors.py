"""ConnectWise-shaped error responses raised anywhere in the simulator."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error that the API layer turns into a JSON response."""

    def __init__(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def endpoint_missing() -> ApiError:
    """Return the 404 ConnectWise sends for a path it does not serve (facts §2)."""
    return ApiError(404, {"code": "ConnectWiseApi", "message": "The endpoint does not exist."})


def record_missing(label: str, record_id: object) -> ApiError:
    """Return the 404 for an unknown id, e.g. ``Contact 57919 not found`` (facts §2)."""
    return ApiError(404, {"code": "NotFound", "message": f"{label} {record_id} not found"})


def bad_request(message: str) -> ApiError:
    """Return a 400 for a malformed query or body.

    The real body for a malformed ``conditions`` string is not documented (UNCONFIRMED); we
    answer ``{"code": "InvalidObject", "message": ..., "errors": null}`` with a message that
    names the parameter and the problem, which is what every client surfaces anyway.
    """
    return ApiError(400, {"code": "InvalidObject", "message": message, "errors": None})


def field_error(code: str, message: str, resource: str, field: str) -> dict[str, str]:
    """Build one ``errors[]`` item of an ``InvalidObject`` body (facts §2)."""
    return {"code": code, "message": message, "resource": resource, "field": field}


def invalid_object(resource: str, errors: list[dict[str, str]]) -> ApiError:
    """Return the 400 ``InvalidObject`` body with its ``errors[]`` list (facts §2)."""
    return ApiError(
        400,
        {"code": "InvalidObject", "message": f"{resource} object is invalid", "errors": errors},
    )
