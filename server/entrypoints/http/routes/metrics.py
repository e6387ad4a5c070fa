"""GET /metrics: the server's counters in the Prometheus text format (docs/operations.md)."""

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from yizhan.server.entrypoints.http.deps import MetricsDep
from yizhan.server.entrypoints.http.metrics import render

router = APIRouter(tags=["ops"])


class PrometheusText(PlainTextResponse):
    media_type = "text/plain; version=0.0.4"


@router.get(
    "/metrics",
    response_class=PrometheusText,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {PrometheusText.media_type: {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(registry: MetricsDep) -> PrometheusText:
    return PrometheusText(render(registry))
