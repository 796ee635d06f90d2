"""One table from error class to HTTP status (and CLI exit code), looked up along the MRO.

A test fails if a class of ``pipeline.errors`` is not covered.  No HTTPException is
raised outside routes; everything else is a NaskahError rendered here as
``{"code", "message", "detail"}``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline import errors as e

__all__ = ["STATUS", "ErrorBody", "exit_code", "http_status", "install", "validation_message"]

log = logging.getLogger(__name__)

# error class -> (HTTP status, CLI exit code)
STATUS: dict[type[e.NaskahError], tuple[int, int]] = {
    e.NaskahError: (500, 1),
    e.NotFound: (404, 3),
    e.Unauthenticated: (401, 4),
    e.NotPermitted: (403, 4),
    e.ActionNotAvailable: (409, 5),
    e.Conflict: (409, 5),
    e.InvalidInput: (422, 2),
    e.DocumentTooLarge: (413, 2),
    e.ServiceUnavailable: (503, 6),
    e.IntegrityAlarm: (500, 7),
}


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: dict[str, object] = {}


def _lookup(exc: e.NaskahError) -> tuple[int, int]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return STATUS[e.NaskahError]


def http_status(exc: e.NaskahError) -> int:
    return _lookup(exc)[0]


def exit_code(exc: e.NaskahError) -> int:
    return _lookup(exc)[1]


def validation_message(errors: list[dict]) -> tuple[str, list[dict]]:
    """An Indonesian sentence naming each wrong field, and the fields as data."""
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        fields.append({"field": ".".join(loc) or "(body)", "message": err.get("msg", ""), "type": err.get("type", "")})
    missing = [f["field"] for f in fields if f["type"] == "missing"]
    wrong = [f"{f['field']} ({f['message']})" for f in fields if f["type"] != "missing"]
    parts = []
    if missing:
        parts.append("isian wajib belum diisi: " + ", ".join(missing))
    if wrong:
        parts.append("isian tidak valid: " + "; ".join(wrong))
    return "Permintaan tidak valid: " + "; ".join(parts) + ".", fields


def install(app: FastAPI) -> None:
    @app.exception_handler(e.NaskahError)
    async def _naskah_error(_request: Request, exc: e.NaskahError) -> JSONResponse:
        status = http_status(exc)
        if status >= 500:
            log.error("%s: %s %s", exc.code, exc.message, exc.detail)
        return JSONResponse(exc.to_dict(), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, fields = validation_message(list(exc.errors()))
        return JSONResponse({"code": "invalid_input", "message": message, "detail": {"fields": fields}}, 422)

    @app.exception_handler(ValidationError)
    async def _model_invalid(_request: Request, exc: ValidationError) -> JSONResponse:
        message, fields = validation_message(list(exc.errors()))  # type: ignore[arg-type]
        return JSONResponse({"code": "invalid_input", "message": message, "detail": {"fields": fields}}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "Alamat tidak ditemukan.", 405: "Metode HTTP tidak diizinkan untuk alamat ini."}
        body = {
            "code": f"http_{exc.status_code}",
            "message": messages.get(exc.status_code, str(exc.detail)),
            "detail": {},
        }
        return JSONResponse(body, exc.status_code, headers=getattr(exc, "headers", None))
