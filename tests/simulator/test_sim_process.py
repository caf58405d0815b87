"""The command line and the two ways of running the simulator for other tests."""

from __future__ import annotations

import pytest
import requests

from simulator.testing import SimulatorProcess, running_simulator


def _get(handle, path: str) -> requests.Response:
    return requests.get(
        f"{handle.api_url}/{path}",
        timeout=10,
        auth=(f"{handle.company_id}+{handle.public_key}", handle.private_key),
        headers={"clientId": handle.client_id or ""},
    )


def test_cli_subprocess_serves_with_flags():
    with SimulatorProcess(
        scale="small",
        seed=3,
        extra_args=[
            "--deny-module",
            "Service Desk",
            "--company-id",
            "globex",
            "--public-key",
            "gpub",
            "--private-key",
            "gpriv",
            "--latency-ms",
            "1",
        ],
    ) as handle:
        assert handle.health() == {"ok": True, "scale": "small", "codebase": "v2025_1/"}
        assert handle.company_id == "globex" and handle.public_key == "gpub"
        assert _get(handle, "company/companies/count").json() == {"count": 50}
        assert _get(handle, "service/boards").status_code == 403
        info = requests.get(f"{handle.base_url}/login/companyinfo/globex", timeout=10).json()
        assert info["CompanyID"] == "globex"
        assert handle.stats()["requests_total"] >= 2


def test_running_simulator_takes_settings_and_exposes_the_handle():
    with running_simulator("small", seed=2, latency_ms=1, denied_modules=["Finance"]) as handle:
        assert handle.host == handle.base_url.removeprefix("http://")
        assert handle.codebase == "v2025_1/"
        assert (handle.company_id, handle.public_key) == ("acme", "acme-public")
        assert handle.private_key == "acme-private-s3cret"
        assert handle.client_id == "b2e0c3a4-1111-4222-8333-944455556666"
        assert _get(handle, "finance/agreements").status_code == 403
        assert len(handle.truth("company/contacts")) == 250


def test_running_simulator_rejects_unknown_settings():
    with (
        pytest.raises(TypeError, match="Unknown simulator setting"),
        running_simulator(colour="red"),
    ):
        pass
