"""Airflow plugin: mount the ConnectWise callback receiver in the api-server at /connectwise.

Airflow does not authenticate plugin endpoints; the receiver checks the path token and each
delivery's signature itself (connectwise/callbacks/receiver.py).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from connectwise.callbacks.receiver import create_app
from connectwise.callbacks.wake import AssetEventWaker


class ConnectWiseReceiverPlugin(AirflowPlugin):
    """Serve ``POST /connectwise/callbacks/{token}`` from the api-server."""

    name = "connectwise_receiver"
    fastapi_apps = [
        {
            "app": create_app(waker=AssetEventWaker()),
            "url_prefix": "/connectwise",
            "name": "ConnectWise callback receiver",
        }
    ]
