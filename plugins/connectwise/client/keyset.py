"""Keyset paging: one collection read page by page in the order of its integer key.

Pages are ``key > last key seen`` rather than page numbers, so records created or deleted while
we read cannot shift a page boundary and make us skip or repeat one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from connectwise.client.conditions import all_of
from connectwise.client.packed import PackedPage, Page
from connectwise.errors import ConnectWiseRequestError

Record = dict[str, Any]


def keyset_pages(
    get_page: Callable[..., Any],
    endpoint: str,
    *,
    size: int,
    conditions: str | None = None,
    fields: list[str] | None = None,
    start_after: int = 0,
    stop_at: int | None = None,
    key: str = "id",
) -> Iterator[Page]:
    """Yield the pages of ``endpoint`` with ``start_after < key <= stop_at``, as read.

    A page shorter than ``size`` (the server's maximum at most) is the last one. Of a
    :class:`PackedPage` only the last record is decoded here, for its key.

    Raises:
        ConnectWiseRequestError: the server ignored the key order or returned a non-list.
    """
    last_id = start_after
    while True:
        records = get_page(
            endpoint, params=page_params(key, last_id, stop_at, size, conditions, fields)
        )
        if not isinstance(records, list | PackedPage):
            raise ConnectWiseRequestError(
                f"GET {endpoint} returned {type(records).__name__}, expected a JSON array.",
                status=200,
            )
        if records:
            next_id = int(records[-1][key])
            if next_id <= last_id:
                raise ConnectWiseRequestError(
                    f"GET {endpoint} did not honour 'orderBy={key} asc'; refusing to page on.",
                    status=200,
                )
            yield records
            last_id = next_id
        if len(records) < size:
            return
        del records  # not held while the next page is read: a reader holds one page, not two


def page_params(
    key: str,
    after: int,
    up_to: int | None,
    size: int,
    conditions: str | None,
    fields: list[str] | None,
) -> dict[str, Any]:
    """Return the query of the page after ``after``: its window, the order and the size."""
    window = f"{key} > {after}" + (f" and {key} <= {up_to}" if up_to is not None else "")
    params: dict[str, Any] = {
        "conditions": all_of(window, conditions),
        "orderBy": f"{key} asc",
        "pageSize": size,
    }
    if fields:
        params["fields"] = ",".join(dict.fromkeys([key, *fields]))
    return params
