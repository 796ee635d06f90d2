"""Notifications of the intake (usulan) and of monev: whose turn it is, told in the inbox and by mail.

The same rules as ``pipeline.inbox.notifications`` for the naskah: who is told is who the flow itself says
acts now, never a second set of rules.  For an usulan that is ``pipeline.intake.workflow.turn_of`` (the
position it was disposed to, the analis, the Kepala Daerah); for a monev round the holders of the round
roles the lifecycle table lets act in its state (``pipeline.archival.monev.roles_for``: the Kabag's position,
the round's team, the officials of the OPD teknis) and, in ``tindak_lanjut``, whoever answers for each
open item.  Each recipient must also be able to see what the link shows (``workflow.usulan_clause``,
``access.arsip_clause``); the person who took the step is not told of it.  One notification per
occasion (``kunci``); written in the step's transaction inside a savepoint, never failing the step.

What runs in the background sender's round (``notifications.cycle``): :func:`remind` (a step past its
mutu baku; the TKKSD meeting held with no berita acara yet), :func:`monev_alerts` (``monev.alerts`` of
each user who must act on one), and :func:`digest_lines` for the daily digest.

Links: ``/usulan/{id}`` and ``/monev/{round id}`` (an alert with no round yet: the agreement's monev
page ``/monev/kerja-sama/{arsip id}``).  No note's text, no document, no token in any of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from pipeline import access, turns
from pipeline.archival import monev
from pipeline.archival.monitoring import durasi
from pipeline.auth import allowed
from pipeline.errors import NaskahError
from pipeline.inbox import notifications as nt
from pipeline.intake import workflow as wf
from pipeline.models import Arsip, MonevRound, MonevTindakLanjut, Notifikasi, User, Usulan, as_utc, utcnow
from pipeline.monev_lifecycle import FINAL_STATES as MONEV_FINAL
from pipeline.monev_lifecycle import STATUS_LABELS as MONEV_LABELS
from pipeline.monev_lifecycle import MonevStatus
from pipeline.sop import Profile
from pipeline.terbilang import tanggal
from pipeline.usulan_lifecycle import FINAL_STATES as USULAN_FINAL
from pipeline.usulan_lifecycle import STATUS_LABELS as USULAN_LABELS
from pipeline.usulan_lifecycle import Status as UStatus

__all__ = [
    "DigestLine",
    "Turns",
    "digest_lines",
    "may_see",
    "monev_alerts",
    "monev_step",
    "remind",
    "usulan_turn",
]

log = logging.getLogger(__name__)

Kind = nt.Kind


def _local(profile: Profile, at: dt.datetime) -> str:
    return f"{as_utc(at).astimezone(profile.tz):%d-%m-%Y %H.%M}"


def _without(users: Iterable[User], actor: User | None) -> list[User]:
    seen: set[int] = set()
    out = []
    for u in users:
        if u.id is None or u.id in seen or (actor is not None and u.id == actor.id):
            continue
        seen.add(u.id)
        out.append(u)
    return out


# -- the intake ---------------------------------------------------------------------------------------------

#: What an usulan's turn is, by its status.
_USULAN_KINDS: dict[str, Kind] = {
    UStatus.DITERIMA.value: Kind.DISPOSISI,
    UStatus.DISPOSISI.value: Kind.DISPOSISI,
    UStatus.TELAAH.value: Kind.USULAN_TELAAH,
    UStatus.RAPAT.value: Kind.USULAN_RAPAT,
    UStatus.KEPUTUSAN.value: Kind.KEPUTUSAN,
}


def usulan_link(usulan_id: int) -> str:
    return f"/usulan/{usulan_id}"


def may_see_usulan(session: Session, user: User, profile: Profile, usulan_id: int) -> bool:
    if not user.active or not allowed(user, "read"):
        return False
    found = session.exec(select(Usulan.id).where(Usulan.id == usulan_id, wf.usulan_clause(user, profile))).first()
    return found is not None


def _usulan_judul(u: Usulan) -> str:
    return f'{u.jenis.capitalize()} "{u.perihal}" dari {u.pengirim_instansi}'[:200]


def _usulan_pesan(profile: Profile, u: Usulan) -> str:
    status = u.status
    if status == UStatus.DITERIMA.value:
        return "Surat usulan kerja sama ini telah dicatat dan menunggu disposisi Anda."
    if status == UStatus.DISPOSISI.value:
        return "Usulan kerja sama ini didisposisikan kepada Anda; catatan disposisi ada pada halaman usulan."
    if status == UStatus.TELAAH.value:
        return (
            "Usulan kerja sama ini didisposisikan kepada Anda untuk ditelaah: susun telaah, lalu jadwalkan rapat TKKSD."
        )
    if status == UStatus.RAPAT.value:
        when = f" ({_local(profile, u.rapat_waktu)})" if u.rapat_waktu else ""
        return (
            f"Rapat TKKSD atas usulan ini{when}: sesudah rapat, catat notulen/berita acara dan sampaikan "
            "rekomendasi kepada Kepala Daerah."
        )
    return "Rekomendasi TKKSD atas usulan kerja sama ini menunggu keputusan Anda: setujui atau tolak."


def _usulan_context(profile: Profile, u: Usulan, kunci: str, pesan: str, *, now: dt.datetime) -> nt.Context:
    rincian = [
        ("Usulan", f"{u.jenis} nomor {u.surat_nomor} dari {u.pengirim_instansi}"),
        ("Langkah", USULAN_LABELS[UStatus(u.status)]),
        ("Menunggu sejak", _local(profile, u.turn_since)),
    ]
    deadline = wf.deadline_of(profile, u)
    if deadline is not None:
        rincian.append(("Batas mutu baku", _local(profile, deadline)))
        if deadline < now:
            rincian.append(("Terlambat", durasi(now - deadline)))
    return nt.Context(
        judul=_usulan_judul(u),
        pesan=pesan,
        link=usulan_link(u.id or 0),
        kunci=kunci,
        usulan_id=u.id,
        rincian=rincian,
    )


def _usulan_holders(session: Session, profile: Profile, u: Usulan) -> list[User]:
    """Whose turn the usulan is (``turn_of``), only those who may see it."""
    return [x for x in wf.turn_of(session, profile, u) if may_see_usulan(session, x, profile, u.id or 0)]


def usulan_turn(session: Session, profile: Profile, usulan: Usulan, actor: User | None) -> list[Notifikasi]:
    """After an intake step that moved the turn (``workflow._turn_changed``): tell whose turn it is now.
    Never raises: inside a savepoint; a failure is logged and the step commits without it."""
    kind = _USULAN_KINDS.get(usulan.status)
    if kind is None or usulan.id is None:
        return []
    now = utcnow()
    try:
        with session.begin_nested():
            recipients = _without(_usulan_holders(session, profile, usulan), actor)
            kunci = f"usulan:{kind.value}:{usulan.id}:v{usulan.lock_version}"
            ctx = _usulan_context(profile, usulan, kunci, _usulan_pesan(profile, usulan), now=now)
            return nt.notify(session, kind, recipients, ctx, public_url=None, now=now)
    except Exception:
        log.exception("notifications for usulan %s not written; the step goes on without them", usulan.id)
        return []


def _open_usulan(session: Session) -> list[Usulan]:
    return list(
        session.exec(
            select(Usulan).where(col(Usulan.status).notin_([s.value for s in USULAN_FINAL])).order_by(col(Usulan.id))
        ).all()
    )


def _remind_usulan(session: Session, profile: Profile, now: dt.datetime) -> int:
    if profile.intake is None:
        return 0
    made = 0
    for u in _open_usulan(session):
        holders: list[User] | None = None
        deadline = wf.deadline_of(profile, u)
        if deadline is not None and deadline < now:
            holders = _usulan_holders(session, profile, u)
            kunci = f"pengingat:usulan:{u.id}:{u.status}:{u.posisi}:{as_utc(u.turn_since).isoformat()}"
            pesan = f"Langkah ini sudah melewati mutu baku waktu SOP. {_usulan_pesan(profile, u)}"
            ctx = _usulan_context(profile, u, kunci, pesan, now=now)
            made += len(nt.notify(session, Kind.PENGINGAT, holders, ctx, public_url=None, now=now))
        held = u.rapat_waktu is not None and as_utc(u.rapat_waktu) <= now
        if u.status == UStatus.RAPAT.value and held and not u.notulen:
            holders = holders if holders is not None else _usulan_holders(session, profile, u)
            assert u.rapat_waktu is not None
            kunci = f"usulan_ba:{u.id}:{as_utc(u.rapat_waktu).isoformat()}"
            pesan = (
                f"Rapat TKKSD atas usulan ini telah dijadwalkan berlangsung {_local(profile, u.rapat_waktu)}: catat "
                "notulen/berita acara dan sampaikan rekomendasi kepada Kepala Daerah."
            )
            ctx = _usulan_context(profile, u, kunci, pesan, now=now)
            made += len(nt.notify(session, Kind.USULAN_RAPAT, holders, ctx, public_url=None, now=now))
    return made


# -- monev --------------------------------------------------------------------------------------------------


def round_link(round_id: int) -> str:
    return f"/monev/{round_id}"


def _sees_arsip(session: Session, user: User, profile: Profile, arsip_id: int) -> bool:
    if not user.active or user.pihak_luar or not allowed(user, "read"):
        return False
    found = session.exec(select(Arsip.id).where(Arsip.id == arsip_id, access.arsip_clause(session, user, profile)))
    return found.first() is not None


def _internal(session: Session) -> list[User]:
    return list(
        session.exec(
            select(User).where(col(User.active).is_(True), col(User.pihak_luar).is_(False)).order_by(col(User.id))
        ).all()
    )


def _kabag(users: list[User], profile: Profile) -> list[User]:
    return [u for u in users if monev.is_kabag(u, profile)]


def _opd(users: list[User], arsip: Arsip) -> list[User]:
    return [u for u in users if monev.of_opd(u, arsip.opd_teknis)]


def _team(users: list[User], round_: MonevRound) -> list[User]:
    return [u for u in users if u.id is not None and u.id in (round_.ketua_tim_id, round_.analis_id)]


@dataclass
class _Occasion:
    kind: Kind
    users: list[User]
    pesan: str
    kunci: str
    rincian: list[tuple[str, str]] = field(default_factory=list)
    tenggat: dt.date | None = None
    """A tindak lanjut item's due date."""


def _round_occasions(
    session: Session, profile: Profile, round_: MonevRound, arsip: Arsip, users: list[User] | None = None
) -> list[_Occasion]:
    """Who acts on the round now and what they are asked: the roles the table lets act in its state
    (cancelling aside); in ``tindak_lanjut``, whoever answers for each open item, then (all done) the
    Kabag and the team, who close it."""
    status = MonevStatus(round_.status)
    if status in MONEV_FINAL:
        return []
    users = users if users is not None else _internal(session)
    v = f"{round_.id}:v{round_.lock_version}"
    if status is MonevStatus.PERSIAPAN:
        sp = f" (Surat Perintah {round_.surat_perintah})" if round_.surat_perintah else ""
        pesan = (
            f"Anda ditugaskan dalam tim monitoring dan evaluasi kerja sama ini{sp}: siapkan bahan dan jadwal, lalu "
            "minta Laporan Monitoring dari OPD teknis."
        )
        return [_Occasion(Kind.MONEV_TUGAS, _team(users, round_), pesan, f"monev_tugas:{v}")]
    if status is MonevStatus.MONITORING:
        batas = f" paling lambat {tanggal(round_.batas_laporan)}" if round_.batas_laporan else ""
        returned = round_.reported_at is not None
        pesan = (
            f"Laporan Monitoring OPD Anda dikembalikan oleh tim monev untuk dilengkapi{batas}; catatannya ada pada "
            "halaman monev."
            if returned
            else f"OPD Anda diminta menyampaikan Laporan Monitoring kerja sama ini{batas}."
        )
        return [_Occasion(Kind.MONEV_LAPORAN, _opd(users, arsip), pesan, f"monev_laporan:{v}")]
    if status is MonevStatus.PENGOLAHAN:
        pesan = "OPD teknis telah menyampaikan Laporan Monitoring: periksa dan olah datanya untuk Kepala Bagian."
        return [_Occasion(Kind.MONEV_OLAH, _team(users, round_), pesan, f"monev_olah:{v}")]
    if status is MonevStatus.PEMBAHASAN:
        pesan = "Hasil olah data monitoring sudah siap: bahas bersama tim, lalu catat temuan dan evaluasi."
        return [_Occasion(Kind.MONEV_EVALUASI, _kabag(users, profile), pesan, f"monev_evaluasi:{v}")]
    if status is MonevStatus.ARAHAN:
        pesan = "Evaluasi sudah dicatat: berikan arahan dan rencana tindak lanjut (siapa, sampai kapan)."
        return [_Occasion(Kind.MONEV_ARAHAN, _kabag(users, profile), pesan, f"monev_arahan:{v}")]
    items = list(
        session.exec(
            select(MonevTindakLanjut)
            .where(MonevTindakLanjut.round_id == round_.id, col(MonevTindakLanjut.selesai_at).is_(None))
            .order_by(col(MonevTindakLanjut.urutan))
        ).all()
    )
    if not items:
        pesan = "Semua tindak lanjut sudah diselesaikan: tutup monitoring dan evaluasi ini dengan dokumen evaluasinya."
        holders = _kabag(users, profile) + _team(users, round_)
        return [_Occasion(Kind.MONEV_TUTUP, holders, pesan, f"monev_tutup:{v}")]
    out = []
    for item in items:
        if item.penanggung_jawab_id is not None:
            holders = [u for u in users if u.id == item.penanggung_jawab_id]
            siapa = "Anda"
        else:
            holders = _opd(users, arsip)
            siapa = "OPD Anda"
        pesan = (
            f"{siapa} bertanggung jawab atas tindak lanjut nomor {item.urutan}: {item.uraian[:120]}. Tenggat "
            f"{tanggal(item.tenggat)}."
        )
        rincian = [("Tindak lanjut", f"nomor {item.urutan}"), ("Tenggat", tanggal(item.tenggat))]
        out.append(_Occasion(Kind.MONEV_TINDAK_LANJUT, holders, pesan, f"monev_tl:{item.id}", rincian, item.tenggat))
    return out


def _round_context(
    profile: Profile, round_: MonevRound, arsip: Arsip, occ: _Occasion, *, kunci: str, pesan: str
) -> nt.Context:
    status = MonevStatus(round_.status)
    rincian = [
        ("Kerja sama", f"{arsip.jenis} {arsip.judul}"),
        ("OPD teknis", arsip.opd_teknis),
        ("Langkah", MONEV_LABELS[status]),
        *occ.rincian,
    ]
    deadline = monev.step_deadline(profile, round_) if status is not MonevStatus.TINDAK_LANJUT else None
    if deadline is not None:
        rincian.append(("Batas mutu baku", _local(profile, deadline)))
    return nt.Context(
        judul=f"{arsip.jenis} {arsip.judul}"[:200],
        pesan=pesan,
        link=round_link(round_.id or 0),
        kunci=kunci,
        monev_round_id=round_.id,
        rincian=rincian,
    )


def monev_step(
    session: Session, profile: Profile, round_: MonevRound, arsip: Arsip, actor: User | None
) -> list[Notifikasi]:
    """After a monev step (or a tindak lanjut item done): tell whoever acts on the round now.  Never
    raises: inside a savepoint; a failure is logged and the step commits without it."""
    if profile.monev is None or round_.id is None:
        return []
    now = utcnow()
    try:
        with session.begin_nested():
            session.flush()  # the items an arahan just added have their ids
            out: list[Notifikasi] = []
            for occ in _round_occasions(session, profile, round_, arsip):
                recipients = [u for u in _without(occ.users, actor) if _sees_arsip(session, u, profile, arsip.id or 0)]
                ctx = _round_context(profile, round_, arsip, occ, kunci=occ.kunci, pesan=occ.pesan)
                out += nt.notify(session, occ.kind, recipients, ctx, public_url=None, now=now)
            return out
    except Exception:
        log.exception("notifications for monev round %s not written; the step goes on without them", round_.id)
        return []


def _open_rounds(session: Session) -> list[tuple[MonevRound, Arsip]]:
    pairs = session.exec(
        select(MonevRound, Arsip)
        .join(Arsip, col(Arsip.id) == col(MonevRound.arsip_id))
        .where(col(MonevRound.status).notin_([s.value for s in MONEV_FINAL]))
        .order_by(col(MonevRound.id))
    ).all()
    return [(r, a) for r, a in pairs]


def _remind_monev(session: Session, profile: Profile, now: dt.datetime) -> int:
    """A step of a round past its SOP time (the tindak lanjut items have their own due dates: the
    alerts).  Once per step: its start is in the occasion's key."""
    if profile.monev is None:
        return 0
    made = 0
    users: list[User] | None = None
    for round_, arsip in _open_rounds(session):
        if round_.status == MonevStatus.TINDAK_LANJUT.value:
            continue
        deadline = monev.step_deadline(profile, round_)
        if deadline is None or deadline >= now:
            continue
        users = users if users is not None else _internal(session)
        for occ in _round_occasions(session, profile, round_, arsip, users):
            recipients = [u for u in occ.users if _sees_arsip(session, u, profile, arsip.id or 0)]
            kunci = f"pengingat:monev:{round_.id}:{round_.status}:{as_utc(round_.status_since).isoformat()}"
            pesan = f"Langkah ini sudah melewati mutu baku waktu SOP ({durasi(now - deadline)}). {occ.pesan}"
            ctx = _round_context(profile, round_, arsip, occ, kunci=kunci, pesan=pesan)
            made += len(nt.notify(session, Kind.PENGINGAT, recipients, ctx, public_url=None, now=now))
    return made


def remind(session: Session, profile: Profile, now: dt.datetime) -> int:
    """The intake's and monev's reminders (``notifications.remind`` calls it)."""
    now = as_utc(now)
    return _remind_usulan(session, profile, now) + _remind_monev(session, profile, now)


_ALERT_KINDS = {
    "tanpa_laporan": Kind.MONEV_TANPA_LAPORAN,
    "perpanjangan": Kind.MONEV_PERPANJANGAN,
    "tindak_lanjut_terlambat": Kind.MONEV_TL_TERLAMBAT,
}


def _alert_candidates(session: Session, profile: Profile) -> list[User]:
    """Everyone who could be the one to act on an alert: the Kabag's position, officials of an OPD,
    the teams of open rounds, whoever answers for an open tindak lanjut item."""
    ids: set[int] = set()
    for r, _ in _open_rounds(session):
        ids.update(i for i in (r.ketua_tim_id, r.analis_id) if i is not None)
    ids.update(
        i
        for i in session.exec(
            select(MonevTindakLanjut.penanggung_jawab_id).where(col(MonevTindakLanjut.selesai_at).is_(None))
        ).all()
        if i is not None
    )
    return [
        u
        for u in _internal(session)
        if allowed(u, "read") and (monev.is_kabag(u, profile) or bool(u.opd) or (u.id or 0) in ids)
    ]


def monev_alerts(session: Session, profile: Profile, now: dt.datetime) -> int:
    """The monev alerts (``monev.alerts``) in the inbox of whoever must act on each (``mine``): once per
    occasion (an agreement's period without a report, its end date, an item's due date)."""
    if profile.monev is None:
        return 0
    now = as_utc(now)
    today = monev.local_today(profile, now)
    made = 0
    for user in _alert_candidates(session, profile):
        for a in monev.alerts(session, user, profile, today, mine=True):
            kind = _ALERT_KINDS[a.kind]
            if a.kind == "tindak_lanjut_terlambat":
                kunci = f"{kind.value}:{a.tindak_lanjut_id}:{a.tanggal.isoformat()}"
            elif a.kind == "perpanjangan":
                kunci = f"{kind.value}:{a.arsip_id}:{a.selesai.isoformat()}"
            else:
                kunci = f"{kind.value}:{a.arsip_id}:{a.tanggal.isoformat()}:{a.round_id or 0}"
            link = round_link(a.round_id) if a.round_id else f"/monev/kerja-sama/{a.arsip_id}"
            ctx = nt.Context(
                judul=f"{a.jenis} {a.judul}"[:200],
                pesan=a.pesan,
                link=link,
                kunci=kunci,
                monev_round_id=a.round_id,
                rincian=[
                    ("Kerja sama", f"{a.jenis} {a.judul}"),
                    ("OPD teknis", a.opd_teknis),
                    ("Berakhir", tanggal(a.selesai)),
                    ("Harus bertindak", a.pelaku),
                ],
            )
            made += len(nt.notify(session, kind, [user], ctx, public_url=None, now=now))
    return made


# -- the digest and the sender's check ---------------------------------------------------------------------


@dataclass(frozen=True)
class DigestLine:
    label: str
    text: str
    """What waits, how long, and its path (the caller prefixes the public address)."""
    link: str
    late: bool
    area: str
    """``usulan`` or ``monev``."""


class Turns:
    """Whose turn each open usulan and each open monev round is, worked out once for a whole digest
    round (the same rules as the notifications of their steps)."""

    def __init__(self, session: Session, profile: Profile) -> None:
        self.by_user: dict[int, list[Usulan]] = {}
        self.rounds: dict[int, list[tuple[MonevRound, Arsip, _Occasion]]] = {}
        if profile.intake is not None:
            for u in _open_usulan(session):
                for holder in _usulan_holders(session, profile, u):
                    self.by_user.setdefault(holder.id or 0, []).append(u)
        if profile.monev is not None:
            users = _internal(session)
            for round_, arsip in _open_rounds(session):
                for occ in _round_occasions(session, profile, round_, arsip, users):
                    for holder in occ.users:
                        if _sees_arsip(session, holder, profile, arsip.id or 0):
                            self.rounds.setdefault(holder.id or 0, []).append((round_, arsip, occ))


def digest_lines(profile: Profile, user: User, now: dt.datetime, turns: Turns) -> list[DigestLine]:
    """The usulan and monev rounds waiting on ``user`` (``notifications.digest`` adds them)."""
    now = as_utc(now)
    out: list[DigestLine] = []
    for u in turns.by_user.get(user.id or 0, []):
        deadline = wf.deadline_of(profile, u)
        late = deadline is not None and deadline < now
        label = f"Usulan: {USULAN_LABELS[UStatus(u.status)]}{' (TERLAMBAT)' if late else ''}"
        link = usulan_link(u.id or 0)
        text = f"{_usulan_judul(u)} · menunggu {durasi(now - as_utc(u.turn_since))}"
        out.append(DigestLine(label, text, link, late, "usulan"))
    today = monev.local_today(profile, now) if profile.monev is not None else None
    for round_, arsip, occ in turns.rounds.get(user.id or 0, []):
        if occ.tenggat is not None:
            late = today is not None and occ.tenggat < today
        else:
            deadline = monev.step_deadline(profile, round_)
            late = deadline is not None and deadline < now
        label = f"Monev: {nt.KIND_LABELS[occ.kind]}{' (TERLAMBAT)' if late else ''}"
        waited = durasi(now - as_utc(round_.status_since))
        text = f"{arsip.jenis} {arsip.judul} ({arsip.opd_teknis}) · menunggu {waited}"
        out.append(DigestLine(label, text, round_link(round_.id or 0), late, "monev"))
    return out


_AGREEMENT_PAGE = re.compile(r"^/monev/kerja-sama/(\d+)$")


def may_see(session: Session, user: User, profile: Profile, row: Notifikasi) -> str | None:
    """At sending time: why ``user`` may no longer be mailed what ``row`` is about (None: they may)."""
    if row.usulan_id is not None and not may_see_usulan(session, user, profile, row.usulan_id):
        return "tidak lagi berhak melihat usulan"
    if row.monev_round_id is not None:
        try:
            monev.get_round(session, user, profile, row.monev_round_id)
        except NaskahError:
            return "tidak lagi berhak melihat monitoring dan evaluasi"
    else:
        match = _AGREEMENT_PAGE.match(row.link)
        if match is not None and not _sees_arsip(session, user, profile, int(match.group(1))):
            return "tidak lagi berhak melihat kerja sama"
    return None


turns.listen("usulan", usulan_turn)
turns.listen("monev", monev_step)
