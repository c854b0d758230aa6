"""Imports: sample points and the expert group's case lists, row errors beside the rows."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from console.api import ApiError
from console.web import CheckedForm, CurrentViewer, render

router = APIRouter()

KINDS = {
    "sample-points": ("registry", "/v1/sample-points/import", "import_points"),
    "cases": ("inspections", "/v1/cases/import", "import_cases"),
}
SHOWN_ROWS = 500


def file_rows(data: bytes, filename: str) -> list[list[Any]]:
    """The file's rows (header first) to show beside the errors; [] when unreadable."""
    try:
        if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            return [
                list(row)
                for _, row in zip(
                    range(SHOWN_ROWS + 1), sheet.iter_rows(values_only=True), strict=False
                )
            ]
        text = data.decode("utf-8-sig")
        return [
            row
            for _, row in zip(range(SHOWN_ROWS + 1), csv.reader(io.StringIO(text)), strict=False)
        ]
    except Exception:  # noqa: BLE001 — a file we cannot show is still the API's to judge
        return []


@router.get("/imports")
async def imports_page(request: Request, viewer: CurrentViewer):
    """The two upload forms."""
    return render(request, "imports.html", kinds=KINDS)


@router.post("/imports/{kind}")
async def upload(request: Request, viewer: CurrentViewer, kind: str, form: CheckedForm):
    """Send the file to the service's import; on refusal show each error beside its row."""
    if kind not in KINDS:
        return render(request, "error.html", 404, message_key="not_found")
    service, path, title = KINDS[kind]
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "imports.html", 422, kinds=KINDS, kind=kind, error="file?")
    data = await upload.read()
    try:
        answer = await viewer.api.request(
            service,
            "POST",
            path,
            files={
                "file": (upload.filename, data, upload.content_type or "application/octet-stream")
            },
        )
    except ApiError as exc:
        if exc.status in (401, 403, 404):
            raise
        by_row: dict[int, list[str]] = defaultdict(list)
        general: list[str] = []
        for error in exc.errors:
            column = error.get("column") or (error.get("loc") or [None])[-1]
            text = f"{column}: {error.get('msg', '')}" if column else str(error.get("msg", ""))
            if isinstance(error.get("row"), int):
                by_row[error["row"]].append(text)
            else:
                general.append(text)
        return render(
            request,
            "imports.html",
            422,
            kinds=KINDS,
            kind=kind,
            error=exc.message,
            general=general,
            rows=file_rows(data, upload.filename),
            row_errors=dict(by_row),
        )
    return render(request, "imports.html", kinds=KINDS, kind=kind, result=answer.json())
