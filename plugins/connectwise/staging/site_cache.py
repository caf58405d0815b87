"""The codebase each ConnectWise site was last discovered at (``meta_site_codebase``).

Every task of a run is its own process with its own hook; without this each would ask
``/login/companyinfo`` again. A remembered codebase is used for ``max_age``; if ConnectWise
moves the tenant meanwhile, the hook's 404 handling rediscovers and this is overwritten.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.history import as_datetime
from connectwise.staging.writer import sql_value

DEFAULT_MAX_AGE = timedelta(hours=1)


class StagedCodebases:
    """A codebase cache for :class:`~connectwise.client.hook.ConnectWiseHook`, kept in staging."""

    def __init__(self, engine: Engine, max_age: timedelta = DEFAULT_MAX_AGE) -> None:
        self.engine = engine
        self.max_age = max_age

    def get(self, site_key: str) -> str | None:
        """Return the codebase remembered for ``site_key`` if it is recent enough."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT codebase, discovered_at FROM meta_site_codebase WHERE site_key = :key"
                ),
                {"key": site_key},
            ).first()
        if row is None:
            return None
        discovered = as_datetime(row[1])
        if discovered is None or utc_now() - discovered > self.max_age:
            return None
        return str(row[0])

    def put(self, site_key: str, codebase: str) -> None:
        """Remember a freshly discovered codebase."""
        at = sql_value(utc_now(), postgres=is_postgres(self.engine))
        with self.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO meta_site_codebase (site_key, codebase, discovered_at) "
                    "VALUES (:key, :codebase, :at) ON CONFLICT (site_key) DO UPDATE SET "
                    "codebase = excluded.codebase, discovered_at = excluded.discovered_at"
                ),
                {"key": site_key, "codebase": codebase, "at": at},
            )
