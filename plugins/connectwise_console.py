"""Airflow plugin: the ConnectWise console in the Airflow UI's navigation.

The pages are served by the console's FastAPI app at ``/connectwise-console`` (in the
api-server) and shown inside the UI through ``external_views``. Airflow does not authenticate
plugin apps, so the app checks the logged-in user itself (``connectwise/console/auth.py``).
The app is built on its first request (``connectwise.lazy_app``): every task process imports
this file, and none of them serves the console.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from connectwise.console import URL_PREFIX
from connectwise.console.connection_test import EmptyPortOnTest
from connectwise.lazy_app import AsgiApp, LazyApp

ICON = f"{URL_PREFIX}/static/icon.svg"
ISSUES_ICON = f"{URL_PREFIX}/static/issues.svg"


def build_console() -> AsgiApp:
    """Build the console's FastAPI app (imported here: only the api-server builds it)."""
    from connectwise.console.app import create_app

    return create_app()


class ConnectWiseConsolePlugin(AirflowPlugin):
    """Sync health and Issues pages for operators."""

    name = "connectwise_console"
    fastapi_apps = [
        {"app": LazyApp(build_console), "url_prefix": URL_PREFIX, "name": "ConnectWise console"}
    ]
    # The connection form's Test button with an empty Port (apache/airflow#73298, for 3.3.2).
    fastapi_root_middlewares = [
        {
            "middleware": EmptyPortOnTest,
            "args": [],
            "kwargs": {},
            "name": "ConnectWise: Test with an empty port",
        }
    ]
    external_views = [
        {
            "name": "ConnectWise",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "connectwise",
            "icon": ICON,
            "nav_top_level": True,  # in the sidebar itself, not in the Plugins menu
        },
        {
            "name": "Issues",  # the sidebar fits about eight characters
            "href": f"{URL_PREFIX}/issues",
            "destination": "nav",
            "url_route": "connectwise-issues",
            "icon": ISSUES_ICON,
            "nav_top_level": True,
        },
    ]
