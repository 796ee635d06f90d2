"""Archival form of a signed original: PAdES B-LTA, and renewing it before its timestamp expires.

A signed naskah is B-LT: every signature carries an RFC 3161 timestamp and the DSS holds the
certificates and OCSP/CRL needed to validate it offline.  That proof lasts only as long as the
certificates and algorithms behind it; B-LTA adds a *document timestamp* over everything (the
signatures and their validation data), and the archive renews it — validation data for the
last timestamp, then a fresh one — before the last timestamp's TSA certificate expires.  Each
step is an incremental update, so every earlier signature and timestamp stays valid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from sqlalchemy import Column, func, or_, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.visitors import iterate, replacement_traverse
from sqlmodel import Session, col, select

from pipeline import access, actions, audit
from pipeline.auth import require
from pipeline.drafting.cases import get_naskah, list_naskah, nomor_of, pihak_of
from pipeline.drafting.revisions import PDF_TYPE, latest_complete
from pipeline.errors import (
    ActionNotAvailable,
    Conflict,
    InvalidInput,
    NotFound,
    RuleViolation,
    ServiceUnavailable,
    store_errors,
)
from pipeline.lifecycle import Action
from pipeline.models import MAX_ID, Arsip, ArsipVersion, KerjaSama, Naskah, SignatureStep, User, utcnow
from pipeline.sign.pades import append_document_timestamp
from pipeline.sign.signature_plan import current_file, expected_signers, get_plan, steps_of
from pipeline.sign.signing_date import SigningDates, signing_dates
from pipeline.sign.verify import VerificationReport, certificate_expiry, refuse_unreadable, verify_pdf
from pipeline.sop import Profile
from pipeline.textcheck import Line
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "MASA_LABELS",
    "PAGE_COUNT_LIMIT",
    "ArchivedVerification",
    "ArsipQuery",
    "ArsipRecord",
    "RecordVersion",
    "RenewResult",
    "SearchPage",
    "add_document_timestamp",
    "archive_naskah",
    "arsip_of_naskah",
    "get_arsip",
    "last_timestamp_expiry",
    "masa_of",
    "orphans",
    "read_original",
    "record",
    "renew_timestamps",
    "search",
    "search_page",
    "search_text",
    "verify_archived",
]

log = logging.getLogger(__name__)


def add_document_timestamp(pdf: bytes, tsa_url: str, trust_roots: Sequence[Any]) -> bytes:
    """``pdf`` plus validation data and a fresh document timestamp (PAdES B-LTA), as an incremental update.

    On a file that has document timestamps already, the last one's validation data is added
    first (the renewal of a B-LTA chain); on a B-LT file the signatures' data is there already.
    Refuses a file whose timestamp chain cannot be validated against ``trust_roots``.
    """
    if not tsa_url:
        raise InvalidInput("Alamat TSA (NASKAH_TSA_URL) belum dikonfigurasi; cap waktu dokumen tidak dapat dibuat.")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        has_timestamp = any(sig.sig_object_type == "/DocTimeStamp" for sig in reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    try:
        data = append_document_timestamp(pdf, tsa_url, trust_roots, renew=has_timestamp)
    except (PathBuildingError, PathValidationError) as exc:
        raise InvalidInput(
            "Rantai sertifikat cap waktu tidak dapat divalidasi dengan akar tepercaya yang dikonfigurasi.",
            reason="timestamp_chain_invalid",
            diagnostic=str(exc),
        ) from exc
    except (SigningError, OSError) as exc:
        raise ServiceUnavailable(
            "Layanan cap waktu (TSA) tidak dapat dihubungi; arsip tidak diubah. Coba lagi beberapa saat lagi.",
            reason="tsa_unavailable",
            diagnostic=type(exc).__name__,
        ) from exc
    log.info("document timestamp added (%d -> %d bytes, renewal=%s)", len(pdf), len(data), has_timestamp)
    return data


def last_timestamp_expiry(pdf: bytes) -> dt.datetime | None:
    """When the TSA certificate of the last document timestamp in ``pdf`` expires (None: there is none).

    The renewal command re-stamps archived originals whose date comes within its margin.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    stamps = [sig for sig in embedded if sig.sig_object_type == "/DocTimeStamp"]
    return certificate_expiry(stamps[-1].signer_cert) if stamps else None


# -- archiving a signed naskah -------------------------------------------------------------


def _related(session: Session, naskah: Naskah) -> list[dict[str, Any]]:
    """The naskah linked to this one by parent links (KB ↔ PKS ↔ Surat Kuasa), both ways."""
    siblings = {n.id: n for n in list_naskah(session, naskah.kerja_sama_id)}
    linked: set[int] = set()
    frontier = {naskah.id}
    while frontier:
        current = frontier.pop()
        for n in siblings.values():
            if n.id in linked or n.id == naskah.id:
                continue
            if n.parent_id == current or siblings[current].parent_id == n.id:  # type: ignore[index]
                linked.add(n.id or 0)
                frontier.add(n.id)
    out = []
    for nid in sorted(linked):
        n = siblings[nid]
        relation = "induk" if _is_ancestor(siblings, n, naskah) else "turunan"
        out.append({"naskah_id": nid, "jenis": n.jenis, "hubungan": relation, "status": n.status})
    return out


def _is_ancestor(siblings: dict[int | None, Naskah], candidate: Naskah, naskah: Naskah) -> bool:
    parent = siblings.get(naskah.parent_id) if naskah.parent_id else None
    while parent is not None:
        if parent.id == candidate.id:
            return True
        parent = siblings.get(parent.parent_id) if parent.parent_id else None
    return False


def _judul(session: Session, user: User, naskah: Naskah, case: KerjaSama) -> str:
    """The title the naskah itself prints (a PKS has its own; a Surat Kuasa names its PKS)."""
    revision = latest_complete(session, naskah.id or 0)  # the caller has read the naskah as ``user``
    data: dict[str, Any] = (revision.data if revision is not None else None) or naskah.data or {}
    if naskah.jenis == "SK":
        return f"Surat Kuasa penandatanganan Perjanjian Kerja Sama {data.get('pks_judul') or case.judul}"
    return str(data.get("judul") or case.judul)


def search_text(*parts: Any) -> str:
    """What free-text search looks in: lower case, single spaces."""
    words: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            words.extend(str(v) for v in part.values() if v)
        elif isinstance(part, list | tuple):
            words.append(search_text(*part))
        elif part:
            words.append(str(part))
    return " ".join(" ".join(words).casefold().split())


def archive_naskah(svc: Services, user: User, naskah_id: int) -> Arsip:
    """Archive a fully signed naskah: verify it, make it B-LTA, store it locked, record it.

    Order of writes: the locked object first, then (one transaction, under the naskah's lock)
    the record, its first version row, the lifecycle step and the audit entry.  A crash in
    between leaves the naskah ``signed`` and an unreferenced locked object; archiving again
    writes a new version under the same key.
    """
    if svc.archive_store is None:
        raise ActionNotAvailable("Penyimpanan arsip (NASKAH_ARCHIVE_STORAGE_URL) belum dikonfigurasi.")
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        actions.check(naskah, user, Action.ARCHIVE, {})
        expected_version = naskah.lock_version
        plan = get_plan(session, naskah_id)
        if plan is None:
            raise ActionNotAvailable("Naskah ini belum ditandatangani.", naskah_id=naskah_id)
        source = current_file(session, plan)
        expected = expected_signers(session, naskah_id)
        signed_steps = [s for s in steps_of(session, plan) if s.signed_at is not None]
        case = session.get(KerjaSama, naskah.kerja_sama_id)
        assert case is not None
        pihak = [
            {
                "urutan": p.urutan,
                "instansi": p.instansi,
                "penandatangan": s.nama,
                "jabatan": s.jabatan,
                **_signing_day(s, svc.profile.tz),
            }
            for p in pihak_of(session, case.id or 0)
            for s in signed_steps
            if s.pihak_urutan == p.urutan
        ]
        nomor = {str(k): v for k, v in nomor_of(session, naskah_id).items()}
        # the day of the last signature: its own day (a counterparty's by its timestamp), in the profile's zone
        last_day = max(day for s in signed_steps if (day := _day_of(s, svc.profile.tz)) is not None)
        judul = _judul(session, user, naskah, case)
        fields: dict[str, Any] = {
            "naskah_id": naskah_id,
            "kerja_sama_id": case.id,
            "jenis": naskah.jenis,
            "jenis_kerja_sama": case.jenis,
            "judul": judul,
            "pihak": pihak,
            "nomor": nomor,
            "opd_teknis": case.opd_teknis,
            "opd_key": case.opd_key,
            "tanggal_ttd": last_day,
            "mulai": case.mulai,
            "selesai": case.selesai,
            "related": _related(session, naskah),
            "search_text": search_text(
                judul,
                [p["instansi"] for p in pihak],
                [p["penandatangan"] for p in pihak],
                nomor,
                case.opd_teknis,
                naskah.jenis,
                case.jenis,
            ),
        }
    signed = svc.get(source.key, source.version_id, source.sha256)
    report = verify_pdf(signed, svc.trust_roots, expected_signers=expected or None)
    if not report.ok:
        problems = report.all_problems()  # every signature's problems by name, then the document's
        raise RuleViolation(
            "Naskah bertanda tangan tidak lolos verifikasi, sehingga tidak diarsipkan: " + " ".join(problems),
            reason="not_verified",
            problems=problems,
            signatures=[
                {"field": c.field, "signer": c.signer, "bottom_line": c.bottom_line, "problems": c.problems}
                for c in report.signatures
            ],
            diagnostic="; ".join(report.diagnostics()) or None,
        )
    lta = add_document_timestamp(signed, svc.tsa_url or "", svc.trust_roots)
    retain_until = utcnow() + dt.timedelta(days=svc.archive_retention_days)
    key = f"arsip/{fields['tanggal_ttd'].year}/{naskah.jenis.lower()}-{naskah_id}.pdf"
    stored = svc.put_archive(key, lta, PDF_TYPE, retain_until)
    expiry = last_timestamp_expiry(lta)
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        changed = Conflict(
            "Naskah berubah saat diarsipkan (permintaan lain). Muat ulang lalu periksa.", naskah_id=naskah_id
        )
        if naskah.lock_version != expected_version:
            raise changed
        assert user.id is not None
        arsip = Arsip(
            **fields,
            key=stored.key,
            version_id=stored.version_id,
            sha256=stored.sha256,
            size=stored.size,
            retain_until=retain_until,
            timestamp_expiry=expiry,
            archived_by=user.id,
        )
        session.add(arsip)
        try:
            session.flush()
        except IntegrityError:  # a concurrent request archived it first (one record per naskah)
            raise changed from None
        session.add(
            ArsipVersion(
                arsip_id=arsip.id or 0,
                version_id=stored.version_id,
                sha256=stored.sha256,
                size=stored.size,
                reason="archive",
                timestamp_expiry=expiry,
                created_by=user.id,
            )
        )
        actions.perform(
            session,
            naskah,
            user,
            Action.ARCHIVE,
            expected_version=expected_version,
            sha256=stored.sha256,
            detail={"key": stored.key, "version_id": stored.version_id},
        )
        log.info("naskah %s archived as %s@%s (%s)", naskah_id, stored.key, stored.version_id, stored.sha256[:12])
        return arsip


def _day_of(step: SignatureStep, tz: dt.tzinfo) -> dt.date | None:
    """The day of a signature in the profile's zone (recorded with it; older rows: when it was recorded)."""
    return step.tanggal_ttd or (step.signed_at.astimezone(tz).date() if step.signed_at else None)


def _signing_day(step: SignatureStep, tz: dt.tzinfo) -> dict[str, Any]:
    """The day of a signature and, if confirmed on another day than the naskah states, its date
    note (kept in the record's ``pihak`` entries)."""
    day = _day_of(step, tz)
    out: dict[str, Any] = {"tanggal_ttd": day.isoformat() if day else None}
    if step.catatan_tanggal:
        out["catatan_tanggal"] = step.catatan_tanggal
    return out


# -- finding and reading archived originals --------------------------------------------------

Masa = Literal["berlaku", "kedaluwarsa", "segera_berakhir"]
#: Each sort of the search: (column, descending) pairs, the id last so that every order is total.
SORT_KEYS: dict[str, tuple[tuple[str, bool], ...]] = {
    "tanggal": (("tanggal_ttd", False), ("id", False)),
    "-tanggal": (("tanggal_ttd", True), ("id", True)),
    "selesai": (("selesai", False), ("id", False)),
    "-selesai": (("selesai", True), ("id", True)),
    "judul": (("judul", False), ("id", False)),
    "-judul": (("judul", True), ("id", True)),
}


def _order(columns: Any, sort: str) -> list[Any]:
    """The ORDER BY of ``sort`` on ``columns`` (the archive's, or a selectable's with the same names)."""
    return [columns[name].desc() if descending else columns[name] for name, descending in SORT_KEYS[sort]]


SORTS = {sort: tuple(_order(Arsip.__table__.c, sort)) for sort in SORT_KEYS}  # type: ignore[attr-defined]


class ArsipQuery(BaseModel):
    """What the secretariat searches the archive by."""

    model_config = ConfigDict(extra="forbid")

    q: Line = Field(
        default="", max_length=200, description="kata kunci: judul, pihak, nomor, OPD (semua kata harus ada)"
    )
    jenis: Literal["KB", "NK", "PKS", "SK"] | None = None
    jenis_kerja_sama: Literal["KSDD", "KSDPK", "KSIV"] | None = None
    tahun: int | None = Field(default=None, ge=2000, le=2100, description="tahun penandatanganan")
    opd: Line | None = Field(default=None, max_length=200, description="OPD teknis (sebagian nama)")
    masa: Masa | None = Field(
        default=None,
        description="berlaku (berakhir lebih dari dalam_hari lagi), segera_berakhir (dalam dalam_hari hari, "
        "termasuk hari ini) atau kedaluwarsa (sudah lewat); tiga kelompok yang tidak tumpang tindih",
    )
    dalam_hari: int = Field(default=90, ge=1, le=3650, description="batas segera_berakhir, dalam hari")
    sort: Literal["tanggal", "-tanggal", "selesai", "-selesai", "judul", "-judul"] = "-tanggal"
    offset: int = Field(default=0, ge=0, le=MAX_ID)
    limit: int = Field(default=20, ge=1, le=200)


#: The masa berlaku buckets as a person reads them (search filter, result badges, record page).
MASA_LABELS = {"berlaku": "Masih berlaku", "segera_berakhir": "Segera berakhir", "kedaluwarsa": "Sudah berakhir"}


def masa_of(selesai: dt.date, today: dt.date, dalam_hari: int = 90) -> str:
    """``kedaluwarsa`` after ``selesai``, ``segera_berakhir`` when it is at most ``dalam_hari`` days
    away, else ``berlaku``: the same rule as :func:`search`'s ``masa`` filter (so a row's badge and
    the bucket it is found in never disagree) and the recap's status."""
    if selesai < today:
        return "kedaluwarsa"
    if selesai <= today + dt.timedelta(days=dalam_hari):
        return "segera_berakhir"
    return "berlaku"


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(
    session: Session, user: User, query: ArsipQuery, today: dt.date, profile: Profile
) -> list[tuple[str, Any]]:
    """The conditions of :func:`search` and :func:`search_page`, ``query`` among what ``user`` may see,
    each with the one column it is on ("" for several): :func:`_walk` reads those on the sort's column
    as its index's range."""
    require(user, "read")
    conditions: list[tuple[str, Any]] = [("", access.arsip_clause(session, user, profile))]
    for word in query.q.split():
        conditions.append(("search_text", col(Arsip.search_text).like(_like(word), escape="\\")))
    if query.jenis:
        conditions.append(("jenis", Arsip.jenis == query.jenis))
    if query.jenis_kerja_sama:
        conditions.append(("jenis_kerja_sama", Arsip.jenis_kerja_sama == query.jenis_kerja_sama))
    if query.tahun:
        conditions.append(("tanggal_ttd", Arsip.tanggal_ttd >= dt.date(query.tahun, 1, 1)))
        conditions.append(("tanggal_ttd", Arsip.tanggal_ttd <= dt.date(query.tahun, 12, 31)))
    if query.opd:
        conditions.append(("opd_teknis", col(Arsip.opd_teknis).ilike(_like(query.opd), escape="\\")))
    # three disjoint buckets, as masa_of says of each row: "berlaku" is beyond the "segera" window
    if query.masa == "berlaku":
        conditions.append(("selesai", Arsip.selesai > today + dt.timedelta(days=query.dalam_hari)))
    elif query.masa == "kedaluwarsa":
        conditions.append(("selesai", Arsip.selesai < today))
    elif query.masa == "segera_berakhir":
        conditions.append(("selesai", Arsip.selesai >= today))
        conditions.append(("selesai", Arsip.selesai <= today + dt.timedelta(days=query.dalam_hari)))
    return conditions


def search(
    session: Session, user: User, query: ArsipQuery, today: dt.date, *, profile: Profile
) -> tuple[list[Arsip], int]:
    """Archived originals matching ``query`` among those ``user`` may see (``pipeline.access``),
    sorted and paginated, and the total count of those: :func:`search_page`'s rows, counted exactly."""
    found = _search(session, user, query, today, profile, _upto(query, None), exact=True)
    return found.rows, found.count


#: The search page counts matches up to this many (beyond the page it shows): a count is exact below it.
PAGE_COUNT_LIMIT = 1000
#: A broad search reads the archive in its sort's order for its page, at most this many records beyond the
#: page's end, before it takes every match and sorts those instead (:func:`_walk`).
WALK_LIMIT = 2000
#: ... unless the database expects at least this share of the archive to match (:func:`_most_match`).
MOST = 0.25


@dataclass(frozen=True)
class SearchPage:
    """One page of :func:`search_page`: its rows and how many match, exactly or at least."""

    rows: list[Arsip]
    count: int
    """The number of matches when ``exact``, else a lower bound (there are more than ``count``)."""
    exact: bool


def search_page(
    session: Session,
    user: User,
    query: ArsipQuery,
    today: dt.date,
    *,
    profile: Profile,
    count_limit: int | None = None,
) -> SearchPage:
    """:func:`search` for a person paging through results: the same rows, but matches are counted only
    up to ``count_limit`` (default :data:`PAGE_COUNT_LIMIT`), or to the end of the asked page when that
    lies beyond: "more than 1,000".

    An exact count reads every match: a word found in most of 100,000 records (``kabupaten``,
    ``paser``) costs a LIKE on every row, ~60 ms of database CPU each time on an idle machine, and the
    page is asked often.  A person needs the exact number of a narrow search, not of a broad one (the
    rekap counts those, ``pipeline.archival.recap``); the API (:func:`search`) keeps its exact ``count``.

    How the page is found, in at most three statements (``bench/web.py``, 100,000 records):

    1. the matches, at most that many, in whatever order the database reads them fastest (the trigram
       index of ``search_text``, a scan stopping early), counted and sorted: when they are all there
       (the count is exact) that is the page.  Asking for a narrow search's page in sort order lets the
       database choose the sort's index (it assumes matches are spread evenly), and matches that are
       not (a former Bupati's name, newest first; a jenis by judul; an OPD's records) made it read and
       test up to every record: 100-400 ms for one page;
    2. a broad search (more matches than that): the archive in the sort's order, at most
       :data:`WALK_LIMIT` records beyond the page's end (:func:`_walk`): a word in most records
       (``kabupaten``) has its page within the first few dozen;
    3. when they do not hold the page, the broad search's matches lie far along the sort (a former
       Bupati's ~25,000 records, newest first, start after ~68,000 others: 100-150 ms to walk there on
       an idle machine): every match, found through the trigram index, sorted, a third of that walk.
       Unless the planner expects a quarter of the archive or more to match (:func:`_most_match`):
       taking those reads nearly every page, and the walk to the page (as the database plans it) costs
       less.
    """
    return _search(session, user, query, today, profile, _upto(query, count_limit), exact=False)


def _upto(query: ArsipQuery, count_limit: int | None) -> int:
    """One more than the matches the page counts: its limit, or the asked page's end when beyond."""
    return max(PAGE_COUNT_LIMIT if count_limit is None else count_limit, query.offset + query.limit) + 1


def _search(
    session: Session, user: User, query: ArsipQuery, today: dt.date, profile: Profile, upto: int, *, exact: bool
) -> SearchPage:
    """:func:`search_page` counting up to ``upto`` (excluded); with ``exact`` a broad search is counted to
    its end."""
    conditions = _conditions(session, user, query, today, profile)
    _plan_for_values(session)
    ids, counted = _found(session, conditions, query, upto)
    complete = counted < upto
    count = counted if complete else upto - 1
    if not complete and exact:
        where = [c for _, c in conditions]
        count = int(session.execute(select(func.count()).select_from(Arsip).where(*where)).scalar_one())
    if not counted or query.offset >= count:
        return SearchPage([], count, complete or exact)
    if not complete:
        ids = _walk(session, conditions, query, WALK_LIMIT)
        if ids is None and _most_match(session, conditions):
            ids = _walk(session, conditions, query, None)
        elif ids is None:
            ids = _found(session, conditions, query, None)[0]
    by_id = {a.id: a for a in session.exec(select(Arsip).where(col(Arsip.id).in_(ids))).all()}
    return SearchPage([by_id[i] for i in ids if i in by_id], count, complete or exact)


def _plan_for_values(session: Session) -> None:
    """On PostgreSQL, plan the search's statements for their values, in this transaction.

    psycopg prepares a statement run five times on one connection, and after five more runs PostgreSQL
    may keep one generic plan for every value.  A generic plan of ``search_text LIKE $1`` assumes a few
    matches and reads them through the trigram index: for ``kabupaten paser`` (every record) that is
    400 ms for one page, where the plan for the words reads 40 records in the sort's order.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _found(
    session: Session, conditions: list[tuple[str, Any]], query: ArsipQuery, upto: int | None
) -> tuple[list[int], int]:
    """The ids of the page among the matches, at most ``upto`` of them (None: all) read in the order the
    database finds fastest and sorted; and how many matches those are."""
    table = Arsip.__table__  # type: ignore[attr-defined]
    keys = [table.c[name] for name, _ in SORT_KEYS[query.sort] if name != "id"]
    found = select(table.c.id, *keys).where(*(c for _, c in conditions))  # the sort's columns: less to hold
    if upto is not None:
        found = found.limit(upto)
    cte = found.cte("found").prefix_with("MATERIALIZED", dialect="postgresql")  # read once, counted and sorted
    counted_in = select(func.count()).select_from(cte).scalar_subquery()
    page = session.execute(
        select(cte.c.id, counted_in).order_by(*_order(cte.c, query.sort)).offset(query.offset).limit(query.limit)
    ).all()
    if page:
        return [int(row[0]) for row in page], int(page[0][1])
    if query.offset:  # past the last match: how many there are
        return [], int(session.execute(select(counted_in)).scalar_one())
    return [], 0


def _most_match(session: Session, conditions: list[tuple[str, Any]]) -> bool:
    """Whether PostgreSQL's planner expects at least :data:`MOST` of the archive to match (SQLite: no).

    Taking every match reads their pages: for a quarter of the archive or more that is nearly every page
    of a wide table (~2 KB a record: pihak, nomor, related), 100,000 records read from the page cache,
    which costs more than walking the sort's index to the page (a current Bupati's name oldest first:
    ~26,000 records).  Fewer matches (a former Bupati's ~25,000 newest first, after ~68,000 others) are
    read through the trigram index for less than that walk.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    statement = select(Arsip.id).where(*(c for _, c in conditions))
    compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    connection = session.connection()
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    total = connection.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'arsip'::regclass")).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"]) >= MOST * max(float(total), 1.0)


def _walk(
    session: Session, conditions: list[tuple[str, Any]], query: ArsipQuery, limit: int | None
) -> list[int] | None:
    """The ids of the page of a broad search, read in the sort's order (its index) among the first
    ``limit`` records beyond the page's end (None: all), or None when those do not hold it.

    The conditions on the sort's column (``tahun`` by date, ``masa`` by selesai) bound where the index is
    read; the others test each record read, and reading stops at the page's end.  Without the bound a
    broad search whose matches lie far along the sort read up to every record.
    """
    if limit is None:  # as a plain query: a subquery with ORDER BY would be planned to sort every record
        statement = select(Arsip.id).where(*(c for _, c in conditions)).order_by(*SORTS[query.sort])
        return list(session.exec(statement.offset(query.offset).limit(query.limit)).all())
    lead = SORT_KEYS[query.sort][0][0]
    table = Arsip.__table__  # type: ignore[attr-defined]
    rest = [c for on, c in conditions if on != lead]
    read = {"id", *(name for name, _ in SORT_KEYS[query.sort])}
    read |= {e.key for c in rest for e in iterate(c) if isinstance(e, Column) and e.table is table}
    head = (
        select(*(c for c in table.c if c.key in read))  # the columns tested and sorted: less to sort and hold
        .where(*(c for on, c in conditions if on == lead))
        .order_by(*SORTS[query.sort])
        .limit(limit + query.offset + query.limit)
        .subquery("head")
    )

    def on_head(element: Any, **_: Any) -> Any:
        return head.c[element.key] if isinstance(element, Column) and element.table is table else None

    statement = (
        select(head.c.id)
        .where(*(replacement_traverse(c, {}, on_head) for c in rest))
        .order_by(*_order(head.c, query.sort))
    )
    ids = session.execute(statement.offset(query.offset).limit(query.limit)).scalars().all()
    return [int(i) for i in ids] if len(ids) == query.limit else None


def get_arsip(session: Session, user: User, arsip_id: int, *, profile: Profile) -> Arsip:
    """An archive record ``user`` may see; one they may not see is not found, as one that does not exist."""
    require(user, "read")
    arsip = session.get(Arsip, arsip_id)
    if arsip is None or not access.may_see_naskah(session, user, profile, arsip.naskah_id):
        raise NotFound(f"Arsip dengan id {arsip_id} tidak ditemukan.", arsip_id=arsip_id)
    return arsip


def arsip_of_naskah(session: Session, user: User, naskah_id: int, *, profile: Profile) -> Arsip | None:
    """The archive record of naskah ``naskah_id`` (None: not archived), for a user who may see the naskah
    (``get_naskah``: not found otherwise); the naskah's pages link its record with it."""
    get_naskah(session, user, naskah_id, profile=profile)
    return session.exec(select(Arsip).where(Arsip.naskah_id == naskah_id)).first()


@dataclass(frozen=True)
class RecordVersion:
    """One stored version of an archived original (the first, then one per timestamp renewal).

    ``lock_until``: the archive store's retention on the original.  Every version is written with
    the record's retention (a renewal never shortens it, ``renew_timestamps``), so it is the
    record's ``retain_until``.
    """

    version_id: str
    sha256: str
    size: int
    reason: str
    """``archive`` or ``renew``."""
    created_at: dt.datetime
    timestamp_expiry: dt.datetime | None
    lock_until: dt.datetime
    current: bool


@dataclass(frozen=True)
class ArsipRecord:
    """Everything the record page shows of an archived original, as ``user`` may see it."""

    arsip: Arsip
    pihak: list[dict[str, Any]]
    """The record's parties in PIHAK order, each with its ``nomor`` and its signing day as a date."""
    versions: list[RecordVersion]
    """Oldest first; the last one is the record's current version."""
    related: list[dict[str, Any]]
    """The related naskah (KB ↔ PKS ↔ Surat Kuasa) ``user`` may see; another one is not named."""
    kuasa: dict[str, dict[str, Any]]
    """Signature field -> the Surat Kuasa its signer signed under (``naskah_id``, ``nomor``,
    ``pemberi``), for delegated signatures only."""
    masa: str
    """``berlaku``, ``segera_berakhir`` or ``kedaluwarsa`` today (:func:`masa_of`)."""
    sisa_hari: int
    """Days from today to ``selesai`` (negative once expired)."""


def record(session: Session, user: User, arsip_id: int, today: dt.date, *, profile: Profile) -> ArsipRecord:
    """The archive record ``arsip_id`` with its stored versions, the related naskah ``user`` may see
    and the Surat Kuasa each delegated signature was made under; not found as :func:`get_arsip`."""
    arsip = get_arsip(session, user, arsip_id, profile=profile)
    rows = session.exec(
        select(ArsipVersion).where(ArsipVersion.arsip_id == arsip_id).order_by(col(ArsipVersion.id))
    ).all()
    versions = [
        RecordVersion(
            version_id=v.version_id,
            sha256=v.sha256,
            size=v.size,
            reason=v.reason,
            created_at=v.created_at,
            timestamp_expiry=v.timestamp_expiry,
            lock_until=arsip.retain_until,
            current=v.version_id == arsip.version_id,
        )
        for v in rows
    ]
    ids = [int(r.get("naskah_id") or 0) for r in arsip.related]
    shown = access.visible_naskah_ids(session, user, profile, ids)
    related = [r for r in arsip.related if int(r.get("naskah_id") or 0) in shown]
    kuasa: dict[str, dict[str, Any]] = {}
    plan = get_plan(session, arsip.naskah_id)
    if plan is not None:
        from pipeline.sign.kuasa import read_kuasa

        for step in steps_of(session, plan):
            if step.kuasa_naskah_id is None:
                continue
            found = read_kuasa(session, step.kuasa_naskah_id)
            kuasa[step.signed_field or step.field_name] = {
                "naskah_id": step.kuasa_naskah_id,
                "nomor": found.nomor if found else None,
                "pemberi": f"{found.pemberi_nama} ({found.pemberi_jabatan})" if found else None,
                "visible": step.kuasa_naskah_id
                in access.visible_naskah_ids(session, user, profile, [step.kuasa_naskah_id]),
            }
    pihak = [
        {
            **p,
            "nomor": arsip.nomor.get(str(p.get("urutan"))),
            "tanggal_ttd": dt.date.fromisoformat(p["tanggal_ttd"]) if p.get("tanggal_ttd") else None,
        }
        for p in sorted(arsip.pihak, key=lambda p: int(p.get("urutan") or 0))
    ]
    return ArsipRecord(
        arsip=arsip,
        pihak=pihak,
        versions=versions,
        related=related,
        kuasa=kuasa,
        masa=masa_of(arsip.selesai, today),
        sisa_hari=(arsip.selesai - today).days,
    )


def _fetch(svc: Services, user: User, arsip_id: int) -> tuple[Arsip, bytes]:
    with session_scope(svc.engine) as session:
        arsip = get_arsip(session, user, arsip_id, profile=svc.profile)
        session.expunge(arsip)
    return arsip, svc.get_archive(arsip.key, arsip.version_id, arsip.sha256)


def read_original(svc: Services, user: User, arsip_id: int) -> tuple[Arsip, bytes]:
    """The archived original, byte-identical (sha256 checked; a mismatch raises IntegrityAlarm)."""
    arsip, data = _fetch(svc, user, arsip_id)
    with session_scope(svc.engine) as session:
        audit.record(
            session,
            user,
            audit.AuditAction.DOWNLOAD,
            naskah_id=arsip.naskah_id,
            sha256=arsip.sha256,
            what="arsip",
            version_id=arsip.version_id,
        )
    return arsip, data


@dataclass(frozen=True)
class ArchivedVerification:
    """The verification of an archived original along its B-LTA chain; ``moment`` is the time its
    first document timestamp proves (since then the file is proven unchanged)."""

    arsip_id: int
    sha256: str
    moment: dt.datetime | None
    report: VerificationReport
    tanggal: SigningDates | None = None
    """The date the naskah states and each signature's day, with the notes confirming a desk-to-desk
    signature on another day (``pipeline.sign.signing_date``); informational, not part of the verdict."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "arsip_id": self.arsip_id,
            "sha256": self.sha256,
            "divalidasi_pada": self.moment.isoformat() if self.moment else None,
            **self.report.to_dict(),
            "tanggal_penandatanganan": self.tanggal.to_dict() if self.tanggal else None,
        }


def verify_archived(
    svc: Services, user: User, arsip_id: int, *, now: dt.datetime | None = None
) -> ArchivedVerification:
    """The same checks as ``naskah verify`` with the embedded validation data, along the B-LTA
    chain: each signature at the time its timestamp proves, each document timestamp at the time
    the next one proves, and the newest TSA certificate unexpired ``now``.  So it still holds
    after the signers' certificates (and older TSAs') expired, as long as renewals kept up."""
    arsip, data = _fetch(svc, user, arsip_id)
    with session_scope(svc.engine) as session:
        expected = expected_signers(session, arsip.naskah_id)
    report = verify_pdf(data, svc.trust_roots, archival=True, now=now, expected_signers=expected or None)
    report = dataclasses.replace(report, naskah_id=arsip.naskah_id)
    moment = report.timestamps[0].time if report.timestamps else None
    with session_scope(svc.engine) as session:
        tanggal = signing_dates(session, arsip.naskah_id)
        audit.record(
            session,
            user,
            audit.AuditAction.VERIFY,
            naskah_id=arsip.naskah_id,
            sha256=arsip.sha256,
            verdict=report.bottom_line,
        )
    return ArchivedVerification(arsip.id or 0, arsip.sha256, moment, report, tanggal)


# -- timestamp renewal ---------------------------------------------------------------------


@dataclass(frozen=True)
class RenewResult:
    arsip_id: int
    naskah_id: int
    old_expiry: dt.datetime | None
    new_expiry: dt.datetime | None
    version_id: str
    sha256: str


def due_for_renewal(session: Session, margin_days: int, now: dt.datetime) -> list[Arsip]:
    """Archive rows whose last document timestamp's TSA certificate expires within ``margin_days``
    of ``now``, most urgent first: unknown expiry, then the soonest (already expired ones lead)."""
    limit = now + dt.timedelta(days=margin_days)
    expiry = col(Arsip.timestamp_expiry)
    query = select(Arsip).where(or_(expiry.is_(None), expiry <= limit))
    return list(session.exec(query.order_by(expiry.is_not(None), expiry, col(Arsip.id))).all())


def renew_timestamps(
    svc: Services, *, margin_days: int, now: dt.datetime | None = None, user: User | None = None
) -> list[RenewResult]:
    """Add a fresh document timestamp to every archived original that needs one, as a new
    locked object version; the old versions stay.  Each original is renewed on its own: one
    failure (TSA down) stops the run with that error, the ones done before remain done."""
    now = now or utcnow()
    with session_scope(svc.engine) as session:
        due = [a.id for a in due_for_renewal(session, margin_days, now) if a.id is not None]
    results = []
    for arsip_id in due:
        with session_scope(svc.engine) as session:
            arsip = session.get(Arsip, arsip_id)
            assert arsip is not None
            key, version_id, sha256 = arsip.key, arsip.version_id, arsip.sha256
            old = arsip.timestamp_expiry
            retain_until = arsip.retain_until
        current = svc.get_archive(key, version_id, sha256)
        renewed = add_document_timestamp(current, svc.tsa_url or "", svc.trust_roots)
        expiry = last_timestamp_expiry(renewed)
        stored = svc.put_archive(key, renewed, PDF_TYPE, max(retain_until, now + dt.timedelta(days=1)))
        with session_scope(svc.engine) as session:
            arsip = session.get(Arsip, arsip_id)
            assert arsip is not None
            if arsip.version_id != version_id:  # renewed meanwhile by another run: keep theirs
                log.warning("arsip %s renewed concurrently; version %s left unreferenced", arsip_id, stored.version_id)
                continue
            arsip.version_id, arsip.sha256, arsip.size = stored.version_id, stored.sha256, stored.size
            arsip.timestamp_expiry = expiry
            session.add(arsip)
            session.add(
                ArsipVersion(
                    arsip_id=arsip_id,
                    version_id=stored.version_id,
                    sha256=stored.sha256,
                    size=stored.size,
                    reason="renew",
                    timestamp_expiry=expiry,
                    created_by=user.id if user else None,
                )
            )
            audit.record(
                session,
                user,
                audit.AuditAction.RENEW,
                naskah_id=arsip.naskah_id,
                sha256=stored.sha256,
                previous_sha256=sha256,
                version_id=stored.version_id,
            )
            results.append(RenewResult(arsip_id, arsip.naskah_id, old, expiry, stored.version_id, stored.sha256))
            log.info("arsip %s: document timestamp renewed (%s -> %s)", arsip_id, old, expiry)
    return results


def orphans(svc: Services) -> list[tuple[str, str]]:
    """Locked versions in the archive store that no archive record points at.

    An archive killed after storing its object, or one that lost a race, leaves one: harmless
    (the naskah was not archived by it) but locked for the whole retention, so the secretariat
    should know of it.  ``(key, version_id)`` pairs.
    """
    if svc.archive_store is None:
        raise ActionNotAvailable("Penyimpanan arsip (NASKAH_ARCHIVE_STORAGE_URL) belum dikonfigurasi.")
    with session_scope(svc.engine) as session:
        known = set(
            session.exec(
                select(Arsip.key, ArsipVersion.version_id).join(ArsipVersion, ArsipVersion.arsip_id == Arsip.id)  # type: ignore[arg-type]
            ).all()
        )
    with store_errors():
        stored = svc.archive_store.listing("arsip/")
    return [item for item in stored if item not in known]
