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


def _validator_accepts(value: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


EDGE = (
    ".a@b.co",
    "a.@b.co",
    "a..b@b.co",
    "a" * 64 + "@b.co",
    "a" * 65 + "@b.co",
    "a@" + "b" * 64 + ".co",
    "a@" + ".".join(["b" * 60] * 4) + ".co",
    "a@" + ".".join(["b" * 60] * 5) + ".co",
    "a@b.co.",
    "a@.b.co",
    "a@b..co",
    "a@-b.co",
    "a@b-.co",
    "a@ab--c.co",
    "a@xn--bcher-kva.example",
    "a@b.123",
    "a@localhost",
    "a@b.onion",
    "a@B.CO",
    "A+b=c/d{e}~f|g^h`i'j#k$l%m&n*o?p!q@b.co",
    '"a"@b.co',
    "a" * 60 + "@" + ".".join(["zü" * 5] * 11) + ".de",  # too long only in IDNA ASCII form
    "a@b_c.co",
)


@pytest.mark.parametrize("value", EDGE)
def test_the_fast_path_agrees_with_the_validator_on_edges(value: str) -> None:
    assert (email_problem(value) is None) == _validator_accepts(value)


def test_the_fast_path_agrees_with_the_validator_on_random_addresses() -> None:
    # Plain addresses are judged without the validator: any address the shortcut accepts must
    # be one the validator accepts, and every other one goes to the validator.
    import random

    chance = random.Random(13)
    local_chars = "ab.Z9+-_'!~\"é "
    label_chars = "aZ9-"
    endings = (
        *("com", "co.uk", "local", "test", "onion", "localhost", "123", "c-", "xn--p1ai", ""),
        *("zürich.example", "株式会社.example", "straße.de", "é" * 70 + ".fr", "a_b.com"),
        "\uff41\uff42.com",  # full-width letters: UTS-46 maps them to "ab"
    )
    disagreements = []
    for _ in range(4000):
        local = "".join(chance.choices(local_chars, k=chance.choice((0, 1, 5, 64, 65))))
        labels = [
            "".join(chance.choices(label_chars, k=chance.choice((0, 1, 3, 4, 62, 63, 64))))
            for _ in range(chance.randint(0, 3))
        ]
        value = f"{local}@{'.'.join([*labels, chance.choice(endings)])}"
        if (email_problem(value) is None) != _validator_accepts(value):
            disagreements.append(value)
    assert disagreements == []
