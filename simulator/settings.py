"""Run-time settings of one simulator: faults, credentials, callback delivery."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_COMPANY_ID = "acme"
DEFAULT_PUBLIC_KEY = "acme-public"
DEFAULT_PRIVATE_KEY = "acme-private-s3cret"
DEFAULT_CLIENT_ID = "b2e0c3a4-1111-4222-8333-944455556666"
DEFAULT_CODEBASE = "v2025_1/"
MODULES = (
    "Companies",
    "Finance",
    "Marketing",
    "Procurement",
    "Project",
    "Sales",
    "Service Desk",
    "System",
)


@dataclass(slots=True)
class FaultSettings:
    """Faults injected into ``apis/3.0`` responses; all off by default."""

    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_per_minute: int | None = None
    # Length of the throttle window; 60 s is the real "per minute", tests shorten it.
    throttle_window_seconds: float = 60.0
    retry_after_seconds: int = 1
    truncate_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    lost_write_responses: int = 0
    # The next N writes (POST/PUT/PATCH) answered write_error_status: "before" without applying
    # them, "after" once applied (a gateway giving up on a write the server completed).
    write_errors_before: int = 0
    write_errors_after: int = 0
    write_error_status: int = 502
    seed: int = 1


@dataclass(slots=True)
class AuthSettings:
    """Credentials the simulator accepts and the API member's security gaps."""

    company_id: str = DEFAULT_COMPANY_ID
    public_key: str = DEFAULT_PUBLIC_KEY
    private_key: str = field(default=DEFAULT_PRIVATE_KEY, repr=False)
    client_id: str | None = DEFAULT_CLIENT_ID
    denied_modules: list[str] = field(default_factory=list)
    hidden_tables: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CallbackSettings:
    """Delivery tuning: ``retry_delay_scale`` multiplies the real 2 s / 4 s retry waits."""

    retry_delay_scale: float = 1.0
    disable_after_failures: int = 20


def to_dict(settings: Any) -> dict[str, Any]:
    """Return a JSON-ready copy of a settings dataclass."""
    return asdict(settings)


def field_names(settings_type: type) -> set[str]:
    """Return the settable names of a settings dataclass."""
    return {f.name for f in fields(settings_type)}
