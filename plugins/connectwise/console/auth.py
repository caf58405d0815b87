"""Who may see the console: logged-in Airflow users, checked by Airflow's own auth manager.

Airflow serves plugin apps without authentication, so every console route asks for the user
itself, the same way Airflow's REST API does (``get_user``: a bearer token, else the UI's
session cookie). A page request without a valid session is sent to Airflow's login page and
comes back after it; any other request gets 401. Seeing the console needs read access to the
sync DAG's runs; the Re-process button appears only for users who may trigger the manual sync
(Airflow checks that again when the button calls its REST API).
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status

READ_DAG = "connectwise_incremental_sync"  # reading its runs is what the console shows


def console_user(user: Annotated[Any, Depends(get_user)]) -> Any:
    """Return the logged-in Airflow user who may read the sync runs.

    ``get_user`` (Airflow's own dependency) raises 401 without a valid token or cookie.

    Raises:
        HTTPException: 403 for a user without read access to the sync DAG's runs.
    """
    if not may(user, "GET", READ_DAG):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Reading the runs of {READ_DAG} is needed")
    return user


ConsoleUser = Annotated[Any, Depends(console_user)]


def may(user: Any, method: str, dag_id: str) -> bool:
    """Tell whether ``user`` may ``GET`` (read) or ``POST`` (trigger) runs of ``dag_id``."""
    return get_auth_manager().is_authorized_dag(
        method=method,  # type: ignore[arg-type]  # ResourceMethod is a Literal of these
        access_entity=DagAccessEntity.RUN,
        details=DagDetails(id=dag_id),
        user=user,
    )


def login_url(request: Request) -> str:
    """Airflow's login page, coming back to the page asked for."""
    return get_auth_manager().get_url_login(next_url=str(request.url))
