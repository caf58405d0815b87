"""What the receiver needs, per tenant, read from the same Airflow connections the DAGs use.

In the api-server the connections come from Airflow's database; the standalone receiver reads
them from ``AIRFLOW_CONN_*`` environment variables (or a secrets backend). They are re-read
at most once a minute, so a changed key or token applies without a restart.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from connectwise.callbacks.install import callback_token
from connectwise.client.hook import ConnectWiseHook
from connectwise.client.site import ConnectWiseSite
from connectwise.errors import ConnectWiseError
from connectwise.staging.database import staging_url, tenant_url
from connectwise.staging.migrations import MigratedEngines
from connectwise.tenants import DEFAULT_TENANT, Tenant, dag_tenants

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class ReceiverConfig:
    """One tenant's part: its site (the token, the allowed key host) and staging database."""

    site: ConnectWiseSite
    engine: Engine
    tenant: str | None = None  # None: the single tenant of a deployment without tenants file

    @property
    def token(self) -> str:
        """The path token this tenant's deliveries carry (unique: from its own key and id)."""
        return callback_token(self.site, self.tenant)


@dataclass(frozen=True)
class ReceiverConfigs:
    """Every tenant's part, and the tenants whose connections could not be read."""

    tenants: list[ReceiverConfig]
    unreadable: list[str] = field(default_factory=list)

    def for_token(self, token: str) -> ReceiverConfig | None:
        """Return the tenant whose token ``token`` is (compared in constant time), else None."""
        found = None
        for config in self.tenants:
            if hmac.compare_digest(token.encode(), config.token.encode()):
                found = config
        return found


class ConfigSource:
    """Read and cache the receiver's configuration; each staging schema is migrated once.

    Without ``tenants`` they are those of the tenants file (read again on each refresh), else
    the single default tenant. A tenant whose connection cannot be read is logged and listed
    as unreadable; the others keep receiving.
    """

    def __init__(
        self, tenants: list[Tenant] | None = None, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self.tenants = tenants
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._configs: ReceiverConfigs | None = None
        self._read_at = 0.0
        self._engines = MigratedEngines()

    def get(self) -> ReceiverConfigs:
        """Return the current configuration of every tenant.

        Raises:
            ConnectWiseConfigError: the tenants file is invalid, or the only tenant's
                connections are missing or invalid.
        """
        with self._lock:
            now = time.monotonic()
            if self._configs is None or now - self._read_at >= self.refresh_seconds:
                self._configs = self._read()
                self._read_at = now
            return self._configs

    def _read(self) -> ReceiverConfigs:
        tenants = self.tenants if self.tenants is not None else dag_tenants()
        if tenants == [DEFAULT_TENANT]:  # one tenant: its failure is the receiver's
            return ReceiverConfigs([self._config_of(DEFAULT_TENANT)])
        configs, unreadable = [], []
        for tenant in tenants:
            try:
                configs.append(self._config_of(tenant))
            except ConnectWiseError as exc:
                log.error("Callbacks of tenant %s are not configured: %s", tenant.label, exc)
                unreadable.append(tenant.label)
        return ReceiverConfigs(configs, unreadable)

    def _config_of(self, tenant: Tenant) -> ReceiverConfig:
        url = tenant_url(staging_url(tenant.staging_conn_id), tenant.schema)
        return ReceiverConfig(
            site=ConnectWiseHook(tenant.connectwise_conn_id).site,
            engine=self._engines.get(url, schema=tenant.schema),
            tenant=tenant.id,
        )
