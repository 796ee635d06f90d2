"""``naskah usulan …``: the intake of penawaran and permohonan from the command line.

Mounted into ``api/cli.py``.  Each command calls the same function of ``pipeline.intake.workflow``
as the API.  Intake steps are a person's (a disposisi, a telaah, a decision), so every command that
acts takes ``--sebagai USERNAME``; reading commands without it act as the system (the secretariat).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel
from sqlmodel import Session, select

from api.cli_common import NoConverter, friendly
from api.config import Settings, build_services
from pipeline.errors import InvalidInput, NotFound
from pipeline.intake import workflow as wf
from pipeline.lifecycle import Role
from pipeline.models import User, Usulan
from pipeline.services import Services
from pipeline.usulan_lifecycle import STATUS_LABELS, Letter, Status
from storage.db import session_scope, upgrade

__all__ = ["usulan_app"]

usulan_app = typer.Typer(
    help="Usulan kerja sama yang masuk: catat, disposisi, telaah, rapat TKKSD, keputusan, surat.",
    no_args_is_help=True,
)
M = TypeVar("M", bound=BaseModel)
Sebagai = Annotated[str, typer.Option("--sebagai", help="nama pengguna yang bertindak")]


@contextmanager
def _services(*, convert: bool = False) -> Iterator[Services]:
    svc = build_services(Settings(), converter=None if convert else NoConverter())
    try:
        upgrade(svc.engine)
        yield svc
    finally:
        svc.close()


def _user(session: Session, username: str | None) -> User:
    if not username:
        return User(username="system", nama="Sistem (baris perintah)", jabatan="-", roles=Role.SECRETARIAT.value)
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan atau tidak aktif.", username=username)
    session.expunge(user)
    return user


def _load(model: type[M], path: Path) -> M:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"Berkas data '{path}' tidak ditemukan.", data=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"Berkas data '{path}' bukan JSON yang sah (baris {exc.lineno}, kolom {exc.colno}).", data=str(path)
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"Berkas data '{path}' bukan teks UTF-8.", data=str(path)) from None
    return model.model_validate(payload)


def _show(svc: Services, u: Usulan) -> None:
    with session_scope(svc.engine) as session:
        check = wf.kelengkapan(session, u)
        turn = [x.username for x in wf.turn_of(session, svc.profile, u)]
    typer.echo(f"Usulan {u.id}: {u.perihal}")
    typer.echo(f"  status     : {STATUS_LABELS[Status(u.status)]} ({u.status})")
    typer.echo(f"  pengirim   : {u.pengirim_instansi}, surat {u.surat_nomor}")
    typer.echo(f"  giliran    : {', '.join(turn) or '-'}")
    typer.echo("  kelengkapan: " + ("lengkap" if check.lengkap else "kurang " + "; ".join(check.kurang)))
    if u.kerja_sama_id:
        typer.echo(f"  kerja sama : {u.kerja_sama_id} (dibuka untuk penyusunan naskah)")


def _act(sebagai: str | None, fn: Callable[[Session, User, Services], Usulan]) -> None:
    with _services() as svc:
        with session_scope(svc.engine) as session:
            user = _user(session, sebagai)
            u = fn(session, user, svc)
            session.flush()
            session.expunge(u)
        _show(svc, u)


@usulan_app.command("catat")
@friendly
def catat(
    data: Annotated[Path, typer.Option("--data", help="JSON seperti POST /api/v1/usulan")], sebagai: Sebagai
) -> None:
    """Catat surat penawaran/permohonan yang masuk (kelengkapan yang kurang disebutkan)."""
    body = _load(wf.UsulanInput, data)
    _act(sebagai, lambda s, u, svc: wf.create_usulan(s, u, body, profile=svc.profile))


@usulan_app.command("lampiran")
@friendly
def lampiran(
    usulan_id: int,
    berkas: Annotated[Path, typer.Argument(help="PDF, DOCX, PNG atau JPEG")],
    sebagai: Sebagai,
    jenis: Annotated[str, typer.Option("--jenis", help="surat | kak | fs | telaah | lampiran")] = "kak",
) -> None:
    """Unggah lampiran usulan (diperiksa seperti unggahan lain)."""
    try:
        data = berkas.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Berkas '{berkas}' tidak dapat dibaca: {exc.strerror or exc}.") from None
    with _services() as svc:
        with session_scope(svc.engine) as session:
            user = _user(session, sebagai)
        row = wf.add_file(svc, user, usulan_id, jenis, data, berkas.name)
    typer.echo(f"Lampiran {row.id} ({row.kind}, {row.content_type}, {row.size} bita) disimpan: sha256 {row.sha256}")


@usulan_app.command("daftar")
@friendly
def daftar(
    status: Annotated[Status | None, typer.Option("--status")] = None,
    sebagai: Annotated[str | None, typer.Option("--sebagai")] = None,
) -> None:
    """Daftar usulan (yang boleh dilihat pengguna itu)."""
    with _services() as svc, session_scope(svc.engine) as session:
        rows, total = wf.list_usulan(session, _user(session, sebagai), profile=svc.profile, status=status, limit=200)
        for u in rows:
            typer.echo(f"{u.id:>5}  {u.status:<11} {u.surat_tanggal}  {u.pengirim_instansi[:40]:<40}  {u.perihal[:60]}")
        typer.echo(f"{total} usulan")


@usulan_app.command("lihat")
@friendly
def lihat(usulan_id: int, sebagai: Annotated[str | None, typer.Option("--sebagai")] = None) -> None:
    """Rincian usulan: status, giliran, kelengkapan."""
    with _services() as svc:
        with session_scope(svc.engine) as session:
            u = wf.get_usulan(session, _user(session, sebagai), usulan_id, profile=svc.profile)
            session.expunge(u)
        _show(svc, u)


@usulan_app.command("disposisi")
@friendly
def disposisi(
    usulan_id: int, sebagai: Sebagai, catatan: Annotated[str, typer.Option("--catatan", help="isi disposisi")] = ""
) -> None:
    """Disposisikan usulan ke pejabat berikutnya pada rantai profil."""
    _act(sebagai, lambda s, u, svc: wf.disposisi(s, u, usulan_id, catatan, profile=svc.profile))


@usulan_app.command("telaah")
@friendly
def telaah(
    usulan_id: int,
    sebagai: Sebagai,
    teks: Annotated[Path, typer.Option("--teks", help="berkas teks UTF-8 berisi telaah")],
) -> None:
    """Simpan telaah analis."""
    try:
        text = teks.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Berkas telaah '{teks}' tidak dapat dibaca sebagai teks UTF-8 ({exc}).") from None
    _act(sebagai, lambda s, u, svc: wf.telaah(s, u, usulan_id, text, profile=svc.profile))


@usulan_app.command("rapat")
@friendly
def rapat(
    usulan_id: int, sebagai: Sebagai, data: Annotated[Path, typer.Option("--data", help="JSON: waktu, tempat, ...")]
) -> None:
    """Jadwalkan rapat TKKSD."""
    body = _load(wf.RapatInput, data)
    _act(sebagai, lambda s, u, svc: wf.jadwalkan_rapat(s, u, usulan_id, body, profile=svc.profile))


@usulan_app.command("hasil-rapat")
@friendly
def hasil_rapat(
    usulan_id: int, sebagai: Sebagai, data: Annotated[Path, typer.Option("--data", help="JSON: notulen, ...")]
) -> None:
    """Catat hasil rapat TKKSD (notulen, kesimpulan, rekomendasi)."""
    body = _load(wf.RapatHasil, data)
    _act(sebagai, lambda s, u, svc: wf.catat_rapat(s, u, usulan_id, body, profile=svc.profile))


@usulan_app.command("rekomendasi")
@friendly
def rekomendasi(usulan_id: int, sebagai: Sebagai, catatan: Annotated[str, typer.Option("--catatan")] = "") -> None:
    """Sampaikan rekomendasi TKKSD kepada Kepala Daerah."""
    _act(sebagai, lambda s, u, svc: wf.rekomendasi(s, u, usulan_id, catatan, profile=svc.profile))


@usulan_app.command("putus")
@friendly
def putus(
    usulan_id: int,
    sebagai: Sebagai,
    setuju: Annotated[bool, typer.Option("--setuju/--tolak", help="keputusan Kepala Daerah")],
    catatan: Annotated[str, typer.Option("--catatan")] = "",
    surat: Annotated[Path | None, typer.Option("--surat", help="ditolak: JSON surat jawaban")] = None,
) -> None:
    """Keputusan Kepala Daerah: disetujui membuka kerja sama; ditolak menyusun surat jawaban."""
    body = wf.KeputusanInput(
        setuju=setuju, note=catatan, surat=_load(wf.SuratInput, surat).model_dump() if surat else None
    )
    with _services(convert=not setuju) as svc:
        with session_scope(svc.engine) as session:
            user = _user(session, sebagai)
        u = wf.decide(svc, user, usulan_id, body)
        _show(svc, u)


@usulan_app.command("surat")
@friendly
def surat(
    usulan_id: int,
    jenis: Letter,
    sebagai: Sebagai,
    data: Annotated[Path, typer.Option("--data", help="JSON: nomor, tempat, ...")],
    out: Annotated[Path | None, typer.Option("--out", help="simpan PDF-nya di sini")] = None,
) -> None:
    """Susun surat dari templat (undangan, berita_acara, jawaban, balasan, penawaran, permohonan)."""
    body = _load(wf.SuratInput, data)
    with _services(convert=True) as svc:
        with session_scope(svc.engine) as session:
            user = _user(session, sebagai)
        row = wf.draft_letter(svc, user, usulan_id, jenis, body)
        if out is not None:
            _, pdf = wf.read_file(svc, user, usulan_id, row.id or 0, pdf=True)
            out.write_bytes(pdf)
    typer.echo(f"Surat {jenis.value} nomor {row.nomor} disusun (berkas {row.id}, PDF sha256 {row.pdf_sha256}).")


@usulan_app.command("batal")
@friendly
def batal(usulan_id: int, sebagai: Sebagai, catatan: Annotated[str, typer.Option("--catatan")]) -> None:
    """Batalkan usulan (wajib catatan)."""
    _act(sebagai, lambda s, u, svc: wf.batalkan(s, u, usulan_id, catatan, profile=svc.profile))
