"""Airflow plugin: mount the ConnectWise callback receiver in the api-server at /connectwise.

Airflow does not authenticate plugin endpoints; the receiver checks the path token and each
delivery's signature itself (connectwise/callbacks/receiver.py). The app is built on its first
request (``connectwise.lazy_app``): every task process imports this file, none serves it.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from connectwise.lazy_app import AsgiApp, LazyApp


def build_receiver() -> AsgiApp:
    """Build the receiver's app, waking each tenant's callbacks DAG by asset events."""
    from connectwise.callbacks.receiver import create_app
    from connectwise.callbacks.wake import AssetEventWaker

    return create_app(waker=AssetEventWaker())


class ConnectWiseReceiverPlugin(AirflowPlugin):
    """Serve ``POST /connectwise/callbacks/{token}`` from the api-server."""

    name = "connectwise_receiver"
    fastapi_apps = [
        {
            "app": LazyApp(build_receiver),
            "url_prefix": "/connectwise",
            "name": "ConnectWise callback receiver",
        }
    ]
