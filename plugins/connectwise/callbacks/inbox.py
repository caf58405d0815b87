"""The callback inbox (``meta_callback_inbox``): accepted deliveries, waiting to be applied.

The receiver commits a delivery here before answering 2xx, so an accepted delivery survives
any crash; the unique ``message_key`` makes a delivery ConnectWise sends twice one row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectwise.entities import Registry
from connectwise.staging.database import is_postgres, utc_now
from connectwise.staging.writer import sql_value

ACTIONS = ("added", "updated", "deleted")
PENDING, APPLIED, SUPERSEDED, IGNORED, FAILED = (
    "pending",
    "applied",
    "superseded",
    "ignored",
    "failed",
)


class MalformedDelivery(ValueError):
    """The body is not a ConnectWise callback delivery; the message says what is wrong."""


@dataclass(frozen=True)
class Delivery:
    """The fields of one delivery the receiver and the processor rely on."""

    callback_type: str
    action: str
    record_id: int
    key_url: str
    message_key: str
    callback_id: int | None
    entity_json: Any  # the record as a JSON string (GET shape), or None

    @classmethod
    def parse(cls, body: bytes) -> Delivery:
        """Read a delivery from its raw body.

        Raises:
            MalformedDelivery: not UTF-8 JSON (or nested too deep to read), not an object, or
                a required field is missing.
        """
        try:
            # UTF-8 only: json.loads would also take UTF-16/32 bytes, which the inbox's text
            # column cannot hold as they came.
            data = json.loads(body.decode("utf-8"))
        except (RecursionError, ValueError):  # UnicodeDecodeError is a ValueError
            raise MalformedDelivery("body is not valid JSON") from None
        if not isinstance(data, dict):
            raise MalformedDelivery("body is not a JSON object")
        callback_type = data.get("Type")
        if not isinstance(callback_type, str) or not callback_type.strip():
            raise MalformedDelivery("'Type' is missing")
        action = str(data.get("Action") or "").lower()
        if action not in ACTIONS:
            raise MalformedDelivery(f"'Action' must be one of {', '.join(ACTIONS)}")
        record_id = _positive_int(data.get("ID"))
        if record_id is None:
            raise MalformedDelivery("'ID' must be a positive integer")
        metadata = data.get("Metadata")
        key_url = metadata.get("key_url") if isinstance(metadata, dict) else None
        if not isinstance(key_url, str) or not key_url:
            raise MalformedDelivery("'Metadata.key_url' is missing")
        message_id = data.get("MessageId")
        message_key = (
            message_id.strip()
            if isinstance(message_id, str) and message_id.strip()
            else "sha256:" + hashlib.sha256(body).hexdigest()
        )
        return cls(
            callback_type=callback_type.strip().lower(),
            action=action,
            record_id=record_id,
            key_url=key_url,
            message_key=message_key[:200],
            callback_id=_positive_int(data.get("CallbackObjectRecId")),
            entity_json=data.get("Entity"),
        )

    def record(self) -> dict[str, Any] | None:
        """Return the delivered record, if the delivery carries a usable one."""
        value = self.entity_json
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (RecursionError, ValueError):
                return None
        if isinstance(value, dict) and value.get("id") == self.record_id:
            return value
        return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def accept(engine: Engine, delivery: Delivery, body: bytes, registry: Registry) -> str:
    """Commit a delivery to the inbox; return ``accepted``, ``ignored`` or ``duplicate``.

    A type no synced entity listens to is kept as ``ignored`` (visible, never processed); a
    delivery already in the inbox is a ``duplicate``.
    """
    entity = registry.by_callback_type(delivery.callback_type)
    postgres = is_postgres(engine)
    with engine.begin() as connection:
        inserted = connection.execute(
            sa.text(
                "INSERT INTO meta_callback_inbox (message_key, received_at, callback_type, "
                "action, record_id, entity, callback_id, payload, status) VALUES (:key, :at, "
                ":type, :action, :record_id, :entity, :callback_id, :payload, :status) "
                "ON CONFLICT (message_key) DO NOTHING"
            ),
            {
                "key": delivery.message_key,
                "at": sql_value(utc_now(), postgres=postgres),
                "type": delivery.callback_type,
                "action": delivery.action,
                "record_id": delivery.record_id,
                "entity": entity.name if entity else None,
                "callback_id": delivery.callback_id,
                "payload": body.decode("utf-8"),
                "status": PENDING if entity else IGNORED,
            },
        ).rowcount
    if not inserted:
        return "duplicate"
    return "accepted" if entity else IGNORED


@dataclass(frozen=True)
class InboxRow:
    """One pending delivery, as the processor reads it."""

    id: int
    entity: str
    action: str
    record_id: int
    attempts: int
    payload: str

    @property
    def delivery(self) -> Delivery:
        """The parsed delivery (it was valid when accepted)."""
        return Delivery.parse(self.payload.encode("utf-8"))


def pending(engine: Engine, limit: int) -> list[InboxRow]:
    """Return the oldest pending deliveries, in the order they were accepted."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, entity, action, record_id, attempts, payload FROM "
                "meta_callback_inbox WHERE status = :pending ORDER BY id LIMIT :limit"
            ),
            {"pending": PENDING, "limit": limit},
        ).all()
    return [InboxRow(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in rows]


def mark(engine: Engine, ids: list[int], status: str, run_id: str) -> None:
    """Close deliveries as applied, superseded or failed."""
    at = sql_value(utc_now(), postgres=is_postgres(engine))
    _update(
        engine, ids, "status = :status, processed_at = :at", status=status, at=at, run_id=run_id
    )


def record_failure(engine: Engine, ids: list[int], error: str, run_id: str) -> None:
    """Count a failed attempt on deliveries that stay pending."""
    _update(
        engine,
        ids,
        "attempts = attempts + 1, last_error = :error",
        error=error[:2000],
        run_id=run_id,
    )


def _update(engine: Engine, ids: list[int], assignments: str, **values: Any) -> None:
    if not ids:
        return
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"UPDATE meta_callback_inbox SET {assignments}, run_id = :run_id WHERE id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {**values, "ids": ids},
        )


def backlog(engine: Engine) -> dict[str, int]:
    """Deliveries per status (for the run summary and the operator)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT status, COUNT(*) FROM meta_callback_inbox GROUP BY status")
        ).all()
    return {str(status): int(count) for status, count in rows}
