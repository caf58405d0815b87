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

from connectwise.tenants import DEFAULT_TENANT, Tenant, configured_tenants, dag_tenants

READ_DAG = "connectwise_incremental_sync"  # reading its runs is what the console shows


def console_user(user: Annotated[Any, Depends(get_user)]) -> Any:
    """Return the logged-in Airflow user who may read the sync runs (of at least one tenant).

    ``get_user`` (Airflow's own dependency) raises 401 without a valid token or cookie.

    Raises:
        HTTPException: 403 for a user without read access to any tenant's sync DAG's runs.
    """
    if not readable_tenants(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Reading the runs of {READ_DAG} is needed")
    return user


def tenants_configured() -> bool:
    """Tell whether a tenants file lists the tenants (else there is the default one only)."""
    return configured_tenants() is not None


def readable_tenants(user: Any) -> list[Tenant]:
    """Return the tenants whose sync runs ``user`` may read (their ``READ_DAG``), in order."""
    return [tenant for tenant in dag_tenants() if may(user, "GET", tenant.dag_id(READ_DAG))]


def chosen_tenant(user: Any, tenant_id: str | None) -> Tenant:
    """Return the tenant a page asks for (``?tenant=``), the default one without a file.

    Raises:
        HTTPException: 404 for no tenant or an unknown one (when there are tenants), 403 for
            a tenant whose runs the user may not read.
    """
    tenants = dag_tenants()
    if tenant_id is None and tenants == [DEFAULT_TENANT]:
        return DEFAULT_TENANT
    found = next((tenant for tenant in tenants if tenant.id == tenant_id), None)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Choose a tenant: ?tenant=<id>")
    if not may(user, "GET", found.dag_id(READ_DAG)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Reading tenant {tenant_id} is needed")
    return found


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
