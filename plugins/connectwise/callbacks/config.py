"""What the receiver needs, read from the same Airflow connections the DAGs use.

In the api-server the connections come from Airflow's database; the standalone receiver reads
them from ``AIRFLOW_CONN_*`` environment variables (or a secrets backend). They are re-read
at most once a minute, so a changed key or token applies without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from connectwise.callbacks.install import callback_token
from connectwise.client.hook import ConnectWiseHook
from connectwise.client.site import ConnectWiseSite
from connectwise.staging.database import STAGING_CONN_ID, staging_url
from connectwise.staging.migrations import MigratedEngines

REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class ReceiverConfig:
    """The tenant (for the token and the allowed key host) and the staging database."""

    site: ConnectWiseSite
    engine: Engine

    @property
    def token(self) -> str:
        """The path token deliveries must carry."""
        return callback_token(self.site)


class ConfigSource:
    """Read and cache the receiver's configuration; the staging schema is migrated once."""

    def __init__(
        self,
        conn_id: str = ConnectWiseHook.default_conn_name,
        staging_conn_id: str = STAGING_CONN_ID,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.conn_id = conn_id
        self.staging_conn_id = staging_conn_id
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._config: ReceiverConfig | None = None
        self._read_at = 0.0
        self._engines = MigratedEngines()

    def get(self) -> ReceiverConfig:
        """Return the current configuration.

        Raises:
            ConnectWiseConfigError: a connection is missing or invalid.
        """
        with self._lock:
            now = time.monotonic()
            if self._config is None or now - self._read_at >= self.refresh_seconds:
                self._config = ReceiverConfig(
                    site=ConnectWiseHook(self.conn_id).site,
                    engine=self._engines.get(staging_url(self.staging_conn_id)),
                )
                self._read_at = now
            return self._config
