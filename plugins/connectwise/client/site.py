"""Validated settings of one ConnectWise tenant, read from an Airflow connection.

The Airflow connection holds: ``host`` = the site (a hostname, optionally with a port),
``port`` = the site's port (optional), ``login`` = public key, ``password`` = private key, and
in ``extra``: ``company_id``, ``client_id`` and the optional tuning keys of :data:`EXTRA_KEYS`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connectwise.errors import ConnectWiseConnectionError
from connectwise.values import parse_boolean

MAX_PAGE_SIZE = 1000  # ConnectWise's hard limit since 2016.2 (API facts §3)
DEFAULT_PARALLEL_REQUESTS = 4
DEFAULT_API_VERSION = "2025.1"
DEFAULT_PORTS: dict[str, int] = {"https": 443, "http": 80}

# Cloud UI hosts answer API calls with "SSL is required"; the API lives on the api- host
# (API facts §1). On-premise hosts serve both from the same name.
CLOUD_API_HOSTS: dict[str, str] = {
    "na.myconnectwise.net": "api-na.myconnectwise.net",
    "eu.myconnectwise.net": "api-eu.myconnectwise.net",
    "au.myconnectwise.net": "api-au.myconnectwise.net",
    "aus.myconnectwise.net": "api-aus.myconnectwise.net",
    "za.myconnectwise.net": "api-za.myconnectwise.net",
    "staging.connectwisedev.com": "api-staging.connectwisedev.com",
}

EXTRA_KEYS: dict[str, str] = {
    "company_id": "ConnectWise company identifier (the short name used to log in)",
    "client_id": "clientId GUID from developer.connectwise.com",
    "scheme": "'https' (default) or 'http' for on-premise and test servers",
    "codebase": "skip discovery and use this codebase, e.g. 'v2025_1/'",
    "api_version": "Accept header version, e.g. '2025.1'",
    "page_size": f"records per page, 1..{MAX_PAGE_SIZE}",
    "connect_timeout": "seconds to wait for a TCP connection",
    "read_timeout": "seconds to wait for a response",
    "max_retries": "attempts after the first for 429/5xx/timeouts/garbled bodies",
    "backoff_base": "first back-off wait in seconds (doubles each attempt)",
    "backoff_cap": "longest single wait in seconds, Retry-After included",
    "max_parallel_requests": "concurrent page requests per entity (request budget)",
    "requests_per_minute": "request budget per minute across threads (ConnectWise throttles ~1000)",
    "verify_ssl": "verify TLS certificates (default true)",
    "callback_url": "public base URL of the callback receiver, e.g. https://host/connectwise",
}

_HOST_PATTERN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")


@dataclass(frozen=True)
class ConnectWiseSite:
    """Everything needed to talk to one ConnectWise tenant; secrets are kept out of repr."""

    company_id: str
    site: str
    public_key: str
    private_key: str = field(repr=False)
    client_id: str = field(repr=False)
    scheme: str = "https"
    codebase: str | None = None
    api_version: str = DEFAULT_API_VERSION
    page_size: int = MAX_PAGE_SIZE
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 60.0
    # Parallel page readers (and write-back threads): a 1,000-record page takes ConnectWise
    # ~0.5-2 s, so one request at a time would use a fraction of the request budget.
    max_parallel_requests: int = DEFAULT_PARALLEL_REQUESTS
    requests_per_minute: int = 900
    verify_ssl: bool = True
    callback_url: str | None = None

    @property
    def api_host(self) -> str:
        """Host that serves the REST API (cloud UI hosts map to their ``api-`` twin)."""
        return CLOUD_API_HOSTS.get(self.site.lower(), self.site)

    @property
    def origin(self) -> str:
        """``scheme://api-host`` without a trailing slash."""
        return f"{self.scheme}://{self.api_host}"

    @property
    def auth_username(self) -> str:
        """Basic-auth user name: ``company+publicKey`` (API facts §1)."""
        return f"{self.company_id}+{self.public_key}"


def validate_site(site: str | None) -> str:
    """Return ``site`` if it is a bare hostname (optionally with a port).

    Raises:
        ConnectWiseConnectionError: the value has a scheme, a path or is not a hostname. A
            URL pasted into the host field is the seeds' most common setup mistake.
    """
    value = (site or "").strip()
    if not value:
        raise ConnectWiseConnectionError(
            "The ConnectWise connection has no site: set Host to your ConnectWise hostname, "
            "e.g. 'na.myconnectwise.net' or 'cw.example.com'."
        )
    if "://" in value:
        bare = value.split("://", 1)[1].split("/", 1)[0]
        raise ConnectWiseConnectionError(
            f"Site {value!r} includes a scheme: enter the hostname only, e.g. {bare!r} "
            "(do not include http:// or https://). For a plain-HTTP on-premise or test server "
            "set extra 'scheme': 'http'."
        )
    if "/" in value:
        bare = value.split("/", 1)[0]
        raise ConnectWiseConnectionError(
            f"Site {value!r} includes a path: enter the hostname only, e.g. {bare!r}; "
            "the codebase (such as v2025_1/) is discovered automatically."
        )
    if not _HOST_PATTERN.match(value):
        raise ConnectWiseConnectionError(
            f"Site {value!r} is not a hostname: use letters, digits, dots and dashes, "
            "optionally followed by ':port'."
        )
    return value


def site_with_port(site: str, port: int | None, scheme: str) -> str:
    """Return ``site`` with the connection's Port folded in (``host:port``).

    No port and port 0 mean the scheme's default: Airflow 3.3.2's connection list sends
    ``Number(port)``, so 0, for a connection stored without one. The scheme's default port is
    left out, so a cloud UI host still maps to its ``api-`` twin.

    Raises:
        ConnectWiseConnectionError: the port is outside 1..65535, or Host names another one.
    """
    if not port:
        return site
    if not 1 <= port <= 65535:
        raise ConnectWiseConnectionError(
            f"Port {port} is not a TCP port: use 1 to 65535, e.g. 443 for https "
            "(or leave it empty for the scheme's default)."
        )
    name, has_port, host_port = site.rpartition(":")
    if has_port:
        if int(host_port) != port:
            raise ConnectWiseConnectionError(
                f"Site {site!r} names port {host_port} but Port is {port}: enter the port in "
                f"one place only, e.g. Site {name!r} and Port {port}."
            )
        return site
    return site if port == DEFAULT_PORTS[scheme] else f"{site}:{port}"


def site_from_connection(
    host: str | None,
    login: str | None,
    password: str | None,
    extra: dict[str, Any],
    port: int | None = None,
) -> ConnectWiseSite:
    """Build a :class:`ConnectWiseSite` from the fields of an Airflow connection.

    Raises:
        ConnectWiseConnectionError: a field is missing or invalid; the message names it.
    """
    unknown = sorted(set(extra) - set(EXTRA_KEYS))
    if unknown:
        raise ConnectWiseConnectionError(
            f"Unknown key(s) in the ConnectWise connection extra: {', '.join(unknown)}. "
            f"Allowed: {', '.join(EXTRA_KEYS)}."
        )
    site = validate_site(host)
    company_id = _required(extra.get("company_id"), "extra 'company_id' (your company identifier)")
    public_key = _required(login, "Login (the API member's public key)")
    private_key = _required(password, "Password (the API member's private key)")
    client_id = _required(extra.get("client_id"), "extra 'client_id' (ConnectWise requires one)")
    scheme = _scheme(extra)
    return ConnectWiseSite(
        company_id=company_id,
        site=site_with_port(site, port, scheme),
        public_key=public_key,
        private_key=private_key,
        client_id=client_id,
        scheme=scheme,
        codebase=_codebase(extra.get("codebase")),
        api_version=str(extra.get("api_version", DEFAULT_API_VERSION)),
        callback_url=_callback_url(extra.get("callback_url")),
        **_tuning(extra),
    )


def _scheme(extra: dict[str, Any]) -> str:
    scheme = str(extra.get("scheme", "https")).lower()
    if scheme not in ("https", "http"):
        raise ConnectWiseConnectionError(
            f"extra 'scheme' is {scheme!r}; allowed: 'https' (default) or 'http'."
        )
    return scheme


def _tuning(extra: dict[str, Any]) -> dict[str, Any]:
    """Return the extras that tune paging, timeouts, retries and the request rate, checked."""
    return {
        "page_size": _bounded_int(extra, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        "connect_timeout": _positive_float(extra, "connect_timeout", 10.0),
        "read_timeout": _positive_float(extra, "read_timeout", 60.0),
        "max_retries": _bounded_int(extra, "max_retries", 6, 0, 50),
        "backoff_base": _positive_float(extra, "backoff_base", 0.5, allow_zero=True),
        "backoff_cap": _positive_float(extra, "backoff_cap", 60.0, allow_zero=True),
        "max_parallel_requests": _bounded_int(
            extra, "max_parallel_requests", DEFAULT_PARALLEL_REQUESTS, 1, 16
        ),
        "requests_per_minute": _bounded_int(extra, "requests_per_minute", 900, 1, 100_000),
        "verify_ssl": _boolean(extra.get("verify_ssl", True), "verify_ssl"),
    }


def _callback_url(value: Any) -> str | None:
    text = str(value or "").strip().rstrip("/")
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConnectWiseConnectionError(
            f"extra 'callback_url' {text!r} is not a base URL: use the public address of the "
            "callback receiver without query, e.g. 'https://airflow.example.com/connectwise' "
            "(the receiver mounted in the Airflow api-server) or the standalone receiver's."
        )
    return text


def _required(value: str | None, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise ConnectWiseConnectionError(f"The ConnectWise connection is missing {what}.")
    return text


def _codebase(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(value).strip("/") + "/"


def _bounded_int(extra: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    raw = extra.get(key, default)
    try:
        number = int(raw)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise ConnectWiseConnectionError(
            f"extra {key!r} is {raw!r}; use a whole number from {low} to {high}."
        )
    return number


def _positive_float(
    extra: dict[str, Any], key: str, default: float, *, allow_zero: bool = False
) -> float:
    raw = extra.get(key, default)
    try:
        number = float(raw)
    except (TypeError, ValueError):
        number = -1.0
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ConnectWiseConnectionError(f"extra {key!r} is {raw!r}; use a positive number.")
    return number


def _boolean(value: Any, key: str) -> bool:
    try:
        return parse_boolean(value)
    except ValueError:
        raise ConnectWiseConnectionError(
            f"extra {key!r} is {value!r}; use true or false."
        ) from None


def register_secret(secret: str) -> None:
    """Register ``secret`` with Airflow's log masker (no-op outside Airflow)."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow is a hard dependency, but stay importable
        return
    mask_secret(secret)
