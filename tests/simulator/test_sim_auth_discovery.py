"""Authentication, clientId, discovery and security roles."""

from __future__ import annotations

import requests

from simulator import TABLE_SETUP_ENDPOINTS


def _get(sim, path: str, auth=None, headers=None) -> requests.Response:
    return requests.get(f"{sim.api_url}/{path}", auth=auth, headers=headers or {}, timeout=10)


def _good_auth(sim) -> tuple[str, str]:
    return (f"{sim.company_id}+{sim.public_key}", sim.private_key)


def test_good_credentials_and_client_id_are_accepted(sim):
    response = _get(sim, "system/info", _good_auth(sim), {"clientId": sim.client_id})
    assert response.status_code == 200
    assert response.headers["api-current-version"]
    assert response.headers["x-server-name"]
    assert response.json()["isCloud"] is True


def test_client_id_header_name_is_case_insensitive(sim):
    for name in ("ClientId", "ClientID", "clientid"):
        assert _get(sim, "system/info", _good_auth(sim), {name: sim.client_id}).status_code == 200


def test_wrong_private_key_is_401(sim):
    response = _get(
        sim, "system/info", (f"acme+{sim.public_key}", "nope"), {"clientId": sim.client_id}
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": "Unauthorized",
        "message": "The supplied authentication is incorrect",
    }


def test_wrong_company_is_401(sim):
    response = _get(
        sim,
        "system/info",
        (f"other+{sim.public_key}", sim.private_key),
        {"clientId": sim.client_id},
    )
    assert response.status_code == 401


def test_missing_authorization_is_401_user_not_authenticated(sim):
    response = _get(sim, "system/info", None, {"clientId": sim.client_id})
    assert response.status_code == 401
    assert response.json()["message"] == "UserNotAuthenticated"


def test_missing_client_id_is_400_with_clear_message(sim):
    response = _get(sim, "system/info", _good_auth(sim))
    assert response.status_code == 400
    assert "clientId" in response.json()["message"]


def test_wrong_client_id_is_rejected(sim):
    response = _get(sim, "system/info", _good_auth(sim), {"clientId": "not-the-one"})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidClientId"


def test_configured_credentials_can_change(sim):
    sim.set_auth(public_key="pub2", private_key="priv2", client_id=None)
    ok = _get(sim, "system/info", ("acme+pub2", "priv2"), {"clientId": "anything"})
    assert ok.status_code == 200
    assert _get(sim, "system/info", ("acme+pub2", "priv2")).status_code == 400


def test_company_info_for_known_company(sim):
    body = requests.get(f"{sim.base_url}/login/companyinfo/acme", timeout=10).json()
    assert body == {
        "CompanyName": "Acme IT Solutions",
        "Codebase": "v2025_1/",
        "VersionCode": "v2025.1",
        "VersionNumber": body["VersionNumber"],
        "CompanyID": "acme",
        "IsCloud": True,
    }
    assert body["VersionNumber"].startswith("v4.6.")


def test_company_info_for_unknown_company_is_json_null(sim):
    response = requests.get(f"{sim.base_url}/login/companyinfo/nobody", timeout=10)
    assert response.status_code == 200
    assert response.text == "null"


def test_both_codebases_and_double_slash_are_served(sim):
    headers = {"clientId": sim.client_id}
    for base in ("v2025_1/apis/3.0", "v4_6_release/apis/3.0", "v2025_1//apis/3.0"):
        response = requests.get(
            f"{sim.base_url}/{base}/company/companies/count",
            auth=_good_auth(sim),
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200, base
        assert response.json() == {"count": 50}


def test_unknown_codebase_and_path_are_endpoint_missing(sim, api):
    assert (
        requests.get(f"{sim.base_url}/v1999_1/apis/3.0/company/companies", timeout=10).status_code
        == 404
    )
    response = api.get("company/nothingHere")
    assert response.status_code == 404
    assert response.json() == {"code": "ConnectWiseApi", "message": "The endpoint does not exist."}


def test_denied_module_answers_403_for_its_endpoints_only(sim, api):
    sim.set_auth(denied_modules=["Sales"])
    response = api.get("sales/opportunities")
    assert response.status_code == 403
    assert "Improper security role settings" in response.json()["message"]
    assert api.get("sales/stages").status_code == 403
    assert api.get("company/companies").status_code == 200


def test_every_module_can_be_denied(sim, api):
    probes = {
        "Companies": "company/companies",
        "Finance": "expense/paymentTypes",
        "Marketing": "marketing/groups",
        "Procurement": "procurement/catalog",
        "Project": "project/projects",
        "Sales": "sales/activities",
        "Service Desk": "service/boards",
        "System": "system/members",
    }
    for module, path in probes.items():
        sim.set_auth(denied_modules=[module])
        assert api.get(path).status_code == 403, module
    sim.set_auth(denied_modules=[])
    assert all(api.get(p).status_code == 200 for p in probes.values())


def test_my_security_reflects_denied_module(sim, api):
    sim.set_auth(denied_modules=["Finance"])
    rows = api.rows("system/mySecurity")
    finance = [r for r in rows if r["moduleName"] == "Finance"]
    assert finance and all(r["inquireLevel"] == "None" for r in finance)
    assert all(r["inquireLevel"] == "All" for r in rows if r["moduleName"] == "Sales")


def test_hidden_table_answers_403_naming_the_table(sim, api):
    sim.set_auth(hidden_tables=["Sales Stage", "Subcategory"])
    response = api.get("sales/stages")
    assert response.status_code == 403
    assert "Sales Stage" in response.json()["message"]
    assert api.get("procurement/subcategories").status_code == 403
    assert api.get("sales/opportunities/statuses").status_code == 200


def test_all_table_setup_endpoints_read(api):
    assert len(TABLE_SETUP_ENDPOINTS) == 23
    for name, path in TABLE_SETUP_ENDPOINTS.items():
        rows = api.rows(path)
        assert rows, name
        assert all("_info" in r for r in rows)


def test_security_roles_and_settings_spellings(api):
    roles = api.rows("system/securityroles")
    assert {"Admin", "API Integration"} <= {r["name"] for r in roles}
    for spelling in ("securityroles", "securityRoles"):
        assert api.get(f"system/{spelling}/{roles[0]['id']}/settings").status_code == 200
