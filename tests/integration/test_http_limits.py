"""Oversized and slow request bodies are refused before any route reads them; the server keeps
serving everyone else."""

import time
from collections.abc import Iterator

import httpx

from tests.conftest import STATION_BODY


def test_an_oversized_body_is_refused_413_whether_declared_or_streamed(make_server) -> None:
    server = make_server(YZ_HTTP_MAX_BODY_KB="64")
    url = f"{server.url}/api/v1/stations/st-big"
    declared = httpx.put(url, content=b"x" * 200_000, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "65536 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # chunked: no Content-Length to judge by
        for _ in range(100):
            yield b" " * 4096

    streamed = httpx.put(url, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert server.metric("yz_http_bodies_refused_total", reason="too_large") == 2
    assert server.put_station("st-ok", STATION_BODY).status_code == 201  # a normal body still passes


def test_a_body_that_trickles_in_is_refused_408_and_others_are_served_meanwhile(make_server) -> None:
    server = make_server(YZ_HTTP_BODY_TIMEOUT_S="1")
    served_meanwhile: list[int] = []

    def trickle() -> Iterator[bytes]:
        yield b'{"name": '
        served_meanwhile.append(server.get("/api/v1/stations").status_code)
        time.sleep(3)
        yield b'"slow"}'

    slow = httpx.put(f"{server.url}/api/v1/stations/st-slow", content=trickle(), timeout=10)
    assert slow.status_code == 408
    assert served_meanwhile == [200]
    assert server.metric("yz_http_bodies_refused_total", reason="too_slow") == 1
    assert server.get("/api/v1/stations/st-slow").status_code == 404
