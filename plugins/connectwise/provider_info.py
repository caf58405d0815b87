"""Provider metadata: registers the ``connectwise`` connection type with Airflow's UI form."""

from __future__ import annotations

from typing import Any

from connectwise import __version__


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow's ProvidersManager reads."""
    return {
        "package-name": "connectwise-etl",  # must equal the distribution name
        "name": "ConnectWise ETL",
        "description": "ConnectWise PSA to SQL staging ETL: hook, sync engine and callbacks.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "connectwise",
                "hook-class-name": "connectwise.client.hook.ConnectWiseHook",
                "hook-name": "ConnectWise PSA",
                "ui-field-behaviour": {
                    # Port stays visible: Airflow 3.3.2's Test button sends 0 for an empty port
                    # and refuses a connection stored without one ("host or port differs"),
                    # so the form must let the operator store one (apache/airflow#73298).
                    "hidden-fields": ["schema"],
                    "relabeling": {
                        "host": "Site",
                        "login": "Public key",
                        "password": "Private key",
                    },
                    "placeholders": {
                        "host": "na.myconnectwise.net (hostname only, no https://)",
                        "port": "empty: 443 for https, 80 for http",
                        "login": "API member public key",
                        "extra": '{"scheme": "https", "page_size": 1000}',
                    },
                },
                "conn-fields": {
                    "company_id": {
                        "label": "Company",
                        "description": "The company identifier you log in to ConnectWise with",
                        "schema": {"type": ["string", "null"]},
                    },
                    "client_id": {
                        "label": "Client ID",
                        "description": "clientId GUID from developer.connectwise.com",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "callback_url": {
                        "label": "Callback URL",
                        "description": "Public base URL of the callback receiver, e.g. "
                        "https://airflow.example.com/connectwise (empty: no callbacks)",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
