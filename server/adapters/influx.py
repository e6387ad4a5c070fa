"""The InfluxDB adapter: line protocol to `/write`, InfluxQL to `/query` (the v1 HTTP API only).

That one interface is served by InfluxDB 1.x, by 2.x (DBRP mapping) and by 3.x.
"""

import logging

import httpx
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable, Series

log = logging.getLogger(__name__)


class InfluxClient:
    def __init__(
        self,
        url: str,
        database: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = (username, password or "") if username else None
        self.database = database
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=headers, auth=auth, timeout=timeout_s
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def ping(self) -> bool:
        try:
            resp = await self._http.get("/ping", timeout=5.0)
        except httpx.HTTPError:
            return False
        return resp.status_code in (200, 204)

    async def write(self, body: str | bytes) -> None:
        """Write line protocol with nanosecond times."""
        try:
            resp = await self._http.post(
                "/write",
                params={"db": self.database, "precision": "ns"},
                content=body if isinstance(body, bytes) else body.encode(),
            )
        except httpx.HTTPError as exc:
            raise InfluxUnavailable(f"write failed: {exc!r}") from exc
        if resp.status_code == 204:
            return
        if resp.status_code == 400:
            raise InfluxRejected(resp.text[:500])
        raise InfluxUnavailable(f"write answered {resp.status_code}: {resp.text[:200]}")

    async def query(self, q: str, epoch: str = "ms") -> list[list[Series]]:
        """Run InfluxQL statements (`;`-separated); per statement its series. Times in epoch ms
        (or `epoch="ns"`: points of one ms keep their seq order)."""
        try:
            resp = await self._http.get("/query", params={"db": self.database, "q": q, "epoch": epoch})
        except httpx.HTTPError as exc:
            raise InfluxUnavailable(f"query failed: {exc!r}") from exc
        if resp.status_code >= 500 or resp.status_code in (401, 403, 404):
            raise InfluxUnavailable(f"query answered {resp.status_code}: {resp.text[:200]}")
        payload = resp.json()
        if "error" in payload:
            raise InfluxRejected(payload["error"])
        out: list[list[Series]] = []
        for result in payload.get("results", []):
            if "error" in result:
                raise InfluxRejected(f"{result['error']} in {q[:200]}")
            out.append(
                [
                    Series(s["name"], s.get("tags") or {}, s["columns"], s.get("values") or [])
                    for s in result.get("series", [])
                ]
            )
        return out

    async def create_database(self) -> None:
        """Setup step for InfluxDB 1.x (2.x and 3.x create buckets/databases their own way)."""
        resp = await self._http.post("/query", params={"q": f'CREATE DATABASE "{self.database}"'})
        resp.raise_for_status()
