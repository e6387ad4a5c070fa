"""GET /api/v1/reports/audit: the monthly audit report, as JSON, CSV (Excel-ready) or printable HTML."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import HTMLResponse
from yizhan.server.application.audit_report import to_csv, to_html
from yizhan.server.application.reports import NotAMonth
from yizhan.server.entrypoints.http.deps import AuditReportsDep
from yizhan.server.entrypoints.http.schemas import AuditReport

router = APIRouter(tags=["audit"])


@router.get(
    "/api/v1/reports/audit",
    response_model=AuditReport,
    responses={
        200: {
            "description": "JSON; `format=csv`: a CSV file (UTF-8, BOM), `format=html`: a printable page",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
        }
    },
)
async def audit_report(
    reports: AuditReportsDep,
    month: Annotated[str, Query(description="YYYY-MM")],
    district: str | None = None,
    format: Literal["json", "csv", "html"] = "json",
) -> Response | dict[str, Any]:
    """The monthly audit report over the sealed station-days, per station and per district."""
    try:
        report = await reports.month_report(month, district)
    except NotAMonth as exc:
        raise HTTPException(422, str(exc)) from None
    if format == "csv":
        name = f"audit-{month}{'-' + district if district else ''}.csv"
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if format == "html":
        return HTMLResponse(to_html(report))
    return report
