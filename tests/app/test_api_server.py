import asyncio
import socket

import httpx
import pytest
from fastapi import FastAPI

from app.api_server import ApiServer
from engine.errors import ServiceError


def tiny_app() -> FastAPI:
    api = FastAPI()

    @api.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return api


async def test_serves_on_the_loop_and_stops() -> None:
    server = ApiServer(tiny_app(), port=0)
    await server.start()
    assert server.port > 0
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{server.url}/ping")).json() == {"pong": "yes"}
    await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{server.url}/ping")


async def test_busy_port_is_a_clear_error_not_an_exit() -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        with pytest.raises(ServiceError) as err:
            await ApiServer(tiny_app(), port=port).start()
        assert f"127.0.0.1:{port}" in str(err.value)
        assert "AIWEBTEST_API_PORT" in str(err.value)
        await asyncio.sleep(0)  # the loop is still alive
    finally:
        holder.close()
