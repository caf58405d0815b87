"""Decoding response bodies: the fast decoder, and the standard library where it refuses."""

from __future__ import annotations

import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from decimal import Decimal

import msgspec
import pytest
import requests
from connectwise.client.bodies import GARBLED, decode, read_whole_body, request_json, spool_body
from connectwise.client.packed import PackedPage, decode_page, parts_of, records_of
from connectwise.client.paging import interleave
from connectwise.errors import ConnectWiseRequestError


def response(body: bytes, *, status: int = 200, charset: str | None = None) -> requests.Response:
    """A real ``requests.Response`` holding ``body``, as the session returns it."""
    answer = requests.Response()
    answer.status_code = status
    answer._content = body
    kind = "application/json" + (f"; charset={charset}" if charset else "")
    answer.headers["Content-Type"] = kind
    return answer


def test_a_page_decodes_to_its_records() -> None:
    page = b'[{"id": 1, "name": "Acme \xc3\xa9", "rate": 1.5, "tags": null}, {"id": 2}]'
    assert decode(response(page)) == [
        {"id": 1, "name": "Acme é", "rate": 1.5, "tags": None},
        {"id": 2},
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"id": 123456789012345678901234567890}', {"id": 123456789012345678901234567890}),
        (b'{"rate": NaN}', "nan"),
        (b'\xef\xbb\xbf{"id": 7}', {"id": 7}),  # a UTF-8 byte order mark
        (b'{"rate": 1e400}', {"rate": float("inf")}),
        (b'{"name": "\\ud800"}', {"name": "\ud800"}),  # a lone surrogate, escaped
    ],
    ids=["integer beyond 64 bits", "NaN", "byte order mark", "beyond double", "lone surrogate"],
)
def test_what_the_fast_decoder_refuses_the_standard_library_decodes(
    body: bytes, expected: object
) -> None:
    decoded = decode(response(body))
    if expected == "nan":
        assert decoded["rate"] != decoded["rate"]  # NaN is the only value unequal to itself
    else:
        assert decoded == expected


def test_a_page_decodes_exactly_as_the_standard_library_reads_it() -> None:
    page = json.dumps(
        [
            {
                "id": 2**70,
                "balance": -(2**65),
                "rate": 0.1 + 0.2,
                "tiny": 5e-324,
                "name": 'Zoë \u2014 \U0001f600 "quoted" \\ tab\t',
                "site": {"id": 1, "name": None, "tags": [True, False, [], {}]},
                "id_again": 3,
            },
        ]
    ).encode()
    page = page[:-1] + b', {"id": 4, "id": 5}]'  # a duplicate key: the last one wins
    assert decode(response(page)) == json.loads(page)


def test_a_body_in_a_declared_charset_is_decoded_in_it() -> None:
    assert decode(response('{"name": "Müller"}'.encode("latin-1"), charset="latin-1")) == {
        "name": "Müller"
    }


@pytest.mark.parametrize("body", [b'[{"id": 1}, {"id"', b"<html>Bad gateway</html>", b"\xff\xfe"])
def test_a_truncated_or_garbled_body_is_told_apart(body: bytes) -> None:
    assert decode(response(body)) is GARBLED


TRICKY_PAGE = (
    b'[{"id": 1, "name": "Zo\xc3\xab \\u2014 \\ud83d\\ude00",'
    b' "big": 123456789012345678901234567890,'
    b' "site": {"id": 9, "tags": [true, null, [], {}]}, "id": 1},'
    b' {"id": 2, "rate": 1e400, "tiny": 5e-324}, 7, "x"]'
)


def test_a_page_is_packed_and_decodes_exactly_as_the_standard_library_reads_it() -> None:
    page = decode_page(response(TRICKY_PAGE))
    assert isinstance(page, PackedPage)
    assert len(page) == 4
    assert page[1] == {"id": 2, "rate": float("inf"), "tiny": 5e-324}  # one record, alone
    assert records_of(page) == json.loads(TRICKY_PAGE)


@pytest.mark.parametrize(
    ("body", "charset", "expected"),
    [
        (b'[{"id": 7}, {"rate": NaN}]', None, "nan"),
        (b'\xef\xbb\xbf[{"id": 7}]', None, [{"id": 7}]),
        (b'[{"name": "\\ud800"}]', None, [{"name": "\ud800"}]),
        ('[{"name": "Müller"}]'.encode("latin-1"), "latin-1", [{"name": "Müller"}]),
    ],
    ids=["NaN", "byte order mark", "lone surrogate", "declared charset"],
)
def test_a_page_msgspec_refuses_or_not_in_utf8_is_decoded_whole(
    body: bytes, charset: str | None, expected: object
) -> None:
    page = decode_page(response(body, charset=charset))
    assert isinstance(page, list)
    if expected == "nan":
        assert page[0] == {"id": 7} and page[1]["rate"] != page[1]["rate"]
    else:
        assert page == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b'{"count": 3}', {"count": 3}), (b'[{"id": 1}, {"id"', GARBLED), (b"", None)],
    ids=["an object", "truncated", "empty"],
)
def test_a_body_that_is_not_a_page_decodes_as_any_other(body: bytes, expected: object) -> None:
    assert decode_page(response(body)) == expected


def test_a_waiting_page_holds_its_body_and_no_record_slices() -> None:
    # One page per parallel reader waits for the sync: its 1,000 record slices (~64 KB of
    # objects) are made again only when the sync takes the page.
    records = [{"id": number, "name": f"Contact {number}"} for number in range(1, 1001)]
    body = response(json.dumps(records).encode())
    tracemalloc.start()
    try:
        page = decode_page(body)
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(page, PackedPage) and len(page) == 1000
    assert held < 8 * 1024
    assert page[-1] == records[-1]  # the reader's next key, decoded alone
    assert [record for part in parts_of(page, 300) for record in part] == records


def test_a_part_stops_at_its_records_or_its_bytes_whichever_comes_first() -> None:
    records = [{"id": n, "note": "x" * (300 if n in (3, 4) else 10)} for n in range(1, 8)]
    page = decode_page(response(json.dumps(records).encode()))
    sizes = [len(part) for part in parts_of(page, 3, max_bytes=300)]
    assert sizes == [2, 1, 1, 3]  # 3 and 4 are wider than the bound: alone; 5-7: 3 records
    assert [record for part in parts_of(page, 3, max_bytes=300) for record in part] == records
    assert [len(part) for part in parts_of(page, 3, max_bytes=10)] == [1] * 7  # one at least


def test_a_record_no_json_reader_accepts_is_a_clear_error() -> None:
    text = b'{"id": 1, "x": [1e5000, }'  # never from a checked body
    page = PackedPage(b"[" + text + b"]", [msgspec.Raw(text)])
    with pytest.raises(ConnectWiseRequestError, match="not valid JSON"):
        page.records()


def test_packed_pages_reach_their_consumer_packed_and_decode_part_by_part() -> None:
    packed = decode_page(response(b'[{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}]'))
    pages = list(interleave([[packed], [[{"id": 6}]]], depth=2))
    assert sorted(map(len, pages)) == [1, 5]
    assert packed in pages
    assert list(parts_of(packed, 2)) == [
        [{"id": 1}, {"id": 2}],
        [{"id": 3}, {"id": 4}],
        [{"id": 5}],
    ]
    assert list(parts_of([{"id": 6}], 2)) == [[{"id": 6}]]  # a page decoded whole stays whole


@pytest.mark.parametrize(("body", "status"), [(b"", 200), (b"", 204), (b"ignored", 204)])
def test_no_content_is_none(body: bytes, status: int) -> None:
    assert decode(response(body, status=status)) is None


class _OneShotServer:
    """A real HTTP server on a socket that answers each request with a scripted reply."""

    def __init__(self, reply: Callable[[socket.socket], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/page"
        self._reply = reply
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            with client:
                while client.recv(65536).endswith(b"\r\n\r\n"):
                    self._reply(client)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[socket.socket], None]], _OneShotServer]]:
    servers: list[_OneShotServer] = []

    def start(reply: Callable[[socket.socket], None]) -> _OneShotServer:
        servers.append(_OneShotServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _headers(length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _get(
    session: requests.Session, url: str, read: Callable[[requests.Response], None] = read_whole_body
) -> requests.Response:
    answer = session.get(url, stream=True, timeout=(2, 0.3))
    read(answer)
    return answer


READERS = pytest.mark.parametrize("read", [read_whole_body, spool_body], ids=["whole", "spooled"])


@READERS
def test_a_whole_body_is_read_once_and_the_connection_is_kept(serve, read) -> None:
    page = b"[" + b",".join(b'{"id": %d}' % number for number in range(50_000)) + b"]"
    server = serve(lambda client: client.sendall(_headers(len(page)) + page))
    with requests.Session() as session:
        first, second = _get(session, server.url, read), _get(session, server.url, read)
    assert bytes(first.content) == bytes(second.content) == page
    assert decode(first) == [{"id": number} for number in range(50_000)]
    assert server.connections == 1  # returned to the pool after the read, not closed


@READERS
def test_a_body_cut_short_is_a_transport_error(serve, read) -> None:
    def cut(client: socket.socket) -> None:
        client.sendall(_headers(1000) + b'[{"id": 1}')
        client.shutdown(socket.SHUT_RDWR)

    server = serve(cut)
    with requests.Session() as session, pytest.raises(requests.exceptions.ChunkedEncodingError):
        _get(session, server.url, read)


@READERS
def test_a_body_that_stalls_is_a_read_timeout(serve, read) -> None:
    def stall(client: socket.socket) -> None:
        client.sendall(_headers(1000) + b'[{"id": 1}')
        time.sleep(1.5)

    server = serve(stall)
    with requests.Session() as session, pytest.raises(requests.ReadTimeout):
        _get(session, server.url, read)


def test_a_spooled_page_waits_in_its_file_not_in_memory(serve) -> None:
    records = [{"id": number, "name": "Zoë " + "x" * 1800} for number in range(1000)]
    page = json.dumps(records, ensure_ascii=False).encode()  # 1.8 MB, not ASCII
    server = serve(lambda client: client.sendall(_headers(len(page)) + page))
    with requests.Session() as session:
        tracemalloc.start()
        try:
            packed = decode_page(_get(session, server.url, spool_body))
            held, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert isinstance(packed, PackedPage)
    assert held < 300 * 1024  # the record slices, not the 1.8 MB body
    assert packed.records() == records


def test_a_spooled_body_only_the_standard_library_reads_still_decodes(serve) -> None:
    page = b'[{"id": 1, "rate": NaN}, {"id": 2, "rate": 1.5}]'
    server = serve(lambda client: client.sendall(_headers(len(page)) + page))
    with requests.Session() as session:
        decoded = decode_page(_get(session, server.url, spool_body))
    assert [record["id"] for record in decoded] == [1, 2]
    assert decoded[0]["rate"] != decoded[0]["rate"]  # NaN


def test_a_spooled_empty_body_is_no_page(serve) -> None:
    server = serve(lambda client: client.sendall(_headers(0)))
    with requests.Session() as session:
        answer = _get(session, server.url, spool_body)
    assert answer.content == b""
    assert decode_page(answer) is None


def test_a_request_body_sends_money_as_json_numbers() -> None:
    body = {"unitPrice": Decimal("100.1234"), "lines": [{"cost": Decimal("0.0001")}], "n": 2}

    sent = json.dumps(request_json(body))

    assert sent == '{"unitPrice": 100.1234, "lines": [{"cost": 0.0001}], "n": 2}'
