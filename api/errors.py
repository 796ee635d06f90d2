"""One table from error class to HTTP status (and CLI exit code), looked up along the MRO.

A test fails if a class of ``pipeline.errors`` is not covered.  No HTTPException is
raised outside routes; everything else is a NaskahError rendered here as
``{"code", "message", "detail"}``.  So is everything the framework raises on its own:
request validation (pydantic's messages translated per error type, see
:func:`validation_message`), HTTP errors (404, 405, a body that does not parse), a database
error that escaped the pipeline (:func:`database_error`: 503 when the database is unavailable or
refuses to write, 409 for a race the database settled), and any unexpected exception (a 500 with
an error id to quote, the traceback only in the log).
"""

from __future__ import annotations

import logging
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pydantic_core.core_schema as core_schema
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from pipeline import errors as e

__all__ = [
    "STATUS",
    "ErrorBody",
    "PageErrors",
    "database_error",
    "exit_code",
    "headers_for",
    "http_status",
    "install",
    "validation_message",
]

log = logging.getLogger(__name__)

# error class -> (HTTP status, CLI exit code)
STATUS: dict[type[e.NaskahError], tuple[int, int]] = {
    e.NaskahError: (500, 1),
    e.NotFound: (404, 3),
    e.Unauthenticated: (401, 4),
    e.TooManyAttempts: (429, 4),
    e.RateLimited: (429, 4),
    e.NotPermitted: (403, 4),
    e.ActionNotAvailable: (409, 5),
    e.Conflict: (409, 5),
    e.InvalidInput: (422, 2),
    e.DocumentTooLarge: (413, 2),
    e.ServiceUnavailable: (503, 6),
    e.IntegrityAlarm: (500, 7),
}

#: What the framework's own HTTP errors say (Starlette's reason phrases are English).
HTTP_MESSAGES: dict[int, str] = {
    400: "Isi permintaan tidak dapat dibaca. Kirim JSON (Content-Type: application/json) atau formulir "
    "multipart/form-data yang utuh.",
    401: "Token akses tidak ada atau tidak berlaku.",
    403: "Anda tidak diizinkan mengakses alamat ini.",
    404: "Alamat tidak ditemukan.",
    405: "Metode HTTP tidak diizinkan untuk alamat ini.",
    406: "Bentuk jawaban yang diminta (Accept) tidak tersedia.",
    408: "Permintaan terlalu lama dikirim.",
    411: "Panjang isi permintaan (Content-Length) wajib disebutkan.",
    413: "Isi permintaan terlalu besar.",
    414: "Alamat terlalu panjang.",
    415: "Jenis isi permintaan (Content-Type) tidak didukung.",
    429: "Terlalu banyak permintaan. Coba lagi beberapa saat lagi.",
    500: "Terjadi kesalahan di server.",
    503: "Layanan sedang tidak tersedia. Coba lagi beberapa saat lagi.",
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


REALM = "naskah"


def headers_for(exc: e.NaskahError) -> dict[str, str] | None:
    """Response headers an error carries: a 401 says how to authenticate (RFC 6750 §3): no token,
    ``Bearer realm="naskah"``; a token that is not good (unknown, expired, revoked, its user
    deactivated), also ``error="invalid_token"``.  Sign-ins refused for a while (429) say how long
    (``Retry-After``, seconds)."""
    if isinstance(exc, e.TooManyAttempts | e.RateLimited):
        return {"Retry-After": str(int(exc.detail.get("retry_after") or 60))}
    if not isinstance(exc, e.Unauthenticated):
        return None
    if exc.detail.get("reason") in (None, "missing_token"):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}"'}
    return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'}


def exit_code(exc: e.NaskahError) -> int:
    return _lookup(exc)[1]


# --- database errors ------------------------------------------------------------------------

#: PostgreSQL SQLSTATE classes (and codes) that mean "the database cannot take this now", whatever the
#: request: connection (08), authorisation (28), database missing (3D), resources such as a full disk
#: (53), operator intervention such as a shutdown (57), system errors (58), a read-only transaction
#: (25006: a standby, ``default_transaction_read_only``), a lock wait that timed out (55P03).
_PG_UNAVAILABLE = ("08", "28", "3D", "53", "57", "58", "25006", "55P03")
#: Serialisation failures and deadlocks (40): another transaction won; doing it again may work.
_PG_CONFLICT = ("40", "23505")
#: SQLite result codes (``sqlite_errorname``, extended codes start with these) with the same meaning.
_SQLITE_UNAVAILABLE = (
    "SQLITE_READONLY",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
    "SQLITE_PERM",
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_PROTOCOL",
)
_SQLITE_CONFLICT = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")

DATABASE_UNAVAILABLE = (
    "Basis data sedang tidak dapat dihubungi atau tidak dapat ditulisi. Coba lagi beberapa saat lagi; "
    "bila berulang, laporkan kepada admin."
)


def database_error(exc: sa_exc.SQLAlchemyError) -> e.NaskahError | None:
    """The error a person is told for a database failure the pipeline did not handle, or None for a
    bug of ours the database caught (a 500 with an error id).

    Unavailable (503 ``storage_unavailable``, ``reason: database_unavailable``): the server is down or
    refuses connections, the connection broke, the pool is exhausted, the database is read-only
    (SQLite "attempt to write a readonly database", PostgreSQL ``read_only_sql_transaction``), the
    disk is full, the file is locked or unreadable.  A race the database settled (a unique key taken
    by another request, a serialisation failure or deadlock) is a 409 Conflict: reload and retry.
    """
    if isinstance(exc, StaleDataError):
        return e.Conflict(reason="stale_data")
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return e.StorageUnavailable(DATABASE_UNAVAILABLE, reason="database_unavailable")
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    orig = exc.orig
    sqlstate = str(getattr(orig, "sqlstate", None) or "")
    sqlite = str(getattr(orig, "sqlite_errorname", None) or "")
    if sqlstate.startswith(_PG_CONFLICT) or sqlite.startswith(_SQLITE_CONFLICT):
        log.warning("database refused a concurrent change: %s: %s", type(orig).__name__, orig)
        return e.Conflict(reason="concurrent_change")
    unavailable = (
        exc.connection_invalidated
        or (sqlstate and sqlstate.startswith(_PG_UNAVAILABLE))
        or (sqlite and sqlite.startswith(_SQLITE_UNAVAILABLE))
        # the driver could not talk to the server at all (refused, reset, timed out): no SQLSTATE
        or (not sqlstate and not sqlite and isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError))
    )
    if not unavailable:
        return None
    log.error("database unavailable: %s: %s", type(orig).__name__, str(orig).strip())
    return e.StorageUnavailable(DATABASE_UNAVAILABLE, reason="database_unavailable")


# --- pydantic's messages, in Indonesian ----------------------------------------------------

#: pydantic's own error types; any other type is one of ours (PydanticCustomError), already Indonesian.
_PYDANTIC_TYPES = frozenset(typing.get_args(core_schema.ErrorType))


def _choices(expected: object) -> str:
    """pydantic's "'a', 'b' or 'c'" as "'a', 'b' atau 'c'"."""
    return str(expected).replace(" or ", " atau ")


def _own_text(err: dict[str, Any], prefix: str) -> str:
    """A ValueError/AssertionError raised by our validators: its own (Indonesian) text, not pydantic's prefix."""
    error = (err.get("ctx") or {}).get("error")
    text = str(error) if error is not None else str(err.get("msg", "")).removeprefix(prefix)
    if text.startswith("Expected UploadFile"):  # FastAPI's own check of a File parameter
        return "harus berupa berkas yang diunggah (multipart/form-data)"
    return text.rstrip(".") or "nilainya tidak valid"


_Rule = Callable[[dict[str, Any], dict[str, Any]], str]

#: pydantic error type -> its Indonesian wording (``ctx`` holds the limits pydantic checked).
_MESSAGES: dict[str, _Rule] = {
    "missing": lambda _e, _c: "wajib diisi",
    "missing_argument": lambda _e, _c: "wajib diisi",
    "extra_forbidden": lambda _e, _c: "isian tidak dikenal",
    "unexpected_keyword_argument": lambda _e, _c: "isian tidak dikenal",
    "string_type": lambda _e, _c: "harus berupa teks",
    "string_unicode": lambda _e, _c: "harus berupa teks Unicode yang sah",
    "string_too_short": lambda _e, c: (
        "tidak boleh kosong" if c.get("min_length") == 1 else f"paling sedikit {c.get('min_length')} karakter"
    ),
    "string_too_long": lambda _e, c: f"paling banyak {c.get('max_length')} karakter",
    "string_pattern_mismatch": lambda _e, c: f"bentuknya tidak sesuai (pola {c.get('pattern')})",
    "too_short": lambda _e, c: f"paling sedikit {c.get('min_length')} butir",
    "too_long": lambda _e, c: f"paling banyak {c.get('max_length')} butir",
    "int_type": lambda _e, _c: "harus berupa bilangan bulat",
    "int_parsing": lambda _e, _c: "harus berupa bilangan bulat",
    "int_from_float": lambda _e, _c: "harus berupa bilangan bulat (tanpa pecahan)",
    "int_parsing_size": lambda _e, _c: "bilangannya terlalu besar",
    "float_type": lambda _e, _c: "harus berupa angka",
    "float_parsing": lambda _e, _c: "harus berupa angka",
    "finite_number": lambda _e, _c: "harus berupa angka yang terhingga",
    "decimal_type": lambda _e, _c: "harus berupa angka desimal",
    "decimal_parsing": lambda _e, _c: "harus berupa angka desimal",
    "bool_type": lambda _e, _c: "harus true atau false",
    "bool_parsing": lambda _e, _c: "harus true atau false",
    "greater_than": lambda _e, c: f"harus lebih dari {c.get('gt')}",
    "greater_than_equal": lambda _e, c: f"paling kecil {c.get('ge')}",
    "less_than": lambda _e, c: f"harus kurang dari {c.get('lt')}",
    "less_than_equal": lambda _e, c: f"paling besar {c.get('le')}",
    "multiple_of": lambda _e, c: f"harus kelipatan {c.get('multiple_of')}",
    "enum": lambda _e, c: f"harus salah satu dari {_choices(c.get('expected'))}",
    "literal_error": lambda _e, c: f"harus salah satu dari {_choices(c.get('expected'))}",
    "date_type": lambda _e, _c: "harus berupa tanggal TTTT-BB-HH",
    "date_parsing": lambda _e, _c: "harus berupa tanggal TTTT-BB-HH yang ada di kalender",
    "date_from_datetime_parsing": lambda _e, _c: "harus berupa tanggal TTTT-BB-HH yang ada di kalender",
    "date_from_datetime_inexact": lambda _e, _c: "harus berupa tanggal tanpa jam",
    "date_past": lambda _e, _c: "harus tanggal yang sudah lewat",
    "date_future": lambda _e, _c: "harus tanggal yang akan datang",
    "time_type": lambda _e, _c: "harus berupa jam JJ:MM[:DD]",
    "time_parsing": lambda _e, _c: "harus berupa jam JJ:MM[:DD]",
    "datetime_type": lambda _e, _c: "harus berupa waktu TTTT-BB-HHTJJ:MM:DD",
    "datetime_parsing": lambda _e, _c: "harus berupa waktu TTTT-BB-HHTJJ:MM:DD",
    "datetime_from_date_parsing": lambda _e, _c: "harus berupa waktu TTTT-BB-HHTJJ:MM:DD",
    "datetime_object_invalid": lambda _e, _c: "waktunya tidak valid",
    "timezone_naive": lambda _e, _c: "tidak boleh menyebut zona waktu",
    "timezone_aware": lambda _e, _c: "harus menyebut zona waktu (mis. +08:00)",
    "time_delta_type": lambda _e, _c: "harus berupa lama waktu",
    "time_delta_parsing": lambda _e, _c: "harus berupa lama waktu",
    "list_type": lambda _e, _c: "harus berupa daftar [..]",
    "tuple_type": lambda _e, _c: "harus berupa daftar [..]",
    "set_type": lambda _e, _c: "harus berupa daftar [..]",
    "iterable_type": lambda _e, _c: "harus berupa daftar [..]",
    "dict_type": lambda _e, _c: "harus berupa objek JSON {..}",
    "mapping_type": lambda _e, _c: "harus berupa objek JSON {..}",
    "model_type": lambda _e, _c: "harus berupa objek JSON {..}",
    "model_attributes_type": lambda _e, _c: "harus berupa objek JSON {..}",
    "dataclass_type": lambda _e, _c: "harus berupa objek JSON {..}",
    "json_type": lambda _e, _c: "harus berupa teks JSON",
    "bytes_type": lambda _e, _c: "harus berupa berkas atau teks",
    "bytes_too_short": lambda _e, c: f"paling sedikit {c.get('min_length')} byte",
    "bytes_too_long": lambda _e, c: f"paling banyak {c.get('max_length')} byte",
    "url_type": lambda _e, _c: "harus berupa URL",
    "url_parsing": lambda _e, _c: "harus berupa URL yang sah",
    "url_scheme": lambda _e, c: f"skema URL harus {_choices(c.get('expected_schemes'))}",
    "uuid_type": lambda _e, _c: "harus berupa UUID",
    "uuid_parsing": lambda _e, _c: "harus berupa UUID",
    "none_required": lambda _e, _c: "harus kosong (null)",
    "union_tag_invalid": lambda _e, c: f"jenis harus salah satu dari {_choices(c.get('expected_tags'))}",
    "union_tag_not_found": lambda _e, c: f"isian pembeda '{c.get('discriminator')}' wajib diisi",
    "value_error": lambda err, _c: _own_text(err, "Value error, "),
    "assertion_error": lambda err, _c: _own_text(err, "Assertion failed, "),
}


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "pihak", 0, "instansi")`` -> ``pihak[0].instansi``; the body itself -> ``(isi permintaan)``."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header", "cookie") and not out:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or BODY


def _indonesian(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    rule = _MESSAGES.get(kind)
    if rule is not None:
        return rule(err, dict(err.get("ctx") or {}))
    if kind not in _PYDANTIC_TYPES:  # one of ours (PydanticCustomError): already a sentence for people
        return str(err.get("msg", "")).rstrip(".") or "nilainya tidak valid"
    return "nilainya tidak valid"


BODY = "(isi permintaan)"
_OBJECT_TYPES = ("model_attributes_type", "dict_type", "model_type")


def validation_message(errors: Sequence[Any]) -> tuple[str, list[dict[str, Any]]]:
    """An Indonesian sentence naming each wrong field, and the fields as data.

    pydantic's English messages are translated per error type (``missing`` -> "wajib diisi",
    ``string_too_long`` -> "paling banyak N karakter", ``enum`` -> "harus salah satu dari …", our own
    validators' text without the "Value error, " prefix).  A body that is not JSON, or JSON sent
    under another Content-Type (what ``curl -d`` does), is said as such, before the fields.
    """
    fields: list[dict[str, Any]] = []
    body_problems: list[str] = []
    told: set[int] = set()  # fields already said in body_problems
    for err in errors:
        loc, kind = tuple(err.get("loc", ())), str(err.get("type", ""))
        field = {"field": _field_name(loc), "message": _indonesian(err), "type": kind}
        if kind == "json_invalid":
            field.update(field=BODY, message="bukan JSON yang sah")
            body_problems.append(f"isi permintaan bukan JSON yang sah (rusak di posisi {loc[-1]})")
            told.add(id(field))
        elif kind in _OBJECT_TYPES and field["field"] == BODY and isinstance(err.get("input"), bytes | str):
            field["message"] = "harus berupa objek JSON {..} dengan Content-Type: application/json"
            body_problems.append(f"isi permintaan {field['message']}")
            told.add(id(field))
        fields.append(field)
    missing = [f["field"] for f in fields if f["type"] in ("missing", "missing_argument")]
    wrong = [
        f"{f['field']} ({f['message']})"
        for f in fields
        if f["type"] not in ("missing", "missing_argument") and id(f) not in told
    ]
    parts = list(body_problems)
    if missing:
        parts.append("isian wajib diisi: " + ", ".join(missing))
    if wrong:
        parts.append("isian tidak valid: " + "; ".join(wrong))
    return "Permintaan tidak valid: " + "; ".join(parts or ["periksa isinya"]) + ".", fields


def _invalid(errors: Sequence[Any]) -> tuple[dict[str, Any], int]:
    message, fields = validation_message(errors)
    return {"code": "invalid_input", "message": message, "detail": {"fields": fields}}, 422


#: Renders an error as a web page instead of JSON (``api.web.errors.page_error``), or None when the
#: request is not for a page: (request, status, envelope, headers) -> response or None.
PageErrors = Callable[[Request, int, dict[str, Any], dict[str, str] | None], Response | None]


def install(app: FastAPI, pages: PageErrors | None = None) -> None:
    """Every error the app answers with is the envelope: ours, the framework's, and the unexpected.
    With ``pages``, a request for a web page gets the same error (status, Indonesian message, from
    this one table) as a page in the layout instead."""

    def answer(request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
        if pages is not None:
            shown = pages(request, status, body, headers)
            if shown is not None:
                return shown
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(e.NaskahError)
    async def _naskah_error(request: Request, exc: e.NaskahError) -> Response:
        status = http_status(exc)
        if status >= 500:
            log.error("%s: %s %s", exc.code, exc.message, exc.detail)
        return answer(request, exc.to_dict(), status, headers_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, *_invalid(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _model_invalid(request: Request, exc: ValidationError) -> Response:
        return answer(request, *_invalid(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        message = HTTP_MESSAGES.get(status) or (
            "Permintaan tidak dapat dilayani." if status < 500 else HTTP_MESSAGES[500]
        )
        detail: dict[str, Any] = {}
        if exc.detail and str(exc.detail) not in ("Not Found", "Method Not Allowed"):
            detail["diagnostic"] = str(exc.detail)  # the framework's English, for whoever debugs the client
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return answer(
            request, {"code": f"http_{status}", "message": message, "detail": detail}, status, headers or None
        )

    @app.exception_handler(sa_exc.SQLAlchemyError)
    async def _database(request: Request, exc: sa_exc.SQLAlchemyError) -> Response:
        mapped = database_error(exc)
        if mapped is None:
            return answer(request, *_internal_error(request, exc))
        return answer(request, mapped.to_dict(), http_status(mapped))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return answer(request, *_internal_error(request, exc))


def _internal_error(request: Request, exc: BaseException) -> tuple[dict[str, Any], int]:
    """A 500 with an error id to quote; the traceback (and the database's own words) only in the log."""
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    message = f"Terjadi kesalahan di server. Laporkan kepada admin dengan kode galat {error_id}."
    return {"code": "internal_error", "message": message, "detail": {"error_id": error_id}}, 500


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path, for a 405's ``Allow`` (RFC 9110 §15.5.6).

    Starlette names only the first route that matched the path, so ``PUT /cases`` said
    ``Allow: POST`` although ``GET /cases`` is served too; asking each route with each method
    (the routers' own matching, path convertors included) gives the whole set.
    """
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
