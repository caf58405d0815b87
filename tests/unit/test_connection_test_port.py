"""The Test-button fix leaves out ``port: 0`` for connectwise connections, and nothing else."""

from __future__ import annotations

import json

import pytest
from connectwise.console.connection_test import EmptyPortOnTest, without_empty_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient


def body(**values) -> bytes:
    return json.dumps({"connection_id": "cw", "conn_type": "connectwise", **values}).encode()


def test_port_zero_of_a_connectwise_connection_is_left_out():
    assert "port" not in json.loads(without_empty_port(body(port=0, host="h")))


@pytest.mark.parametrize(
    "sent",
    [
        body(port=443),
        body(),
        body(port=None),
        body(port=False),
        json.dumps({"conn_type": "http", "port": 0}).encode(),
        b"not json",
        b"[0]",
    ],
)
def test_everything_else_is_passed_on_unchanged(sent):
    assert without_empty_port(sent) == sent


def echo_app() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        raw = await request.body()
        return JSONResponse({"body": raw.decode(), "length": request.headers.get("content-length")})

    app = Starlette(routes=[Route("/api/v2/connections/test", echo, methods=["POST"])])
    app.add_middleware(EmptyPortOnTest)
    return app


def test_the_middleware_rewrites_the_request_airflow_receives():
    client = TestClient(echo_app())
    seen = client.post("/api/v2/connections/test", content=body(port=0, host="h")).json()
    expected = {"connection_id": "cw", "conn_type": "connectwise", "host": "h"}
    assert json.loads(seen["body"]) == expected
    assert seen["length"] == str(len(seen["body"]))
    kept = client.post("/api/v2/connections/test", content=body(port=8080)).json()
    assert json.loads(kept["body"])["port"] == 8080
