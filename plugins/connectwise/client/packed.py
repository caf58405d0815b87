"""A page of records kept as the JSON text of each until its consumer reads it.

A page of 1,000 contacts is 1.8 MB of JSON and 6 MB of Python objects. Parallel readers keep
a page each, and one more waits for the consumer: held as text, each costs its body, and the
objects exist only for the one page the sync maps. A reader needs just the last record's key
to ask for the next page, and decodes only that record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec

from connectwise.errors import ConnectWiseRequestError

Record = dict[str, Any]

_RECORD_DECODER = msgspec.json.Decoder()


class PackedPage:
    """A page's records as the slices of its body that hold them (checked JSON, valid UTF-8)."""

    __slots__ = ("_texts",)

    def __init__(self, texts: list[msgspec.Raw]) -> None:
        self._texts = texts

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, index: int) -> Any:
        return _decode_record(self._texts[index])

    def records(self) -> list[Any]:
        """Decode every record (once: the caller keeps the list)."""
        return [_decode_record(text) for text in self._texts]


def records_of(page: PackedPage | Sequence[Record]) -> list[Record]:
    """Return a page's records, decoding a packed page."""
    if isinstance(page, PackedPage):
        return page.records()
    return page if isinstance(page, list) else list(page)


def _decode_record(text: msgspec.Raw) -> Any:
    try:
        return _RECORD_DECODER.decode(text)
    except msgspec.MsgspecError:
        pass
    # A float beyond double range: the standard library reads it as infinity, as it reads a
    # whole page msgspec refuses (``bodies.decode``). The page's syntax and UTF-8 were checked.
    try:
        return json.loads(bytes(text))
    except ValueError as exc:
        raise ConnectWiseRequestError(
            f"ConnectWise sent a record that is not valid JSON ({exc}).", status=200
        ) from None
