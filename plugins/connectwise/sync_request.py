"""What one sync asks for: an entity, a mode and what the mode needs, built per mode."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from connectwise.entities import Entity

Mode = Literal["full", "incremental", "ids", "remap", "callback"]
OPERATOR_MODES = ("full", "incremental", "ids", "remap")  # a task or the manual form may ask
Row = dict[str, Any]


@dataclass(frozen=True)
class SyncRequest:
    """What to sync.

    Modes: ``full`` reads every record; ``incremental`` those changed since the watermark (or
    ``changed_since``), falling back to full when the entity never synced; ``ids`` the given
    records (records that came back); ``remap`` re-applies the current mapping to the raw
    records in staging and to those held in quarantine, without calling the API; ``callback``
    loads the ``records`` ConnectWise delivered and reads ``record_ids`` by id, soft-deleting
    those that no longer exist. Only full and incremental runs move the watermark.
    """

    entity: Entity
    mode: Mode
    run_id: str
    changed_since: datetime | None = None
    record_ids: tuple[int, ...] = ()
    records: tuple[Row, ...] = ()
    parent_ids: tuple[int, ...] = ()  # callback mode, child entities: re-read these parents

    @classmethod
    def full(cls, entity: Entity, run_id: str) -> SyncRequest:
        """Read every record of the entity."""
        return cls(entity, "full", run_id)

    @classmethod
    def incremental(
        cls, entity: Entity, run_id: str, changed_since: datetime | None = None
    ) -> SyncRequest:
        """Read what changed since ``changed_since``, else since the watermark (or all)."""
        return cls(entity, "incremental", run_id, changed_since=changed_since)

    @classmethod
    def by_ids(cls, entity: Entity, run_id: str, record_ids: Iterable[int]) -> SyncRequest:
        """Read the records with these ids (those that still exist)."""
        return cls(entity, "ids", run_id, record_ids=tuple(record_ids))

    @classmethod
    def remap(cls, entity: Entity, run_id: str) -> SyncRequest:
        """Re-apply the mapping to what staging and the quarantine hold (no API call)."""
        return cls(entity, "remap", run_id)

    @classmethod
    def callback(
        cls,
        entity: Entity,
        run_id: str,
        *,
        records: Iterable[Row] = (),
        record_ids: Iterable[int] = (),
        parent_ids: Iterable[int] = (),
    ) -> SyncRequest:
        """Apply a callback batch: delivered records, ids to read, or parents to re-read."""
        return cls(
            entity,
            "callback",
            run_id,
            record_ids=tuple(record_ids),
            records=tuple(records),
            parent_ids=tuple(parent_ids),
        )

    @classmethod
    def for_mode(
        cls,
        mode: str,
        entity: Entity,
        run_id: str,
        *,
        changed_since: datetime | None = None,
        record_ids: Iterable[int] = (),
    ) -> SyncRequest:
        """Build the request of a mode a task or the manual form names.

        The modes: ``full``, ``incremental``, ``ids``, ``remap``.

        Raises:
            ValueError: another mode.
        """
        if mode == "full":
            return cls.full(entity, run_id)
        if mode == "incremental":
            return cls.incremental(entity, run_id, changed_since)
        if mode == "ids":
            return cls.by_ids(entity, run_id, record_ids)
        if mode == "remap":
            return cls.remap(entity, run_id)
        raise ValueError(f"mode must be one of {', '.join(OPERATOR_MODES)}, not {mode!r}")

    @property
    def moves_watermark(self) -> bool:
        """Whether a successful run of this request advances the watermark."""
        return self.mode in ("full", "incremental")
