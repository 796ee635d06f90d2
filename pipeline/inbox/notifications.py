"""Notifications: telling the person whose turn it is, in the web inbox and by mail.

Who is told is not a second set of rules: after a step, the naskah's turn holders are the users for whom
``pipeline.inbox.tasks.tasks_for`` now answers a task on it (the same rule as "Tugas saya", so only people who
may see the naskah, ``pipeline.access``), minus the person who took the step.  Each gets ONE
notification per occasion (``kunci``: the kind, the naskah and its lock version), written in the step's
own transaction (:func:`after_step`) inside a savepoint: a notification that cannot be written is
logged and the step still commits.  Nothing here talks to a mail server while a step runs.

=================  ==================================================================================
kind               when
=================  ==================================================================================
task kinds         ``telaah``, ``paraf``, ``tanda_tangan``, ``rencana_ttd``, ``kirim_mitra``, ``impor``,
                   ``arsip``, ``dikembalikan`` (``pipeline.inbox.tasks.Kind``): a step made it the user's turn
``pengingat``      a task passed its mutu baku (the profile's deadline, ``monitoring.waiting``),
                   once per step (:func:`remind`)
``ringkasan``      once a day: the user's open tasks (:func:`digest`); in the inbox already read
``keputusan``,     intake (offers and requests, ``pipeline.inbox.flows``): a disposisi received, a
``disposisi``,     telaah to write, a TKKSD meeting held whose berita acara is still to record, a
``usulan_*``       decision for the Kepala Daerah; link ``/usulan/{id}``
``monev_*``        monev (``pipeline.inbox.flows``): a round assigned to its team, a report due from the
                   OPD teknis, data to process, an evaluation or arahan to give, a tindak lanjut item
                   assigned, a round ready to close; and the monev alerts (no report for the period,
                   ending without a decision to extend, a tindak lanjut overdue); link ``/monev/{id}``
=================  ==================================================================================

A row names what it is about: ``naskah_id``, ``usulan_id`` or ``monev_round_id``; the sender checks at
sending time that its recipient may still see it.  The intake's and monev's steps run without the
application's public address: their mail is written with :data:`BASE_MARK` in place of it, and
:func:`send_due` fills it in.

The row is also the outbox: ``mail_status`` ``antre`` until :func:`send_due` delivers it (retrying with
:func:`backoff` while the server is down: nothing is lost), ``tidak_dikirim`` when the user has no
address or turned mail off (the inbox keeps it), ``gagal`` when the server refuses the address for good.
A mail carries a subject, a short Indonesian text and the link to the page; never a document, a file,
a token or a note's text.  :func:`mail_health` is what the monitoring page shows of the outbox.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from pipeline import access
from pipeline.archival.monitoring import durasi
from pipeline.auth import PERMISSIONS, allowed
from pipeline.errors import NotFound
from pipeline.inbox import tasks
from pipeline.lifecycle import Role, Status
from pipeline.models import KerjaSama, Naskah, Notifikasi, User, as_utc, utcnow
from pipeline.sop import Profile
from storage.db import session_scope
from storage.mail import Mailer, MailError

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "APP_NAME",
    "BASE_MARK",
    "KIND_LABELS",
    "Context",
    "CycleReport",
    "Inbox",
    "Kind",
    "MailHealth",
    "MailStatus",
    "SendReport",
    "after_step",
    "after_step_now",
    "backoff",
    "cycle",
    "digest",
    "inbox",
    "mail_health",
    "mark_all_read",
    "mark_read",
    "may_see_mail_health",
    "notify",
    "remind",
    "send_due",
    "set_email",
    "turn_holders",
    "unread_count",
    "unread_count_now",
]

log = logging.getLogger(__name__)

APP_NAME = "Naskah Kerja Sama Daerah"


class Kind(StrEnum):
    """What a notification is about: the task kinds, then reminders, digests and intake's own."""

    TELAAH = "telaah"
    PARAF = "paraf"
    TANDA_TANGAN = "tanda_tangan"
    RENCANA_TTD = "rencana_ttd"
    KIRIM_MITRA = "kirim_mitra"
    IMPOR = "impor"
    ARSIP = "arsip"
    DIKEMBALIKAN = "dikembalikan"
    PENGINGAT = "pengingat"
    RINGKASAN = "ringkasan"
    KEPUTUSAN = "keputusan"
    DISPOSISI = "disposisi"
    USULAN_TELAAH = "usulan_telaah"
    USULAN_RAPAT = "usulan_rapat"
    MONEV_TUGAS = "monev_tugas"
    MONEV_LAPORAN = "monev_laporan"
    MONEV_OLAH = "monev_olah"
    MONEV_EVALUASI = "monev_evaluasi"
    MONEV_ARAHAN = "monev_arahan"
    MONEV_TINDAK_LANJUT = "monev_tindak_lanjut"
    MONEV_TUTUP = "monev_tutup"
    MONEV_TANPA_LAPORAN = "monev_tanpa_laporan"
    MONEV_PERPANJANGAN = "monev_perpanjangan"
    MONEV_TL_TERLAMBAT = "monev_tl_terlambat"


KIND_LABELS: dict[Kind, str] = {
    **{Kind(k.value): label for k, label in tasks.KIND_LABELS.items()},
    Kind.PENGINGAT: "Pengingat: melewati mutu baku waktu",
    Kind.RINGKASAN: "Ringkasan harian tugas",
    Kind.KEPUTUSAN: "Keputusan Kepala Daerah diperlukan",
    Kind.DISPOSISI: "Disposisi diterima",
    Kind.USULAN_TELAAH: "Telaah usulan kerja sama perlu disusun",
    Kind.USULAN_RAPAT: "Rapat TKKSD: berita acara perlu dicatat",
    Kind.MONEV_TUGAS: "Penugasan tim monitoring dan evaluasi",
    Kind.MONEV_LAPORAN: "Laporan monitoring diminta",
    Kind.MONEV_OLAH: "Laporan monitoring masuk: olah data",
    Kind.MONEV_EVALUASI: "Temuan dan evaluasi monev perlu dicatat",
    Kind.MONEV_ARAHAN: "Arahan dan rencana tindak lanjut monev diperlukan",
    Kind.MONEV_TINDAK_LANJUT: "Tindak lanjut monev ditugaskan",
    Kind.MONEV_TUTUP: "Tindak lanjut selesai: monev dapat ditutup",
    Kind.MONEV_TANPA_LAPORAN: "Peringatan monev: belum ada laporan monitoring",
    Kind.MONEV_PERPANJANGAN: "Peringatan monev: segera berakhir, belum ada keputusan perpanjangan",
    Kind.MONEV_TL_TERLAMBAT: "Peringatan monev: tindak lanjut melewati tenggat",
}


class MailStatus(StrEnum):
    ANTRE = "antre"  # queued: not sent yet (no server configured, the server down, waiting for a retry)
    TERKIRIM = "terkirim"
    TIDAK_DIKIRIM = "tidak_dikirim"  # no address, mail turned off, no longer allowed to see it
    GAGAL = "gagal"  # the server refused the address for good


#: The page of the naskah where each task is done (the same as Beranda's links, ``api/web/tugas.py``).
_PAGES: dict[tasks.Kind, str] = {
    tasks.Kind.TELAAH: "/naskah/{id}",
    tasks.Kind.PARAF: "/naskah/{id}/paraf",
    tasks.Kind.TANDA_TANGAN: "/naskah/{id}/tanda-tangan",
    tasks.Kind.RENCANA_TTD: "/naskah/{id}",
    tasks.Kind.KIRIM_MITRA: "/naskah/{id}/tanda-tangan",
    tasks.Kind.IMPOR: "/naskah/{id}/tanda-tangan",
    tasks.Kind.ARSIP: "/naskah/{id}",
    tasks.Kind.DIKEMBALIKAN: "/naskah/{id}",
}

#: Roles that can hold a task on a naskah in each status (a cheap first cut before ``tasks_for``).
_STATUS_ROLES: dict[str, frozenset[str]] = {
    Status.DRAFT.value: frozenset({Role.DRAFTER.value}),
    Status.RETURNED.value: frozenset({Role.DRAFTER.value}),
    Status.LEGAL_REVIEW.value: frozenset({Role.LEGAL.value}),
    Status.PARAF.value: frozenset({Role.PARAF.value}),
    Status.SIGNING.value: frozenset({Role.SIGNER.value, Role.SECRETARIAT.value, Role.DRAFTER.value}),
    Status.SIGNED.value: frozenset({Role.SECRETARIAT.value}),
}

SETTINGS_PATH = "/akun/notifikasi"

#: Stands for the application's public address in a mail written where it is not known (the intake's and
#: monev's steps run without ``Services``); :func:`send_due` puts the address in its place.
BASE_MARK = "{{alamat_aplikasi}}"


@dataclass(frozen=True)
class Context:
    """What one notification says: :func:`notify`'s input (the intake's hook takes the same).

    ``link`` is a path of the web app (``/penawaran/3``); ``kunci`` names the occasion, so the same
    occasion notified twice (a retried request) reaches each recipient once."""

    judul: str
    """The subject's matter: ``KB "Pengelolaan Sampah" dengan Kota Balikpapan``."""
    pesan: str
    """What the person is asked to do, one or two sentences (no secret, no document's content)."""
    link: str
    kunci: str
    naskah_id: int | None = None
    usulan_id: int | None = None
    monev_round_id: int | None = None
    rincian: list[tuple[str, str]] = field(default_factory=list)
    """Label and value lines under the message (Langkah, Menunggu sejak, Mutu baku)."""


# -- writing notifications --------------------------------------------------------------------------------


def _url(public_url: str | None, path: str) -> str:
    if public_url is None:
        return f"{BASE_MARK}{path}"
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def _compose(user: User, kind: Kind, ctx: Context, public_url: str | None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one notification, in Indonesian, with the link and nothing secret."""
    subject = f"[{APP_NAME}] {KIND_LABELS[kind]}: {ctx.judul}"[:300]
    url = _url(public_url, ctx.link)
    settings = _url(public_url, SETTINGS_PATH)
    lines = [f"Yth. {user.nama},", "", ctx.pesan, ""]
    lines += [f"{label}: {value}" for label, value in ctx.rincian]
    lines += ["", f"Buka halamannya: {url}", "", "--", f"Pesan otomatis dari {APP_NAME}; mohon tidak dibalas."]
    lines.append(f"Surel pemberitahuan dapat Anda matikan di {settings} (kotak masuk di aplikasi tetap ada).")
    text = "\n".join(lines)
    e = html.escape
    rows = "".join(f"<tr><th align='left'>{e(a)}</th><td>{e(b)}</td></tr>" for a, b in ctx.rincian)
    body = (
        f"<p>Yth. {e(user.nama)},</p><p>{e(ctx.pesan)}</p>"
        + (f"<table cellpadding='4'>{rows}</table>" if rows else "")
        + f"<p><a href='{e(url)}'>Buka halaman di {e(APP_NAME)}</a></p>"
        + f"<p><small>Pesan otomatis; mohon tidak dibalas. Surel pemberitahuan dapat Anda matikan di "
        f"<a href='{e(settings)}'>pengaturan akun</a> (kotak masuk di aplikasi tetap ada).</small></p>"
    )
    return subject, text, f"<!doctype html><html lang='id'><body>{body}</body></html>"


def notify(
    session: Session,
    kind: Kind | str,
    recipients: Iterable[User],
    context: Context,
    *,
    public_url: str | None = "",
    now: dt.datetime | None = None,
    read: bool = False,
) -> list[Notifikasi]:
    """Queue ``context`` for each of ``recipients`` in the caller's transaction (inbox entry + mail).

    The hook for other capabilities (the intake's decision and disposisi): the caller names who is told
    and has checked that they may see what the link shows (least privilege).  A recipient who already
    has this occasion (``kunci``), or is inactive, is skipped.  Mail goes only to users with an address
    who did not turn it off; the others get the inbox entry alone.  ``read``: the entry does not count
    as unread (the daily digest).  ``public_url`` None: not known here, filled in when the mail is sent."""
    kind = Kind(kind)
    at = as_utc(now) if now is not None else utcnow()
    out: list[Notifikasi] = []
    for user in recipients:
        if user.id is None or not user.active:
            continue
        seen = session.exec(
            select(Notifikasi.id).where(Notifikasi.user_id == user.id, Notifikasi.kunci == context.kunci)
        ).first()
        if seen is not None:
            continue
        subject, text, body_html = _compose(user, kind, context, public_url)
        mailable = bool(user.email) and user.email_notifikasi
        row = Notifikasi(
            user_id=user.id,
            kind=kind.value,
            kunci=context.kunci[:200],
            naskah_id=context.naskah_id,
            usulan_id=context.usulan_id,
            monev_round_id=context.monev_round_id,
            subject=subject,
            body_text=text,
            body_html=body_html,
            link=context.link[:500],
            created_at=at,
            read_at=at if read else None,
            mail_status=MailStatus.ANTRE.value if mailable else MailStatus.TIDAK_DIKIRIM.value,
            next_attempt_at=at,
        )
        session.add(row)
        out.append(row)
    if out:
        session.flush()
        log.info("notifications: %s to %d user(s) (%s)", kind.value, len(out), context.kunci)
    return out


def turn_holders(session: Session, profile: Profile, naskah: Naskah, now: dt.datetime) -> list[tuple[User, tasks.Task]]:
    """Whose turn it is on ``naskah`` now, with their task: every active user for whom "Tugas saya"
    lists it (so only people who may see it)."""
    roles = _STATUS_ROLES.get(naskah.status)
    if roles is None or naskah.id is None:
        return []
    readers = {r.value for r in PERMISSIONS["read"]}
    users = session.exec(select(User).where(col(User.active).is_(True)).order_by(col(User.id))).all()
    out: list[tuple[User, tasks.Task]] = []
    for user in users:
        held = user.role_set
        if not held & readers:
            continue
        if not (held & roles or (user.pihak_luar and naskah.status == Status.SIGNING.value)):
            continue
        found = tasks.tasks_for(session, user, profile, now, naskah_ids=[naskah.id]).data
        if found:
            out.append((user, found[0]))
    return out


def _task_context(task: tasks.Task, naskah: Naskah, *, kunci: str, late: bool = False) -> Context:
    w = task.wait
    rincian = [("Naskah", f"{task.jenis} {task.judul}"), ("Langkah", w.keterangan)]
    if w.standar is not None and w.tenggat is not None:
        rincian.append(("Mutu baku", w.standar.text))
    if late and w.lewat is not None:
        rincian.append(("Terlambat", durasi(w.lewat)))
    if task.tugas == tasks.Kind.DIKEMBALIKAN and task.catatan:
        rincian.append(("Catatan", "lihat catatan pada halaman naskah"))
    pesan = task.keterangan
    if late:
        pesan = f"Langkah ini sudah melewati mutu baku waktu SOP. {task.keterangan}"
    return Context(
        judul=f"{task.jenis} {task.judul}"[:200],
        pesan=pesan,
        link=_PAGES[task.tugas].format(id=task.naskah_id),
        kunci=kunci,
        naskah_id=naskah.id,
        rincian=rincian,
    )


def after_step(
    session: Session, svc: Services, naskah: Naskah, actor: User | None, *, now: dt.datetime | None = None
) -> list[Notifikasi]:
    """In the step's transaction, after it: tell whoever's turn it now is (not ``actor``, who took the
    step).  Never raises: inside a savepoint, a failure is logged and rolled back alone, and the step
    commits as if no notification existed (the inbox and the reminders catch up)."""
    now = as_utc(now) if now is not None else utcnow()
    try:
        with session.begin_nested():
            out: list[Notifikasi] = []
            for user, task in turn_holders(session, svc.profile, naskah, now):
                if actor is not None and user.id == actor.id:
                    continue
                kunci = f"{task.tugas.value}:{naskah.id}:v{naskah.lock_version}"
                ctx = _task_context(task, naskah, kunci=kunci)
                out += notify(session, Kind(task.tugas.value), [user], ctx, public_url=svc.public_url, now=now)
            return out
    except Exception:
        log.exception("notifications for naskah %s not written; the step goes on without them", naskah.id)
        return []


def after_step_now(svc: Services, naskah_id: int, actor: User | None) -> None:
    """:func:`after_step` in a transaction of its own, for a step recorded outside one (a desk-to-desk
    export, recorded with ``audit.record_now`` before the bytes are handed out)."""
    try:
        with session_scope(svc.engine) as session:
            naskah = session.get(Naskah, naskah_id)
            if naskah is not None:
                after_step(session, svc, naskah, actor)
    except Exception:
        log.exception("notifications for naskah %s not written", naskah_id)


# -- reminders and the daily digest --------------------------------------------------------------------------


def _mailable_users(session: Session) -> list[User]:
    readers = {r.value for r in PERMISSIONS["read"]}
    users = session.exec(select(User).where(col(User.active).is_(True)).order_by(col(User.id))).all()
    return [u for u in users if u.role_set & readers]


def remind(session: Session, profile: Profile, now: dt.datetime, *, public_url: str = "") -> int:
    """A reminder to each user holding a task past its mutu baku: once per step (the step's start is in
    the occasion's key, so a naskah that comes back to the same step later is reminded again).  The
    intake's and monev's steps too (``pipeline.inbox.flows.remind``)."""
    from pipeline.inbox import flows as notify_flows

    now = as_utc(now)
    made = notify_flows.remind(session, profile, now)
    for user in _mailable_users(session):
        for task in tasks.tasks_for(session, user, profile, now).data:
            if not task.terlambat:
                continue
            naskah = session.get(Naskah, task.naskah_id)
            if naskah is None:
                continue
            kunci = f"pengingat:{task.naskah_id}:{task.wait.langkah}:{task.wait.sejak.isoformat()}"
            ctx = _task_context(task, naskah, kunci=kunci, late=True)
            made += len(notify(session, Kind.PENGINGAT, [user], ctx, public_url=public_url, now=now))
    return made


def digest(session: Session, profile: Profile, now: dt.datetime, *, public_url: str = "") -> int:
    """Today's digest (the profile's calendar day) for each user with open tasks: what waits, how long,
    which are late, each with its link: the naskah's tasks, then the usulan of the intake and the monev
    rounds waiting on them (``pipeline.inbox.flows.digest_lines``).  Once per user and day; in the inbox
    it is already read (the turns themselves were notified)."""
    from pipeline.inbox import flows as notify_flows

    now = as_utc(now)
    today = now.astimezone(profile.tz).date()
    kunci = f"ringkasan:{today.isoformat()}"
    done = set(session.exec(select(Notifikasi.user_id).where(Notifikasi.kunci == kunci)).all())
    users = [u for u in _mailable_users(session) if u.id not in done]
    if not users:
        return 0
    turns = notify_flows.Turns(session, profile)
    made = 0
    for user in users:
        found = tasks.tasks_for(session, user, profile, now)
        extra = notify_flows.digest_lines(profile, user, now, turns)
        total = found.count + len(extra)
        if not total:
            continue
        late = sum(1 for t in found.data if t.terlambat) + sum(1 for e in extra if e.late)
        rincian = []
        for t in found.data[:50]:
            link = _url(public_url, _PAGES[t.tugas].format(id=t.naskah_id))
            label = f"{tasks.KIND_LABELS[t.tugas]}{' (TERLAMBAT)' if t.terlambat else ''}"
            rincian.append((label, f"{t.jenis} {t.judul} · menunggu {durasi(t.wait.lama)} · {link}"))
        rincian += [(e.label, f"{e.text} · {_url(public_url, e.link)}") for e in extra[:50]]
        if not extra:
            pesan = f"Ada {found.count} naskah menunggu tindakan Anda"
        else:
            parts = [
                f"{n} {what}"
                for n, what in (
                    (found.count, "naskah"),
                    (sum(1 for e in extra if e.area == "usulan"), "usulan kerja sama"),
                    (sum(1 for e in extra if e.area == "monev"), "monitoring dan evaluasi"),
                )
                if n
            ]
            pesan = f"Ada {total} hal menunggu tindakan Anda ({', '.join(parts)})"
        pesan += f", {late} di antaranya terlambat." if late else "."
        ctx = Context(
            judul=f"{total} tugas per {today.day}-{today.month:02d}-{today.year}",
            pesan=pesan,
            link="/",
            kunci=kunci,
            rincian=rincian,
        )
        made += len(notify(session, Kind.RINGKASAN, [user], ctx, public_url=public_url, now=now, read=True))
    return made


# -- the inbox ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbox:
    data: list[Notifikasi]
    count: int
    unread: int


def _mine(user: User) -> Any:
    return Notifikasi.user_id == user.id


def unread_count_now(engine: Engine, user: User) -> int:
    """:func:`unread_count` in a short read of its own (the header of every page); 0 when the database
    cannot answer (the page still renders; its own content says what is wrong)."""
    try:
        with Session(engine) as session:
            return unread_count(session, user)
    except Exception:
        log.warning("unread notifications of %s not counted", user.username, exc_info=True)
        return 0


def unread_count(session: Session, user: User) -> int:
    """The header's badge: the user's unread notifications."""
    return int(
        session.exec(select(func.count()).where(_mine(user), col(Notifikasi.read_at).is_(None))).one()  # type: ignore[arg-type]
    )


def inbox(session: Session, user: User, *, unread_only: bool = False, limit: int = 50, offset: int = 0) -> Inbox:
    """The user's notifications, newest first (only their own: there is no way to ask for another's)."""
    where = [_mine(user)]
    if unread_only:
        where.append(col(Notifikasi.read_at).is_(None))
    total = int(session.exec(select(func.count()).select_from(Notifikasi).where(*where)).one())
    rows = session.exec(
        select(Notifikasi)
        .where(*where)
        .order_by(col(Notifikasi.created_at).desc(), col(Notifikasi.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return Inbox(list(rows), total, unread_count(session, user))


def mark_read(session: Session, user: User, notification_id: int, *, now: dt.datetime | None = None) -> Notifikasi:
    """Mark one of the user's notifications read (another's is 404: it does not exist for them)."""
    row = session.get(Notifikasi, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound("Pemberitahuan tidak ditemukan.", notification_id=notification_id)
    if row.read_at is None:
        row.read_at = as_utc(now) if now is not None else utcnow()
        session.add(row)
    return row


def mark_all_read(session: Session, user: User, *, now: dt.datetime | None = None) -> int:
    at = as_utc(now) if now is not None else utcnow()
    result = session.execute(
        sa.update(Notifikasi).where(_mine(user), col(Notifikasi.read_at).is_(None)).values(read_at=at)
    )
    return int(result.rowcount or 0)


def set_email(session: Session, user: User, *, aktif: bool) -> User:
    """The user's own choice: mail on or off (the inbox stays).  Turning mail off also stops what is
    still queued for them."""
    row = session.get(User, user.id)
    if row is None:
        raise NotFound()
    row.email_notifikasi = aktif
    session.add(row)
    if not aktif:
        session.execute(
            sa.update(Notifikasi)
            .where(Notifikasi.user_id == row.id, Notifikasi.mail_status == MailStatus.ANTRE.value)
            .values(mail_status=MailStatus.TIDAK_DIKIRIM.value, last_error="surel dimatikan pengguna")
        )
    user.email_notifikasi = aktif
    return row


# -- the outbox --------------------------------------------------------------------------------------------

#: How long a claimed mail is kept from other senders (another process) while this one sends it.
CLAIM = dt.timedelta(minutes=5)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4 … minutes, at most one hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    failed: int = 0
    error: str | None = None

    def summary(self) -> str:
        return (
            f"{self.sent} terkirim, {self.deferred} ditunda (dicoba lagi), {self.skipped} tidak dikirim, "
            f"{self.failed} gagal" + (f"; galat: {self.error}" if self.error else "")
        )


def _due_ids(engine: Engine, now: dt.datetime, limit: int) -> list[int]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Notifikasi.id)
                .where(Notifikasi.mail_status == MailStatus.ANTRE.value, col(Notifikasi.next_attempt_at) <= now)
                .order_by(col(Notifikasi.next_attempt_at), col(Notifikasi.id))
                .limit(limit)
            ).all()
        )


def _claim(engine: Engine, nid: int, now: dt.datetime) -> tuple[Notifikasi, User] | None:
    """Take one due mail for this sender: its next attempt moves past the claim, only if nobody else took
    it meanwhile (several processes may send)."""
    with session_scope(engine) as session:
        row = session.get(Notifikasi, nid)
        if row is None or row.mail_status != MailStatus.ANTRE.value or as_utc(row.next_attempt_at) > now:
            return None
        result = session.execute(
            sa.update(Notifikasi)
            .where(col(Notifikasi.id) == nid, col(Notifikasi.attempts) == row.attempts)
            .values(attempts=row.attempts + 1, next_attempt_at=now + CLAIM)
        )
        if result.rowcount != 1:
            return None
        user = session.get(User, row.user_id)
        assert user is not None
        session.expunge(row)
        return row, user


def _finish(engine: Engine, nid: int, **values: Any) -> None:
    with session_scope(engine) as session:
        session.execute(sa.update(Notifikasi).where(col(Notifikasi.id) == nid).values(**values))


def send_due(
    engine: Engine,
    mailer: Mailer | None,
    profile: Profile,
    now: dt.datetime | None = None,
    *,
    limit: int = 200,
    public_url: str = "",
) -> SendReport:
    """Deliver the queued mail that is due: one SMTP session for the batch; a server that is down leaves
    every mail queued with its error and the next attempt after :func:`backoff` (nothing is lost); a
    refused address is ``gagal``.  Rechecked at sending: the address, the user's choice, and that they
    may still see the naskah (the usulan, the monev round).  Without a configured server nothing is sent
    (the mail stays queued).  ``public_url`` takes the place of :data:`BASE_MARK` in mail written
    without it (the intake's and monev's)."""
    report = SendReport()
    if mailer is None or not mailer.config.configured:
        return report
    now = as_utc(now) if now is not None else utcnow()
    conn = None
    for nid in _due_ids(engine, now, limit):
        claimed = _claim(engine, nid, now)
        if claimed is None:
            continue
        row, user = claimed
        why_not = _not_mailable(engine, row, user, profile)
        if why_not is not None:
            _finish(engine, nid, mail_status=MailStatus.TIDAK_DIKIRIM.value, last_error=why_not)
            report.skipped += 1
            continue
        assert user.email is not None
        try:
            if conn is None:
                conn = mailer.open()
            base = public_url.rstrip("/")
            text, body_html = row.body_text.replace(BASE_MARK, base), row.body_html.replace(BASE_MARK, base)
            conn.send(user.email, row.subject, text, body_html)
        except MailError as exc:
            message = str(exc)[:500]
            report.error = message
            if exc.temporary:
                _finish(engine, nid, last_error=message, next_attempt_at=now + backoff(row.attempts + 1))
                report.deferred += 1
                if conn is None or conn.smtp is None:  # the server itself is unreachable: try the rest later
                    _defer_rest(engine, now, message)
                    break
            else:
                _finish(engine, nid, mail_status=MailStatus.GAGAL.value, last_error=message)
                report.failed += 1
            continue
        _finish(
            engine, nid, mail_status=MailStatus.TERKIRIM.value, sent_at=utcnow(), sent_to=user.email, last_error=None
        )
        report.sent += 1
    if conn is not None:
        conn.close()
    if report.sent or report.deferred or report.failed:
        log.info("mail: %s", report.summary())
    return report


def _defer_rest(engine: Engine, now: dt.datetime, message: str) -> None:
    """The server is unreachable: the other due mails keep their attempt count and wait a minute,
    with the error recorded so the monitoring page says why."""
    with session_scope(engine) as session:
        session.execute(
            sa.update(Notifikasi)
            .where(Notifikasi.mail_status == MailStatus.ANTRE.value, col(Notifikasi.next_attempt_at) <= now)
            .values(last_error=message, next_attempt_at=now + backoff(1))
        )


def _not_mailable(engine: Engine, row: Notifikasi, user: User, profile: Profile) -> str | None:
    if not user.active:
        return "pengguna nonaktif"
    if not user.email:
        return "tanpa alamat surel"
    if not user.email_notifikasi:
        return "surel dimatikan pengguna"
    if row.naskah_id is not None:
        with session_scope(engine) as session:
            if not access.may_see_naskah(session, user, profile, row.naskah_id):
                return "tidak lagi berhak melihat naskah"
    if row.usulan_id is not None or row.monev_round_id is not None or row.link.startswith("/monev/"):
        from pipeline.inbox import flows as notify_flows

        with session_scope(engine) as session:
            return notify_flows.may_see(session, user, profile, row)
    return None


@dataclass(frozen=True)
class MailHealth:
    """The outbox as the monitoring page shows it: a dead SMTP server is a growing queue with an error."""

    antre: int
    tertua: dt.datetime | None
    """When the oldest queued mail was written."""
    galat_terakhir: str | None
    coba_lagi: dt.datetime | None
    """When the next attempt of the mail that failed last is due."""
    terkirim_24_jam: int
    gagal: int
    server: str
    """Where mail goes (host:port, TLS mode) or "tidak dikonfigurasi"; never the password."""

    @property
    def bermasalah(self) -> bool:
        return self.antre > 0 and self.galat_terakhir is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "antre": self.antre,
            "tertua": self.tertua.isoformat() if self.tertua else None,
            "galat_terakhir": self.galat_terakhir,
            "coba_lagi": self.coba_lagi.isoformat() if self.coba_lagi else None,
            "terkirim_24_jam": self.terkirim_24_jam,
            "gagal": self.gagal,
            "server": self.server,
            "bermasalah": self.bermasalah,
        }


def may_see_mail_health(user: User) -> bool:
    """The outbox's state (the SMTP server's address, its errors) is for the secretariat that runs the
    application, not for every reader of the monitoring page (a counterparty's official reads it too)."""
    return allowed(user, "mail_health") and not user.pihak_luar


def mail_health(session: Session, now: dt.datetime, *, server: str = "tidak dikonfigurasi") -> MailHealth:
    now = as_utc(now)
    queued = Notifikasi.mail_status == MailStatus.ANTRE.value
    antre, tertua = session.exec(select(func.count(), func.min(Notifikasi.created_at)).where(queued)).one()
    erred = session.exec(
        select(Notifikasi.last_error, Notifikasi.next_attempt_at)
        .where(queued, col(Notifikasi.last_error).is_not(None))
        .order_by(col(Notifikasi.next_attempt_at).desc())
        .limit(1)
    ).first()
    sent = session.exec(
        select(func.count()).where(
            Notifikasi.mail_status == MailStatus.TERKIRIM.value, col(Notifikasi.sent_at) >= now - dt.timedelta(days=1)
        )
    ).one()
    gagal = session.exec(select(func.count()).where(Notifikasi.mail_status == MailStatus.GAGAL.value)).one()
    return MailHealth(
        antre=int(antre or 0),
        tertua=as_utc(tertua) if tertua is not None else None,
        galat_terakhir=erred[0] if erred else None,
        coba_lagi=as_utc(erred[1]) if erred else None,
        terkirim_24_jam=int(sent or 0),
        gagal=int(gagal or 0),
        server=server,
    )


def naskah_of(session: Session, ids: Sequence[int]) -> dict[int, tuple[Naskah, KerjaSama]]:
    """Naskah and kerja sama of some notifications (the inbox page names them)."""
    if not ids:
        return {}
    pairs = session.exec(
        select(Naskah, KerjaSama)
        .join(KerjaSama, col(KerjaSama.id) == col(Naskah.kerja_sama_id))
        .where(col(Naskah.id).in_(sorted(set(ids))))
    ).all()
    return {n.id or 0: (n, c) for n, c in pairs}


@dataclass
class CycleReport:
    pengingat: int = 0
    ringkasan: int = 0
    peringatan: int = 0
    """Monev alerts written into the inbox of whoever must act."""
    peringatan_hari: dt.date | None = None
    """The day (the profile's calendar) whose monev alerts this round looked for; None: it did not."""
    kirim: SendReport = field(default_factory=SendReport)


def cycle(
    engine: Engine,
    profile: Profile,
    mailer: Mailer | None,
    now: dt.datetime | None = None,
    *,
    public_url: str = "",
    digest_hour: int | None = 7,
    alerts_done: dt.date | None = None,
) -> CycleReport:
    """One round of the background sender (and of ``naskah notifikasi kirim``): reminders for steps past
    their mutu baku, today's digest and the monev alerts once the profile's clock passed ``digest_hour``
    (None: neither), then the due mail.  Each part in its own transaction; several processes may run it (occasions and
    claims are unique).

    The monev alerts are occasions of a day (a period without a report, an agreement's end, an item's
    due date), so a caller that runs every minute (the mail worker) passes ``alerts_done``, the day its
    last round looked for them (``CycleReport.peringatan_hari``), and they are looked for once a day:
    looking means reading every agreement in force each candidate may see, ~0.8 s of one process's CPU
    with 100,000 archived records, which every minute stalled that process's pages for as long."""
    now = as_utc(now) if now is not None else utcnow()
    report = CycleReport()
    with session_scope(engine) as session:
        report.pengingat = remind(session, profile, now, public_url=public_url)
    local = now.astimezone(profile.tz)
    if digest_hour is not None and local.hour >= digest_hour:
        with session_scope(engine) as session:
            report.ringkasan = digest(session, profile, now, public_url=public_url)
        if local.date() != alerts_done:
            from pipeline.inbox import flows as notify_flows

            with session_scope(engine) as session:
                report.peringatan = notify_flows.monev_alerts(session, profile, now)
            report.peringatan_hari = local.date()
    report.kirim = send_due(engine, mailer, profile, now, public_url=public_url)
    return report
