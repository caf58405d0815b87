"""Read a ConnectWise callback delivery and accept it into the inbox (``staging.inbox``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from connectwise.entities import Registry
from connectwise.staging import inbox

ACTIONS = ("added", "updated", "deleted")


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
    arrival = inbox.Arrival(
        message_key=delivery.message_key,
        callback_type=delivery.callback_type,
        action=delivery.action,
        record_id=delivery.record_id,
        entity=entity.name if entity else None,
        callback_id=delivery.callback_id,
        payload=body.decode("utf-8"),
    )
    if not inbox.store(engine, arrival):
        return "duplicate"
    return "accepted" if entity else inbox.IGNORED


def delivery_of(row: inbox.InboxRow) -> Delivery:
    """Return the parsed delivery of an inbox row (it was valid when accepted)."""
    return Delivery.parse(row.payload.encode("utf-8"))
