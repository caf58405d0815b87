"""Tell Airflow the inbox has new deliveries: an asset event on the inbox asset.

An asset event is stored in Airflow's database, so it is kept while the scheduler is down,
and any burst of events queues one run of ``connectwise_callbacks``. Waking is best effort:
the delivery is already committed, and the DAG's periodic sweep applies it if a wake is lost.
Notifications are coalesced in a background thread, so the receiver never waits on Airflow.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests

from connectwise.assets import callback_inbox_asset

log = logging.getLogger(__name__)
MIN_INTERVAL_SECONDS = 0.2


class Waker:
    """Coalesce notifications into at most one wake per ``MIN_INTERVAL_SECONDS``."""

    description = "no wake-up (the periodic sweep applies deliveries)"

    def __init__(self) -> None:
        self._tenants: set[str | None] = set()  # whose inbox has news
        self._pending = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.wakes = 0

    def notify(self, tenant: str | None = None) -> None:
        """Ask for a wake-up of a tenant's callbacks DAG (returns at once)."""
        with self._lock:
            self._tenants.add(tenant)
        self._pending.set()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="connectwise-waker", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stopped.set()
        self._pending.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._pending.wait()
            if self._stopped.is_set():
                return
            self._pending.clear()
            with self._lock:
                tenants, self._tenants = self._tenants, set()
            for tenant in sorted(tenants, key=str):
                self._wake_one(tenant)
            self._stopped.wait(MIN_INTERVAL_SECONDS)

    def _wake_one(self, tenant: str | None) -> None:
        try:
            self.wake(tenant)
            self.wakes += 1
        except Exception as exc:
            log.warning(
                "Could not wake the callbacks DAG of tenant %s (%s); the sweep will apply "
                "the deliveries",
                tenant or "default",
                type(exc).__name__,
            )

    def wake(self, tenant: str | None = None) -> None:
        """Signal Airflow once, for one tenant's inbox."""


class AssetEventWaker(Waker):
    """Inside the Airflow api-server: register the asset event directly in Airflow's database.

    This is what ``POST /api/v2/assets/events`` does, without a token round trip.
    """

    description = "asset event (in-process)"

    def wake(self, tenant: str | None = None) -> None:
        """Register one event on the tenant's inbox asset."""
        from airflow.assets.manager import asset_manager
        from airflow.models.asset import AssetModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        inbox = callback_inbox_asset(tenant)
        with create_session() as session:
            model = session.scalar(
                select(AssetModel).where(AssetModel.name == inbox.name, AssetModel.uri == inbox.uri)
            )
            if model is None:
                log.warning(
                    "Asset %s is unknown: is the callbacks DAG of tenant %s deployed?",
                    inbox.uri,
                    tenant or "default",
                )
                return
            asset_manager.register_asset_change(
                asset=model,
                extra={"source": "connectwise-receiver"},
                source_is_api=True,
                session=session,
            )


class RestWaker(Waker):
    """For the standalone receiver: ``POST /api/v2/assets/events`` on Airflow's REST API."""

    description = "asset event (Airflow REST API)"

    def __init__(self, api_url: str, username: str, password: str) -> None:
        super().__init__()
        self.api_url = api_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._session = requests.Session()
        self._asset_ids: dict[str | None, int] = {}

    def wake(self, tenant: str | None = None) -> None:
        """Post one event on the tenant's inbox asset; log in again once if the token expired."""
        for attempt in range(2):
            if "Authorization" not in self._session.headers or attempt:
                self._login()
            response = self._session.post(
                f"{self.api_url}/api/v2/assets/events",
                json={"asset_id": self._inbox_asset_id(tenant), "extra": {"source": "receiver"}},
                timeout=5,
            )
            if response.status_code != 401:
                response.raise_for_status()
                return

    def _login(self) -> None:
        response = self._session.post(
            f"{self.api_url}/auth/token", json=self._credentials, timeout=5
        )
        response.raise_for_status()
        self._session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _inbox_asset_id(self, tenant: str | None) -> int:
        if tenant not in self._asset_ids:
            inbox = callback_inbox_asset(tenant)
            response = self._session.get(
                f"{self.api_url}/api/v2/assets",
                params={"uri_pattern": inbox.uri},
                timeout=5,
            )
            response.raise_for_status()
            assets: list[dict[str, Any]] = response.json()["assets"]
            matches = [asset["id"] for asset in assets if asset["uri"] == inbox.uri]
            if not matches:
                raise LookupError(f"asset {inbox.uri} not found")
            self._asset_ids[tenant] = int(matches[0])
        return self._asset_ids[tenant]
