"""Connection validation: the site field, the required fields and the tuning extras."""

from __future__ import annotations

from typing import Any

import pytest
from connectwise.client.site import EXTRA_KEYS, ConnectWiseSite, site_from_connection, validate_site
from connectwise.errors import ConnectWiseConnectionError

PRIVATE_KEY = "priv-5ecret-9b1f"
CLIENT_ID = "0b1c7a3e-client-guid"


def make_site(
    host: str | None = "na.myconnectwise.net",
    login: str | None = "pub-key",
    password: str | None = PRIVATE_KEY,
    **extra: Any,
) -> ConnectWiseSite:
    """Build a site from valid connection fields; ``extra`` overrides, ``None`` removes a key."""
    fields: dict[str, Any] = {"company_id": "acme", "client_id": CLIENT_ID, **extra}
    return site_from_connection(
        host, login, password, {k: v for k, v in fields.items() if v is not None}
    )


# --- validate_site ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["na.myconnectwise.net", "cw.example.com:8443", "localhost"])
def test_validate_site_accepts_a_bare_hostname_with_optional_port(host: str) -> None:
    assert validate_site(host) == host


def test_validate_site_strips_surrounding_whitespace() -> None:
    assert validate_site("  na.myconnectwise.net \n") == "na.myconnectwise.net"


def test_validate_site_rejects_a_url_and_suggests_the_bare_host() -> None:
    with pytest.raises(ConnectWiseConnectionError) as caught:
        validate_site("https://na.myconnectwise.net")
    message = str(caught.value)
    assert "'na.myconnectwise.net'" in message
    assert "http://" in message


def test_validate_site_rejects_a_url_with_path_and_suggests_only_the_host() -> None:
    with pytest.raises(ConnectWiseConnectionError, match=r"e\.g\. 'cw\.example\.com'"):
        validate_site("http://cw.example.com/v4_6_release/apis/3.0")


def test_validate_site_rejects_a_path_and_names_the_host_part() -> None:
    with pytest.raises(ConnectWiseConnectionError) as caught:
        validate_site("na.myconnectwise.net/v4_6_release")
    message = str(caught.value)
    assert "path" in message
    assert "'na.myconnectwise.net'" in message


@pytest.mark.parametrize("host", [None, "", "   "])
def test_validate_site_rejects_an_empty_site(host: str | None) -> None:
    with pytest.raises(ConnectWiseConnectionError, match="no site"):
        validate_site(host)


@pytest.mark.parametrize(
    "host", ["na myconnectwise.net", "cw example", "-cw.example.com", "cw_1.example"]
)
def test_validate_site_rejects_a_value_that_is_not_a_hostname(host: str) -> None:
    with pytest.raises(ConnectWiseConnectionError, match="is not a hostname"):
        validate_site(host)


# --- site_from_connection --------------------------------------------------------------------


def test_site_from_connection_builds_a_site_with_defaults() -> None:
    site = make_site()

    assert (site.company_id, site.public_key, site.private_key) == ("acme", "pub-key", PRIVATE_KEY)
    assert site.scheme == "https"
    assert site.page_size == 1000
    assert site.auth_username == "acme+pub-key"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"company_id": None}, "company_id"),
        ({"company_id": "  "}, "company_id"),
        ({"client_id": None}, "client_id"),
        ({"login": None}, "Login"),
        ({"password": ""}, "Password"),
    ],
)
def test_site_from_connection_names_the_missing_required_field(
    overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConnectWiseConnectionError, match="missing") as caught:
        make_site(**overrides)
    assert named in str(caught.value)


def test_site_from_connection_rejects_unknown_extra_keys_and_lists_allowed_ones() -> None:
    with pytest.raises(ConnectWiseConnectionError) as caught:
        make_site(page_sise=100)
    message = str(caught.value)
    assert "page_sise" in message
    assert all(key in message for key in EXTRA_KEYS)


def test_site_from_connection_rejects_a_scheme_other_than_http_or_https() -> None:
    with pytest.raises(ConnectWiseConnectionError, match=r"'ftp'.*'https'.*'http'"):
        make_site(scheme="ftp")


def test_site_from_connection_accepts_http_for_on_premise_servers() -> None:
    assert (
        make_site(host="cw.example.com:8080", scheme="HTTP").origin == "http://cw.example.com:8080"
    )


@pytest.mark.parametrize("page_size", [0, 1001, -5, "ten", "10.5"])
def test_site_from_connection_rejects_page_size_outside_1_to_1000(page_size: object) -> None:
    with pytest.raises(ConnectWiseConnectionError, match=r"'page_size'.*from 1 to 1000"):
        make_site(page_size=page_size)


@pytest.mark.parametrize("page_size", [1, "250", 1000])
def test_site_from_connection_accepts_page_size_within_1_to_1000(page_size: object) -> None:
    assert make_site(page_size=page_size).page_size == int(page_size)  # type: ignore[call-overload]


@pytest.mark.parametrize("key", ["connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", ["abc", "", None, [5], -1, 0])
def test_site_from_connection_rejects_a_timeout_that_is_not_a_positive_number(
    key: str, value: object
) -> None:
    extra = {"company_id": "acme", "client_id": CLIENT_ID, key: value}
    with pytest.raises(ConnectWiseConnectionError, match=f"'{key}'.*positive number"):
        site_from_connection("na.myconnectwise.net", "pub", "priv", extra)


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_site_from_connection_rejects_a_timeout_that_is_not_finite(value: str) -> None:
    with pytest.raises(ConnectWiseConnectionError, match="'read_timeout'"):
        make_site(read_timeout=value)


def test_site_from_connection_reads_numeric_strings_as_timeouts() -> None:
    site = make_site(connect_timeout="2.5", read_timeout=30)
    assert (site.connect_timeout, site.read_timeout) == (2.5, 30.0)


def test_site_from_connection_normalises_the_codebase_to_one_trailing_slash() -> None:
    assert make_site(codebase="/v2025_1").codebase == "v2025_1/"


def test_site_from_connection_rejects_verify_ssl_that_is_not_a_boolean() -> None:
    with pytest.raises(ConnectWiseConnectionError, match=r"'verify_ssl'.*true or false"):
        make_site(verify_ssl="maybe")


# --- api_host and secrets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "api_host"),
    [
        ("na.myconnectwise.net", "api-na.myconnectwise.net"),
        ("EU.MyConnectWise.net", "api-eu.myconnectwise.net"),
        ("au.myconnectwise.net", "api-au.myconnectwise.net"),
        ("staging.connectwisedev.com", "api-staging.connectwisedev.com"),
    ],
)
def test_api_host_maps_a_cloud_ui_host_to_its_api_host(host: str, api_host: str) -> None:
    assert make_site(host=host).api_host == api_host


@pytest.mark.parametrize(
    "host", ["cw.example.com", "cw.example.com:8443", "api-na.myconnectwise.net"]
)
def test_api_host_leaves_an_on_premise_or_api_host_unchanged(host: str) -> None:
    assert make_site(host=host).api_host == host


def test_site_repr_contains_neither_private_key_nor_client_id() -> None:
    site = make_site()

    text = f"{site!r} {site!s}"

    assert PRIVATE_KEY not in text
    assert CLIENT_ID not in text
    assert "acme" in text  # repr is still useful


# --- the Port field ----------------------------------------------------------------------------


def site_on_port(host: str, port: int | None, scheme: str = "https") -> ConnectWiseSite:
    extra = {"company_id": "acme", "client_id": CLIENT_ID, "scheme": scheme}
    return site_from_connection(host, "pub-key", PRIVATE_KEY, extra, port=port)


@pytest.mark.parametrize("port", [None, 0])
def test_no_port_and_port_0_both_mean_the_schemes_default(port: int | None) -> None:
    # 0 is what Airflow 3.3.2's connection list sends for a connection without a port.
    assert site_on_port("cw.example.com", port).origin == "https://cw.example.com"


def test_a_port_other_than_the_schemes_default_is_added_to_the_site() -> None:
    site = site_on_port("127.0.0.1", 8080, scheme="http")

    assert site.site == "127.0.0.1:8080"
    assert site.origin == "http://127.0.0.1:8080"


@pytest.mark.parametrize(("scheme", "port"), [("https", 443), ("http", 80)])
def test_the_schemes_default_port_keeps_a_cloud_host_mapped_to_its_api_host(
    scheme: str, port: int
) -> None:
    site = site_on_port("na.myconnectwise.net", port, scheme=scheme)

    assert site.origin == f"{scheme}://api-na.myconnectwise.net"


def test_a_port_in_both_site_and_port_is_accepted_when_they_agree() -> None:
    assert site_on_port("cw.example.com:8443", 8443).origin == "https://cw.example.com:8443"


def test_a_port_in_site_that_contradicts_port_is_refused_naming_both() -> None:
    with pytest.raises(ConnectWiseConnectionError) as caught:
        site_on_port("cw.example.com:8443", 9443)

    message = str(caught.value)
    assert "port 8443 but Port is 9443" in message
    assert "Site 'cw.example.com' and Port 9443" in message


@pytest.mark.parametrize("port", [-1, 65536])
def test_a_port_outside_the_tcp_range_is_refused(port: int) -> None:
    with pytest.raises(ConnectWiseConnectionError, match=rf"Port {port} is not a TCP port: use 1"):
        site_on_port("cw.example.com", port)
