"""The ``/_sim`` control API: not part of ConnectWise, no auth.

Product tests depend on these exact shapes; see ``simulator/README.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator import mutations
from simulator.errors import ApiError
from simulator.settings import MODULES, to_dict
from simulator.tables import TABLE_SETUP_ENDPOINTS

if TYPE_CHECKING:
    from simulator.core import Simulator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultsUpdate(_Strict):
    """Any subset of the fault settings."""

    latency_ms: int = Field(0, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    throttle_per_minute: int | None = Field(None, ge=1)
    throttle_window_seconds: float = Field(60.0, gt=0)
    retry_after_seconds: int = Field(1, ge=0)
    truncate_rate: float = Field(0.0, ge=0, le=1)
    hang_rate: float = Field(0.0, ge=0, le=1)
    hang_seconds: float = Field(30.0, ge=0)
    lost_write_responses: int = Field(0, ge=0)
    write_errors_before: int = Field(0, ge=0)
    write_errors_after: int = Field(0, ge=0)
    write_error_status: Literal[500, 502, 503, 504] = 502
    seed: int = 1


class AuthUpdate(_Strict):
    """Any subset of the credentials and security gaps."""

    company_id: str = Field("acme", min_length=1)
    public_key: str = Field("", min_length=1)
    private_key: str = Field("", min_length=1)
    client_id: str | None = None
    denied_modules: list[str] = Field(default_factory=list)
    hidden_tables: list[str] = Field(default_factory=list)

    @field_validator("denied_modules")
    @classmethod
    def _known_modules(cls, value: list[str]) -> list[str]:
        for name in value:
            if name.lower() not in (m.lower() for m in MODULES):
                raise ValueError(f"unknown module {name!r}; use one of: {', '.join(MODULES)}")
        return value

    @field_validator("hidden_tables")
    @classmethod
    def _known_tables(cls, value: list[str]) -> list[str]:
        names = list(TABLE_SETUP_ENDPOINTS)
        for name in value:
            if name.lower() not in (n.lower() for n in names):
                raise ValueError(f"unknown table {name!r}; use one of: {', '.join(names)}")
        return value


class CallbackSettingsUpdate(_Strict):
    """Delivery tuning."""

    retry_delay_scale: float = Field(1.0, ge=0)
    disable_after_failures: int = Field(20, ge=1)


class MutationRequest(_Strict):
    """A batch of changes to one collection."""

    path: str
    create: int = Field(0, ge=0)
    update: int = Field(0, ge=0)
    delete: int = Field(0, ge=0)
    spread_seconds: float = Field(0, ge=0)
    seed: int | None = None


def _apply(target: Any, update: BaseModel) -> None:
    for name, value in update.model_dump(exclude_unset=True).items():
        setattr(target, name, value)


def build_control_app(sim: Simulator) -> FastAPI:
    """Return the FastAPI app serving ``/_sim``."""
    app = FastAPI(title="ConnectWise simulator control", docs_url="/_sim/docs",
                  openapi_url="/_sim/openapi.json", redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "details": details}, status_code=400)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    _register_settings(app, sim)
    _register_data(app, sim)
    return app


def _register_settings(app: FastAPI, sim: Simulator) -> None:
    """Add health, statistics and the settings endpoints."""

    @app.get("/_sim/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "scale": sim.scale, "codebase": sim.codebase}

    @app.get("/_sim/stats")
    async def stats() -> dict[str, Any]:
        return sim.stats.snapshot()

    @app.post("/_sim/stats/reset")
    async def reset_stats() -> dict[str, Any]:
        sim.stats.reset()
        return {"ok": True}

    @app.get("/_sim/faults")
    async def get_faults() -> dict[str, Any]:
        return to_dict(sim.faults)

    @app.put("/_sim/faults")
    async def put_faults(update: FaultsUpdate) -> dict[str, Any]:
        fields = update.model_dump(exclude_unset=True)
        _apply(sim.faults, update)
        if "seed" in fields:
            sim.reseed_faults()
        if "throttle_per_minute" in fields or "throttle_window_seconds" in fields:
            sim.throttle.clear()
        return to_dict(sim.faults)

    @app.get("/_sim/auth")
    async def get_auth() -> dict[str, Any]:
        return to_dict(sim.auth)

    @app.put("/_sim/auth")
    async def put_auth(update: AuthUpdate) -> dict[str, Any]:
        _apply(sim.auth, update)
        return to_dict(sim.auth)

    @app.get("/_sim/callbacks/settings")
    async def get_callback_settings() -> dict[str, Any]:
        return to_dict(sim.callback_settings)

    @app.put("/_sim/callbacks/settings")
    async def put_callback_settings(update: CallbackSettingsUpdate) -> dict[str, Any]:
        _apply(sim.callback_settings, update)
        return to_dict(sim.callback_settings)


def _register_data(app: FastAPI, sim: Simulator) -> None:
    """Add mutation, truth and reset endpoints."""

    @app.post("/_sim/mutate")
    def mutate(body: MutationRequest) -> dict[str, list[int]]:
        return mutations.mutate(sim, body.path, body.create, body.update, body.delete,
                                body.spread_seconds, body.seed)

    @app.get("/_sim/mutations/idle")
    async def idle() -> dict[str, bool]:
        return {"idle": sim.mutations_idle()}

    @app.get("/_sim/truth")
    def truth(path: str) -> Response:
        if path not in sim.store:
            raise ApiError(400, {"error": f"unknown collection {path!r}",
                                 "collections": sorted(sim.store.collections)})
        with sim.store.lock:
            collection = sim.store[path]
            body = b"[" + b",".join(collection.json_bytes(i) for i in collection.ids) + b"]"
        return Response(body, media_type="application/json")

    @app.post("/_sim/reset")
    def reset() -> dict[str, Any]:
        sim.reset()
        return {"ok": True}
