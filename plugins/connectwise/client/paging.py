"""Parallel page reading: split an entity's id range between a few keyset readers.

Each reader pages its own id window with the hook's stable keyset paging, so concurrency does
not weaken the no-skip/no-duplicate guarantee. The last window is open-ended, so records created
during the read are not cut off. The hook's request budget still bounds the total rate.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from connectwise.client.packed import Page

if TYPE_CHECKING:
    from connectwise.client.hook import ConnectWiseHook

_DONE = object()


def id_windows(first: int, last: int, parts: int) -> list[tuple[int, int | None]]:
    """Split ``first..last`` into ``parts`` windows ``(after, up_to)``; the last is open."""
    parts = max(1, parts)
    span = last - first + 1
    bounds = [first - 1 + (span * index) // parts for index in range(parts + 1)]
    windows: list[tuple[int, int | None]] = [
        (bounds[index], bounds[index + 1]) for index in range(parts)
    ]
    windows[-1] = (windows[-1][0], None)
    return windows


PAGES_PER_READER = 4  # fewer pages per reader waste more short pages at window ends


def read_pages(
    hook: ConnectWiseHook,
    endpoint: str,
    *,
    conditions: str | None = None,
    fields: list[str] | None = None,
    parallelism: int = 1,
    expected: int | None = None,
    start_after: int | None = None,
    key: str = "id",
) -> Iterator[Page]:
    """Yield every page of ``endpoint`` (keys after ``start_after``), using parallel readers.

    With ``expected`` records, up to ``parallelism`` readers each page through one id window,
    at least :data:`PAGES_PER_READER` pages each: every window ends on a short page, so a
    reader more costs at most one request more. Pages arrive in id order within a window but
    windows interleave; callers upsert, so order across pages does not matter. Without
    ``start_after`` the first window starts at the smallest id (one request to find it); the
    largest id is one request too. Pages are fetched in background threads (one page ahead when
    there is a single reader), and at most one page per reader plus the consumer's exists at
    once: memory follows the readers, not the entity. A page waits packed, as its body; the
    consumer decodes the one it takes, part by part.
    """
    page_size = hook.site.page_size
    pages = -(-expected // page_size) if expected is not None else None
    readers = min(parallelism, pages // PAGES_PER_READER) if pages is not None else parallelism
    window = partial(
        hook.paginate, endpoint, conditions=conditions, fields=fields, key=key, packed=True
    )
    if readers <= 1:
        yield from prefetch(window(start_after=start_after or 0))
        return
    edge = partial(hook.edge_id, endpoint, conditions=conditions, key=key)
    first = start_after + 1 if start_after is not None else edge(last=False)
    last = edge(last=True)
    if first is None or last is None or last < first:
        return
    windows = id_windows(first, last, readers)
    sources = [window(start_after=after, stop_at=up_to) for after, up_to in windows]
    # Each reader can have a request in flight while the consumer works on one page.
    yield from interleave(sources, depth=readers + 1)


def prefetch(pages: Iterable[Page], depth: int = 2) -> Iterator[Page]:
    """Yield from ``pages`` while a background thread already fetches the next one.

    ``depth`` counts the page the consumer works on: 2 keeps one page coming while it does.

    Waiting on the network then overlaps with mapping, checking and loading the current page.
    """
    return interleave([pages], depth=depth)


def interleave(sources: Sequence[Iterable[Page]], depth: int) -> Iterator[Page]:
    """Yield the pages of ``sources``, each read in its own thread, as they arrive.

    A :class:`PackedPage` is handed over as it is: its consumer decodes it (``parts_of``).

    At most ``depth`` pages exist at once, counting those being fetched, those waiting and the
    one the consumer works on: a reader takes a slot before it asks for a page and the consumer
    gives it back when it asks for the next, so a slow consumer bounds memory, not the readers.
    A reader's error is re-raised in the consumer; when the consumer stops early, the readers
    stop after their current page.
    """
    buffer: queue.SimpleQueue[Any] = queue.SimpleQueue()
    slots = threading.Semaphore(max(1, depth))
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_read,
            args=(source, buffer, slots, stop),
            name=f"cw-pages-{index}",
            daemon=True,
        )
        for index, source in enumerate(sources)
    ]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        while finished < len(threads):
            item = buffer.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
                del item  # not kept while waiting for the next page
                slots.release()
    finally:
        stop.set()
        for _ in threads:  # wake readers waiting for a slot, so they see ``stop``
            slots.release()
        while finished < len(threads):
            if buffer.get() is _DONE:
                finished += 1


def _read(
    source: Iterable[Page],
    buffer: queue.SimpleQueue[Any],
    slots: threading.Semaphore,
    stop: threading.Event,
) -> None:
    """One reader of :func:`interleave`: a page per slot taken, until done or stopped."""
    pages = iter(source)
    try:
        while True:
            slots.acquire()
            page = None if stop.is_set() else next(pages, None)
            if page is None:
                return
            buffer.put(page)
            del page  # the consumer's now: not kept while the next one is read
    except BaseException as exc:  # handed to the consumer, which re-raises it
        buffer.put(exc)
    finally:
        buffer.put(_DONE)
