"""``naskah dev-pki``: a development PKI to try signing with, without a real PSrE.

``init`` creates a CA with its TSA and OCSP/CRL services (``pipeline.sign.devpki``), ``p12`` issues a
test certificate for a person as a PKCS#12 file (what a PSrE hands an official), and ``serve``
answers the TSA, OCSP and CRL requests that signing (B-T/B-LT) and verification make.  For trying
the system only: its keys lie unencrypted in the folder, and nothing it issues is trusted anywhere
but where ``NASKAH_TRUST_ROOTS`` names its ``roots.pem``.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import friendly

__all__ = ["devpki_app"]

devpki_app = typer.Typer(
    help="PKI pengembangan (CA, TSA, OCSP, CRL) untuk mencoba tanda tangan tanpa PSrE sungguhan.",
    no_args_is_help=True,
)

Folder = Annotated[Path, typer.Argument(help="folder PKI pengembangan, mis. var/pki")]


@devpki_app.command("init")
@friendly
def devpki_init(
    folder: Folder,
    nama: Annotated[str, typer.Option(help="nama PSrE uji (tampil di sertifikat)")] = "PSrE Pengembangan Naskah",
    port: Annotated[int | None, typer.Option(help="port layanan TSA/OCSP/CRL (bawaan: port bebas)")] = None,
) -> None:
    """Buat CA uji beserta TSA dan OCSP/CRL-nya; cetak pengaturan server yang memakainya."""
    from pipeline.sign.devpki import DevPki

    pki = DevPki.generate(folder, name=nama, port=port)
    typer.echo(f"PKI pengembangan '{pki.name}' dibuat di {folder} (layanan di {pki.base_url}).")
    typer.echo("Jalankan layanannya dengan: naskah dev-pki serve " + str(folder))
    typer.echo("Pengaturan server API untuk menandatangani dan memverifikasi dengan PKI ini")
    typer.echo(f'(atau: eval "$(naskah dev-pki env {folder})"):')
    for line in _env_lines(pki):
        typer.echo(f"  {line}")


def _env_lines(pki: object) -> list[str]:
    roots, tsa = pki.roots_pem.resolve(), pki.tsa_url  # type: ignore[attr-defined]
    allow = pki.fetch_allow  # type: ignore[attr-defined]
    return [
        f"export NASKAH_TRUST_ROOTS={shlex.quote(str(roots))}",
        f"export NASKAH_TSA_URL={shlex.quote(tsa)}",
        # its OCSP/CRL live on 127.0.0.1, which the server fetches from only when allowlisted (pipeline.sign.fetch)
        f"export NASKAH_FETCH_ALLOW={shlex.quote(allow)}",
    ]


@devpki_app.command("env")
@friendly
def devpki_env(folder: Folder) -> None:
    """Cetak pengaturan NASKAH_TRUST_ROOTS, NASKAH_TSA_URL dan NASKAH_FETCH_ALLOW untuk PKI ini, untuk eval "$(...)"."""
    from pipeline.sign.devpki import DevPki

    for line in _env_lines(DevPki.load(folder)):
        typer.echo(line)


@devpki_app.command("p12")
@friendly
def devpki_p12(
    folder: Folder,
    nama: Annotated[str, typer.Option(help="nama pemegang sertifikat, persis seperti di blok tanda tangan")],
    out: Annotated[Path, typer.Option("--out", help="berkas PKCS#12 yang ditulis (.p12)")],
    passphrase: Annotated[
        str,
        typer.Option(
            prompt="Passphrase PKCS#12",
            hide_input=True,
            confirmation_prompt=True,
            help="passphrase berkas (ditanyakan bila tidak diberikan; di baris perintah hanya untuk uji)",
        ),
    ],
    nip: Annotated[str | None, typer.Option(help="NIP/NIK, dimuat di serialNumber subjek")] = None,
    email: Annotated[str | None, typer.Option(help="alamat surel (subjectAltName)")] = None,
    hari: Annotated[int, typer.Option(min=1, max=3650, help="masa berlaku dalam hari")] = 365,
) -> None:
    """Terbitkan sertifikat uji seorang pejabat sebagai berkas PKCS#12 (kunci + sertifikat + rantai)."""
    from pipeline.sign.devpki import DevPki

    pki = DevPki.load(folder)
    data = pki.issue_person(nama, nip=nip, email=email, valid_days=hari).to_pkcs12(passphrase)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    out.chmod(0o600)
    typer.echo(f"{out}: sertifikat uji '{nama}'{f' (NIP {nip})' if nip else ''} dari {pki.name}, {hari} hari.")


@devpki_app.command("serve")
@friendly
def devpki_serve(folder: Folder) -> None:
    """Layani TSA, OCSP dan CRL PKI pengembangan sampai dihentikan (Ctrl+C)."""
    from pipeline.sign.devpki import DevPki

    pki = DevPki.load(folder)
    with pki.serve():
        typer.echo(f"TSA {pki.tsa_url}, OCSP {pki.ocsp_url}, CRL {pki.crl_url} — hentikan dengan Ctrl+C.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("Layanan PKI pengembangan dihentikan.")
