"""Request and response bodies: amounts as JSON numbers; one read per body, lean fast JSON."""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from connectwise.client.scratch import scratch_errors, scratch_file


@dataclass(frozen=True)
class ApiResponse:
    """A decoded API response: status, JSON body (None for 204) and headers."""

    status: int
    data: Any
    headers: requests.structures.CaseInsensitiveDict[str]


GARBLED = object()
"""Returned by :func:`decode` for a body that is not JSON (truncated or garbled)."""

# msgspec builds a page's objects as they are parsed: a page of 1,000 contacts (1.8 MB) peaks at
# the 6 MB of objects it returns, where orjson's parse tree first took 27 MB (and the standard
# library 9 MB, a third slower). It keeps integers of any size exact. What it refuses but JSON
# readers accept (NaN, a byte order mark, a float beyond double range, a lone surrogate, another
# charset) goes to the standard library.
DECODER = msgspec.json.Decoder()
# A spooled page is read 32 KB at a time: each parallel reader holds one slice in the heap
# (urllib3 allocates each read's bytes anew). Measured at large: the same sync time as 64 or
# 256 KB; 16 KB began to cost (each read waits to take the GIL back).
SPOOL_SLICE = 32 * 1024


def request_json(body: Any) -> Any:
    """Return ``body`` with each ``Decimal`` (money read from PostgreSQL) as a JSON number.

    The standard library's JSON, which ``requests`` uses, refuses ``Decimal``. A float's
    shortest text is the amount as stored for up to 15 significant digits, which every
    NUMERIC(18,4) price below 100 billion is.
    """
    if isinstance(body, Decimal):
        return float(body)
    if isinstance(body, dict):
        return {key: request_json(value) for key, value in body.items()}
    if isinstance(body, list | tuple):
        return [request_json(value) for value in body]
    return body


def read_whole_body(response: requests.Response) -> None:
    """Read a response sent with ``stream=True`` in one call and keep it as its content.

    ``requests`` reads a body 10 KB at a time, and each read lets go of the GIL and must take
    it back. While the sync maps and loads on other threads, each take waited its turn: a page
    of 1,000 contacts (1.8 MB) took ~165 ms to read beside one busy thread, against ~15 ms
    read in one call. Errors become the ``requests`` errors its own reading raises, except
    that a read timeout is a :class:`requests.ReadTimeout`, which is what it is.
    """
    with _read_errors(response):
        body = response.raw.read(decode_content=True)
    # What ``Response.content`` sets after reading; later reads of it return these bytes.
    response._content = body or b""
    response._content_consumed = True


def read_body(response: requests.Response, *, spool: bool = False) -> None:
    """Read a body: with ``spool``, a successful answer's (a page) into a temporary file."""
    if spool and response.status_code < 400:
        spool_body(response)
    else:
        read_whole_body(response)


def spool_body(response: requests.Response) -> None:
    """Read a page's body into a temporary file and keep it, mapped, as its content.

    A page waits for the sync as its body, and several wait at once (one per parallel reader
    and one more): 1,000 contacts are 1.8 MB, so the sync's memory followed the readers times
    the record width. Spooled, a waiting page costs a file (its pages cached by the kernel,
    which may write them out) and its records' slices are read from the mapping
    (``PackedPage``). It is read :data:`SPOOL_SLICE` at a time, few enough reads for the GIL
    (see :func:`read_whole_body`). The file is unlinked at once; the mapping lives as long
    as the page does. ``Response.content`` is then a ``memoryview``.
    """
    holds = "a page of records"
    with _read_errors(response), scratch_file("cw-page-", holds) as spooled:
        while data := response.raw.read(SPOOL_SLICE, decode_content=True):
            with scratch_errors(holds):
                spooled.write(data)
            del data  # not held while the next slice is read
        size = spooled.tell()
        with scratch_errors(holds):
            spooled.flush()
            mapped = mmap.mmap(spooled.fileno(), size, access=mmap.ACCESS_READ) if size else None
    body = memoryview(mapped) if mapped is not None else b""
    response._content = body
    response._content_consumed = True


@contextmanager
def _read_errors(response: requests.Response) -> Iterator[None]:
    """Raise the ``requests`` errors that ``requests``' own reading of a body raises."""
    try:
        yield
    except ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc, response=response) from None
    except ProtocolError as exc:  # e.g. the connection closed before Content-Length
        raise requests.exceptions.ChunkedEncodingError(exc, response=response) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc, response=response) from None
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc, response=response) from None


def decode(response: requests.Response) -> Any:
    """Return the JSON body (None for 204 or empty), or :data:`GARBLED` if it does not parse."""
    if response.status_code == 204 or not response.content:
        return None
    body = response.content
    try:
        return DECODER.decode(body)
    except (msgspec.MsgspecError, UnicodeDecodeError):  # NaN, a BOM, another charset, garbage
        pass
    try:
        # From the bytes: twice as fast as ``response.json()``, which parses a decoded str.
        return json.loads(body)
    except UnicodeDecodeError:  # not UTF-8: let requests honour the declared charset
        pass
    except ValueError:
        return GARBLED
    try:
        return response.json()
    except ValueError:
        return GARBLED


def json_or_none(response: requests.Response) -> Any:
    """Return the JSON body, or None when there is none."""
    try:
        return response.json()
    except ValueError:
        return None
