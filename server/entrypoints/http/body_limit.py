"""Refuse oversized and slow request bodies before any route sees them (ASGI middleware).

A body is read whole, up to `max_bytes` and within `timeout_s`, then handed on; API bodies are
small JSON documents, so buffering costs nothing and a slow or endless upload cannot hold a
worker or memory.
"""

import asyncio
import time
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int, timeout_s: float, refused: Counter) -> None:
        self.app, self.max_bytes, self.timeout_s, self.refused = app, max_bytes, timeout_s, refused

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, "too_large", 413, f"request body over {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    await self._refuse(send, "too_large", 413, f"request body over {self.max_bytes} bytes")
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except TimeoutError:
            detail = f"request body not received within {self.timeout_s:g} s"
            await self._refuse(send, "too_slow", 408, detail)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, reason: str, status: int, detail: str) -> None:
        self.refused.labels(reason).inc()
        body = orjson.dumps({"detail": detail})
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def refusal_counter(metrics: CollectorRegistry) -> Counter:
    refused = Counter(
        "yz_http_bodies_refused", "Request bodies refused: too large or slow", ["reason"], registry=metrics
    )
    for reason in ("too_large", "too_slow"):
        refused.labels(reason)
    return refused


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
