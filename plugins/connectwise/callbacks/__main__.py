"""Run the callback receiver on its own: ``python -m connectwise.callbacks``.

For deployments that expose only the receiver, not the Airflow api-server. It reads the
``connectwise_default`` and ``connectwise_staging`` connections from ``AIRFLOW_CONN_*``
environment variables (or the configured secrets backend) and serves the same routes under
``/connectwise``. With ``CONNECTWISE_AIRFLOW_API_URL`` (plus ``CONNECTWISE_AIRFLOW_USERNAME``
and ``CONNECTWISE_AIRFLOW_PASSWORD``) it wakes the processing DAG through Airflow's REST API;
without, the DAG's periodic sweep applies deliveries.
"""

from __future__ import annotations

import argparse
import logging
import os

from fastapi import FastAPI

from connectwise.callbacks.config import ConfigSource
from connectwise.callbacks.receiver import create_app
from connectwise.callbacks.wake import RestWaker, Waker

MOUNT_PATH = "/connectwise"


def standalone_app() -> FastAPI:
    """Return the receiver mounted at ``/connectwise``, as in the api-server."""
    api_url = os.environ.get("CONNECTWISE_AIRFLOW_API_URL", "").strip()
    waker = (
        RestWaker(
            api_url,
            os.environ.get("CONNECTWISE_AIRFLOW_USERNAME", "admin"),
            os.environ.get("CONNECTWISE_AIRFLOW_PASSWORD", ""),
        )
        if api_url
        else Waker()
    )
    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    root.mount(MOUNT_PATH, create_app(ConfigSource(), waker))
    return root


def main() -> None:
    """Parse the command line and serve."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("CONNECTWISE_RECEIVER_HOST", "0.0.0.0"))  # noqa: S104
    port = int(os.environ.get("CONNECTWISE_RECEIVER_PORT", "8085"))
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(standalone_app(), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
