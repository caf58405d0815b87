"""The one e-mail rule of the quality gate and the write-back (connectwise.emails)."""

from __future__ import annotations

import pytest
from connectwise.emails import email_problem

BAD = ("@", "a@", "x@y", "a b@c.com", "a@b@c.com", "not-an-email@@example", " a@b.co", "a@b.local")
GOOD = ("a@b.co", "first.last+tag@sub.example.co.uk", "üser@exämple.de", "x@xn--bcher-kva.example")


@pytest.mark.parametrize("value", BAD)
def test_malformed_address_gets_the_validators_reason(value: str) -> None:
    problem = email_problem(value)
    assert problem and problem.endswith(".")  # a sentence from email-validator, not a bool


@pytest.mark.parametrize("value", GOOD)
def test_valid_address_has_no_problem(value: str) -> None:
    assert email_problem(value) is None


def test_non_text_is_a_problem_not_a_crash() -> None:
    assert email_problem(42) == "expected text, not int"
