"""Find records deleted in ConnectWise and soft-delete them in staging (``deleted_at``).

ConnectWise reports hard deletes only through callbacks; a periodic comparison of ids is the
safety net. It lists ids only (``fields=id``, 1,000 per page), so it costs one request per
thousand records, and it refuses to delete more than a configured share of a table at once: an
empty or truncated answer must never wipe staging.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectwise.errors import DeleteSafetyError
from connectwise.staging import history, lookups
from connectwise.staging.writer import soft_delete

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectwise.client.hook import ConnectWiseHook
    from connectwise.entities import Entity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciliation:
    """What one reconciliation found and did."""

    entity: str
    remote: int
    staged: int
    deleted: list[int]
    returned: list[int]

    def as_dict(self) -> dict[str, object]:
        """Return the counts only (safe for XCom)."""
        return {
            "entity": self.entity,
            "remote": self.remote,
            "staged": self.staged,
            "soft_deleted": len(self.deleted),
            "returned": len(self.returned),
        }


def remote_ids(hook: ConnectWiseHook, engine: Engine, entity: Entity) -> set[int]:
    """Every id ConnectWise has for ``entity`` (ids only, largest pages; children per parent)."""
    if entity.parent:
        parents = sorted(history.staged_ids(engine, entity.parent.staging_table))
        endpoints = [entity.endpoint_for(parent) for parent in parents]
    else:
        endpoints = [entity.endpoint]
    ids: set[int] = set()
    for endpoint in endpoints:
        key = entity.primary_key
        for page in hook.paginate(endpoint, fields=[key], key=key):
            ids.update(int(record[key]) for record in page)
    return ids


def staged_state(engine: Engine, entity: Entity) -> tuple[set[int], set[int]]:
    """Return (live ids, soft-deleted ids) of the entity's staging table."""
    return lookups.live_and_deleted_ids(engine, entity.staging_table)


def reconcile(
    hook: ConnectWiseHook, engine: Engine, entity: Entity, *, max_delete_ratio: float
) -> Reconciliation:
    """Soft-delete staged rows whose ids ConnectWise no longer has; report ids that came back.

    Raises:
        DeleteSafetyError: more than ``max_delete_ratio`` of the live rows would be deleted;
            nothing is deleted then.
    """
    remote = remote_ids(hook, engine, entity)
    live, deleted = staged_state(engine, entity)
    gone = sorted(live - remote)
    returned = sorted(deleted & remote)
    if live and len(gone) / len(live) > max_delete_ratio:
        raise DeleteSafetyError(
            f"{entity.title}: {len(gone)} of {len(live)} staged rows ({len(gone) / len(live):.0%})"
            f" are missing from ConnectWise, more than max_delete_ratio "
            f"{max_delete_ratio:.0%}. Nothing was deleted. If the deletes are real, raise "
            "settings.max_delete_ratio for one run; if not, check the API member's access "
            f"to {entity.endpoint} (a role change can hide records)."
        )
    if gone:
        mark_deleted(engine, entity, gone)
        log.info("%s: soft-deleted %d rows gone from ConnectWise", entity.name, len(gone))
    return Reconciliation(entity.name, len(remote), len(live), gone, returned)


def mark_deleted(engine: Engine, entity: Entity, ids: list[int]) -> int:
    """Set ``deleted_at`` on the given ids (soft delete); return how many rows it changed."""
    return soft_delete(engine, entity.staging_table, ids)
