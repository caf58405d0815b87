"""ConnectWiseHook: one ConnectWise tenant's REST API as an Airflow hook.

Builds on ``HttpHook`` for the session (keep-alive adapter, proxies, certificates from the
connection) and departs from it where ConnectWise needs more: Basic auth is
``company+public:private``, the base URL comes from codebase discovery, the connection extras
are settings rather than headers, and retries are a status table that honours ``Retry-After``
and counts every attempt into the run history (``HttpHook.run_with_advanced_retry`` can do
neither). See docs/architecture.md.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol

import requests
from airflow.providers.http.hooks.http import HttpHook
from requests.auth import HTTPBasicAuth
from requests_toolbelt.adapters.socket_options import TCPKeepAliveAdapter

from connectwise.client.attempt import Failure, judge, send_once
from connectwise.client.bodies import ApiResponse
from connectwise.client.budget import RequestBudget, RequestStats, backoff_delay, retry_after_delay
from connectwise.client.checklist import diagnose_connection
from connectwise.client.discovery import lookup_codebase
from connectwise.client.keyset import keyset_pages
from connectwise.client.packed import Page, records_of
from connectwise.client.policy import (
    Action,
    failure_error,
)
from connectwise.client.site import ConnectWiseSite, register_secret, site_from_connection
from connectwise.errors import (
    ConnectWiseRequestError,
    ConnectWiseTransientError,
)

if TYPE_CHECKING:
    from datetime import datetime

    from requests import Session

log = logging.getLogger(__name__)

Record = dict[str, Any]


class CodebaseCache(Protocol):
    """Where codebases discovered by other processes of the same run are remembered."""

    def get(self, site_key: str) -> str | None:
        """Return the remembered codebase of a site, or None."""

    def put(self, site_key: str, codebase: str) -> None:
        """Remember a freshly discovered codebase."""


class ConnectWiseHook(HttpHook):
    """Talk to the ConnectWise PSA REST API v3.0 of one tenant.

    Args:
        connectwise_conn_id: Airflow connection id (conn type ``connectwise``).
        site: settings to use instead of reading the connection (tests, benchmarks).
        sleep: how to wait between retries (tests pass a no-op).
        codebases: where to look up and remember the discovered codebase, so the tasks of a
            run discover it once (the jobs pass a staging-backed cache).
    """

    conn_name_attr = "connectwise_conn_id"
    default_conn_name = "connectwise_default"
    conn_type = "connectwise"
    hook_name = "ConnectWise PSA"

    def __init__(
        self,
        connectwise_conn_id: str = default_conn_name,
        *,
        site: ConnectWiseSite | None = None,
        sleep: Callable[[float], None] = time.sleep,
        codebases: CodebaseCache | None = None,
    ) -> None:
        super().__init__(method="GET", http_conn_id=connectwise_conn_id)
        self.connectwise_conn_id = connectwise_conn_id
        self._site = site
        self._sleep = sleep
        self._session: Session | None = None
        self._codebase: str | None = None
        self._codebases = codebases
        self._budget: RequestBudget | None = None
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self._lock = threading.Lock()
        self.stats = RequestStats()
        self.server_time_at_start: datetime | None = None

    # -- connection -------------------------------------------------------------------------

    @property
    def site(self) -> ConnectWiseSite:
        """The validated tenant settings (read from the Airflow connection once)."""
        if self._site is None:
            conn = self.get_connection(self.connectwise_conn_id)
            self._site = site_from_connection(
                conn.host, conn.login, conn.password, conn.extra_dejson, port=conn.port
            )
        return self._site

    def get_conn(
        self,
        headers: dict[Any, Any] | None = None,  # noqa: ARG002 - HttpHook's signature
        extra_options: dict[str, Any] | None = None,  # noqa: ARG002 - HttpHook's signature
    ) -> Session:
        """Return the pooled session, creating it on first use.

        ``headers`` and ``extra_options`` (HttpHook's signature) are not used: every request
        carries the same ConnectWise headers, set from the connection.

        Raises:
            ConnectWiseConnectionError: the connection's fields are invalid.
        """
        with self._lock:
            if self._session is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> Session:
        site = self.site
        register_secret(site.private_key)
        session = requests.Session()
        session.auth = HTTPBasicAuth(site.auth_username, site.private_key)
        session.verify = site.verify_ssl
        session.headers.update(
            {
                "clientId": site.client_id,
                "Accept": f"application/vnd.connectwise.com+json; version={site.api_version}",
                "Content-Type": "application/json",
            }
        )
        # The same keep-alive adapter HttpHook mounts, sized for parallel page readers.
        adapter = TCPKeepAliveAdapter(
            idle=120, count=20, interval=30, pool_maxsize=max(4, site.max_parallel_requests * 2)
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        register_secret(
            session.prepare_request(requests.Request("GET", site.origin)).headers.get(
                "Authorization", ""
            )
        )
        self._budget = RequestBudget(site.requests_per_minute, sleep=self._sleep)
        self.base_url = site.origin
        return session

    # -- codebase discovery -------------------------------------------------------------------

    def discover_codebase(self, *, refresh: bool = False) -> str:
        """Return the tenant's codebase (``v2025_1/``) from ``/login/companyinfo/{company}``.

        Raises:
            ConnectWiseConnectionError: the host is unreachable or the company id is unknown.
        """
        site = self.site
        if site.codebase:
            return site.codebase
        if self._codebase and not refresh:
            return self._codebase
        site_key = f"{site.scheme}://{site.site}/{site.company_id}".lower()
        if self._codebases is not None and not refresh:
            self._codebase = self._codebases.get(site_key)
            if self._codebase:
                return self._codebase
        codebase = lookup_codebase(self.get_conn(), site)
        self._codebase = codebase
        if self._codebases is not None:
            self._codebases.put(site_key, self._codebase)
        return self._codebase

    def api_url(self, endpoint: str) -> str:
        """Return the absolute URL of ``endpoint`` (e.g. ``company/contacts``)."""
        return f"{self.site.origin}/{self.discover_codebase()}apis/3.0/{endpoint.strip('/')}"

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        page: bool = False,
    ) -> ApiResponse:
        """Send one API request, retrying per the response policy, and decode its JSON.

        With ``page``, a JSON array body is returned packed (``client/packed.py``).

        POST is retried only when the server certainly did not act on it (429, connection
        refused); a lost response or a 5xx to a POST is the push layer's problem (see docs).

        Raises:
            ConnectWiseAuthError: 401.
            ConnectWisePermissionError: 403.
            ConnectWiseRequestError: any other status that retrying will not fix.
            ConnectWiseTransientError: retries exhausted, or a POST may have been applied.
        """
        site = self.site
        method = method.upper()
        rediscovered = False
        failure = Failure("no attempt made", Action.BACKOFF)
        for attempt in range(site.max_retries + 1):
            outcome = self._attempt(method, endpoint, params, json, page)
            if isinstance(outcome, ApiResponse):
                return outcome
            failure = outcome
            if failure.action is Action.REDISCOVER and failure.response is not None:
                if rediscovered or site.codebase:
                    raise failure_error(method, endpoint, failure.response, site)
                # Cloud upgrades move the codebase; re-discover once (django-connectwise).
                rediscovered = True
                self.discover_codebase(refresh=True)
                continue
            if attempt == site.max_retries:
                break
            self._wait(method, endpoint, attempt, failure)
        raise ConnectWiseTransientError(
            f"{method} {endpoint} on {site.api_host} still failing after "
            f"{site.max_retries + 1} attempts (last: {failure.reason}). ConnectWise may be "
            "throttling or unavailable; the task will be retried by Airflow."
        )

    def _attempt(
        self, method: str, endpoint: str, params: dict[str, Any] | None, json: Any, page: bool
    ) -> ApiResponse | Failure:
        """Send the request once within the budget; return the answer or why to retry.

        Raises:
            ConnectWiseError: the failure is final (a 4xx, or a POST whose fate is unknown).
        """
        session = self.get_conn()  # creates the request budget on first use
        assert self._budget is not None
        self._budget.acquire()
        self.stats.count_request()
        url = self.api_url(endpoint)
        response = send_once(
            session, method, endpoint, url, self.site, params=params, json=json, spool=page
        )
        if isinstance(response, Failure):
            return response
        self._note_server_time(response)
        return judge(method, endpoint, response, self.site, page=page)

    def _wait(self, method: str, endpoint: str, attempt: int, failure: Failure) -> None:
        site = self.site
        response = failure.response
        if failure.action is Action.WAIT_RETRY_AFTER and response is not None:
            wait = retry_after_delay(response.headers.get("Retry-After"), site.backoff_cap)
        else:
            wait = backoff_delay(attempt, site.backoff_base, site.backoff_cap, self._rng)
        throttled = failure.action is Action.WAIT_RETRY_AFTER
        self.stats.count_retry(wait, throttled=throttled)
        log.warning(
            "%s %s: %s; retrying in %.2f s (attempt %d of %d)",
            method,
            endpoint,
            failure.reason,
            wait,
            attempt + 2,
            site.max_retries + 1,
        )
        self._sleep(wait)

    def _note_server_time(self, response: requests.Response) -> None:
        if self.server_time_at_start is not None:
            return
        header = response.headers.get("Date")
        if header:
            try:
                self.server_time_at_start = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                return

    def get_json(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``endpoint`` and return its decoded JSON body."""
        return self.request("GET", endpoint, params=params).data

    def get_page(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        """GET a page of ``endpoint``: a JSON array comes back packed (``client/packed.py``)."""
        return self.request("GET", endpoint, params=params, page=True).data

    def post(self, endpoint: str, body: Any) -> Any:
        """POST ``body`` to ``endpoint``; return the created record."""
        return self.request("POST", endpoint, json=body).data

    def put(self, endpoint: str, body: Any) -> Any:
        """PUT (replace) ``body`` at ``endpoint``; return the stored record."""
        return self.request("PUT", endpoint, json=body).data

    def patch(self, endpoint: str, operations: list[dict[str, Any]]) -> Any:
        """PATCH ``endpoint`` with a JSON Patch array; return the stored record."""
        return self.request("PATCH", endpoint, json=operations).data

    def delete(self, endpoint: str) -> None:
        """DELETE ``endpoint``."""
        self.request("DELETE", endpoint)

    # -- reading collections -------------------------------------------------------------------

    def count(self, endpoint: str, *, conditions: str | None = None) -> int:
        """Return ``GET {endpoint}/count`` for ``conditions``."""
        params = {"conditions": conditions} if conditions else None
        body = self.get_json(f"{endpoint.rstrip('/')}/count", params=params)
        if not isinstance(body, dict) or "count" not in body:
            raise ConnectWiseRequestError(
                f"GET {endpoint}/count returned an unexpected body (no 'count').", status=200
            )
        return int(body["count"])

    def paginate(
        self,
        endpoint: str,
        *,
        conditions: str | None = None,
        fields: list[str] | None = None,
        page_size: int | None = None,
        start_after: int = 0,
        stop_at: int | None = None,
        key: str = "id",
        packed: bool = False,
    ) -> Iterator[Page]:
        """Yield ``endpoint`` page by page, in the order of its integer ``key``.

        ``key`` is the entity's primary key. Pages are keyset-based (``key > last key seen``),
        so records created or deleted while we read cannot shift a page boundary and make us
        skip or repeat one. ``page_size`` never exceeds the server's maximum, so a short page
        is the last one. ``start_after`` and ``stop_at`` bound the key range
        (``start_after < key <= stop_at``) for parallel readers. With ``packed``, each page is
        a :class:`PackedPage` whose records the consumer decodes (``records_of``).

        Raises:
            ConnectWiseRequestError: the server ignored the id order or returned a non-list.
        """
        size = min(page_size or self.site.page_size, self.site.page_size)
        pages = keyset_pages(
            self.get_page,
            endpoint,
            size=size,
            conditions=conditions,
            fields=fields,
            start_after=start_after,
            stop_at=stop_at,
            key=key,
        )
        yield from pages if packed else map(records_of, pages)

    def edge_id(
        self, endpoint: str, *, conditions: str | None, last: bool, key: str = "id"
    ) -> int | None:
        """Return the smallest (or with ``last``, the largest) ``key`` matching ``conditions``."""
        params: dict[str, Any] = {
            "orderBy": f"{key} {'desc' if last else 'asc'}",
            "pageSize": 1,
            "fields": key,
        }
        if conditions:
            params["conditions"] = conditions
        records = self.get_json(endpoint, params=params)
        return int(records[0][key]) if isinstance(records, list) and records else None

    # -- diagnostics -------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection and say which part failed, in the seeds' order of causes.

        Order: site format → company id (codebase discovery) → keys (401) → clientId →
        security role (403 on any module the sync reads).
        """
        return diagnose_connection(self)
