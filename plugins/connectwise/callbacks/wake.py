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
INBOX = callback_inbox_asset()
MIN_INTERVAL_SECONDS = 0.2


class Waker:
    """Coalesce notifications into at most one wake per ``MIN_INTERVAL_SECONDS``."""

    description = "no wake-up (the periodic sweep applies deliveries)"

    def __init__(self) -> None:
        self._pending = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.wakes = 0

    def notify(self) -> None:
        """Ask for a wake-up (returns at once)."""
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
            try:
                self.wake()
                self.wakes += 1
            except Exception as exc:
                log.warning(
                    "Could not wake connectwise_callbacks (%s); the sweep will apply "
                    "the deliveries",
                    type(exc).__name__,
                )
            self._stopped.wait(MIN_INTERVAL_SECONDS)

    def wake(self) -> None:
        """Signal Airflow once."""


class AssetEventWaker(Waker):
    """Inside the Airflow api-server: register the asset event directly in Airflow's database.

    This is what ``POST /api/v2/assets/events`` does, without a token round trip.
    """

    description = "asset event (in-process)"

    def wake(self) -> None:
        """Register one event on the inbox asset."""
        from airflow.assets.manager import asset_manager
        from airflow.models.asset import AssetModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            model = session.scalar(
                select(AssetModel).where(AssetModel.name == INBOX.name, AssetModel.uri == INBOX.uri)
            )
            if model is None:
                log.warning(
                    "Asset %s is unknown: is the connectwise_callbacks DAG deployed?",
                    INBOX.uri,
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
        self._asset_id: int | None = None

    def wake(self) -> None:
        """Post one event; log in again once if the token expired."""
        for attempt in range(2):
            if "Authorization" not in self._session.headers or attempt:
                self._login()
            response = self._session.post(
                f"{self.api_url}/api/v2/assets/events",
                json={"asset_id": self._inbox_asset_id(), "extra": {"source": "receiver"}},
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

    def _inbox_asset_id(self) -> int:
        if self._asset_id is None:
            response = self._session.get(
                f"{self.api_url}/api/v2/assets",
                params={"uri_pattern": "meta_callback_inbox"},
                timeout=5,
            )
            response.raise_for_status()
            assets: list[dict[str, Any]] = response.json()["assets"]
            matches = [asset["id"] for asset in assets if asset["uri"] == INBOX.uri]
            if not matches:
                raise LookupError(f"asset {INBOX.uri} not found")
            self._asset_id = int(matches[0])
        return self._asset_id
