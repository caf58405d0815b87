"""Decoding response bodies: the fast decoder, and the standard library where it refuses."""

from __future__ import annotations

import pytest
import requests
from connectwise.transport import GARBLED, decode


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
    ],
    ids=["integer beyond 64 bits", "NaN", "byte order mark"],
)
def test_what_the_fast_decoder_refuses_the_standard_library_decodes(
    body: bytes, expected: object
) -> None:
    decoded = decode(response(body))
    if expected == "nan":
        assert decoded["rate"] != decoded["rate"]  # NaN is the only value unequal to itself
    else:
        assert decoded == expected


def test_a_body_in_a_declared_charset_is_decoded_in_it() -> None:
    assert decode(response('{"name": "Müller"}'.encode("latin-1"), charset="latin-1")) == {
        "name": "Müller"
    }


@pytest.mark.parametrize("body", [b'[{"id": 1}, {"id"', b"<html>Bad gateway</html>", b"\xff\xfe"])
def test_a_truncated_or_garbled_body_is_told_apart(body: bytes) -> None:
    assert decode(response(body)) is GARBLED


@pytest.mark.parametrize(("body", "status"), [(b"", 200), (b"", 204), (b"ignored", 204)])
def test_no_content_is_none(body: bytes, status: int) -> None:
    assert decode(response(body, status=status)) is None
