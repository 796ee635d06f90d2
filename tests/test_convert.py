"""DOCX -> PDF/A-2b with the real LibreOffice: warm, cold, fallback, bad input, recovery.

All warm tests share the session ``converter`` (tests/fixtures/converter.py); only
``test_closing_a_warm_converter_leaves_no_libreoffice_process`` starts its own.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter

from pipeline.drafting.convert import (
    ColdConverter,
    Converter,
    FallbackConverter,
    WarmConverter,
    check_pdf,
    open_converter,
)
from pipeline.errors import ConversionFailed, ConverterUnavailable
from tests.fixtures.converter import sample_docx


def pdfinfo(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    """Page count and XMP metadata as poppler (an independent reader) sees them."""
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True, check=True).stdout
    pages = next(int(line.split(":", 1)[1]) for line in info.splitlines() if line.startswith("Pages:"))
    return pages, meta


def alive(pid: int) -> bool:
    """True for a running process; zombies (not reaped by a container's init) count as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] not in ("Z", "X")


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def rezip(docx: bytes, replace: dict[str, bytes | None]) -> bytes:
    """A copy of ``docx`` with some parts replaced (bytes) or dropped (None)."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name not in replace:
                target.writestr(name, source.read(name))
            elif replace[name] is not None:
                target.writestr(name, replace[name])
    return out.getvalue()


# --------------------------------------------------------------------------- warm


@pytest.mark.parametrize("pages", [1, 3, 5])
def test_warm_conversion_gives_pdfa_2b_with_the_documents_page_count(converter, tmp_path, pages):
    pdf = converter.to_pdf(sample_docx(pages))

    info = check_pdf(pdf)
    assert info.pages == pages
    assert info.pdfa == "2B"
    poppler_pages, meta = pdfinfo(pdf, tmp_path)
    assert poppler_pages == pages
    assert "<pdfaid:part>2</pdfaid:part>" in meta
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in meta


def test_warm_converter_satisfies_the_converter_protocol(converter):
    assert isinstance(converter, Converter)


BAD_INPUTS = {
    "empty": b"",
    "plain_text": b"Ini bukan dokumen Word, hanya teks biasa.",
    "random_bytes": os.urandom(4096),
    "truncated_docx": sample_docx(3)[:2000],
    "zip_without_document": rezip(sample_docx(1), {"word/document.xml": None}),
    # These two pass the quick ZIP check and really reach LibreOffice:
    "garbage_document_xml": rezip(sample_docx(1), {"word/document.xml": b"\x00\xff<<<rusak"}),
    "no_content_types": rezip(sample_docx(1), {"[Content_Types].xml": None}),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_corrupt_or_non_docx_input_raises_conversion_failed_without_restarting_the_server(converter, name):
    restarts, pid = converter.restarts, converter.server_pid

    started = time.monotonic()
    with pytest.raises(ConversionFailed) as caught:
        converter.to_pdf(BAD_INPUTS[name])

    assert time.monotonic() - started < 10
    assert caught.value.message  # Indonesian text for the user
    assert (converter.restarts, converter.server_pid) == (restarts, pid)


@pytest.mark.parametrize("victim", ["soffice.bin", "unoserver"])
def test_warm_converter_recovers_after_its_server_process_is_killed(converter, victim):
    old_group = converter.live_pids()
    server_pid = converter.server_pid
    assert server_pid is not None and "soffice.bin" in old_group.values()
    pid = server_pid if victim == "unoserver" else next(p for p, n in old_group.items() if n == "soffice.bin")
    restarts = converter.restarts

    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(pid))
    pdf = converter.to_pdf(sample_docx(2))

    assert check_pdf(pdf).pages == 2
    assert converter.restarts == restarts + 1
    assert converter.server_pid not in (None, server_pid)
    assert wait_until(lambda: not any(alive(p) for p in old_group)), "old LibreOffice processes left behind"


def test_warm_conversion_over_the_timeout_fails_and_the_server_is_replaced(converter):
    server_pid, old_group = converter.server_pid, converter.live_pids()
    timeout = converter.timeout
    converter.timeout = 0.001  # no LibreOffice converts that fast
    try:
        with pytest.raises(ConversionFailed) as caught:
            converter.to_pdf(sample_docx(1))
    finally:
        converter.timeout = timeout

    assert caught.value.detail["reason"] == "timeout"
    assert wait_until(lambda: not any(alive(p) for p in old_group)), "timed-out server was not killed"
    assert check_pdf(converter.to_pdf(sample_docx(1))).pages == 1
    assert converter.server_pid not in (None, server_pid)


def test_closing_a_warm_converter_leaves_no_libreoffice_process():
    with WarmConverter() as own:
        group = own.live_pids()
        assert "soffice.bin" in group.values()
        assert check_pdf(own.to_pdf(sample_docx(1))).pages == 1

    assert wait_until(lambda: not any(alive(p) for p in group)), "LibreOffice outlived close()"
    with pytest.raises(ConverterUnavailable):
        own.to_pdf(sample_docx(1))


# --------------------------------------------------------------------------- cold and fallback


def test_cold_conversion_gives_pdfa_2b_with_the_documents_page_count(tmp_path):
    pdf = ColdConverter().to_pdf(sample_docx(3))

    assert check_pdf(pdf).pages == 3
    assert check_pdf(pdf).pdfa == "2B"
    poppler_pages, meta = pdfinfo(pdf, tmp_path)
    assert poppler_pages == 3
    assert "<pdfaid:part>2</pdfaid:part>" in meta


def test_cold_conversion_of_a_corrupt_docx_raises_conversion_failed():
    with pytest.raises(ConversionFailed) as caught:
        ColdConverter().to_pdf(BAD_INPUTS["garbage_document_xml"])
    assert caught.value.detail["reason"] == "load_failed"


def test_fallback_uses_cold_soffice_when_the_warm_server_cannot_start():
    with FallbackConverter(python="/nonexistent/python3") as fallback:
        assert fallback.mode == "cold"
        assert check_pdf(fallback.to_pdf(sample_docx(1))).pages == 1


def test_open_converter_rejects_an_unknown_mode_and_opens_cold_without_a_server():
    with pytest.raises(ValueError):
        open_converter("hangat")
    cold = open_converter("cold")
    assert isinstance(cold, ColdConverter)
    cold.close()


def test_cold_converter_without_soffice_is_unavailable():
    with pytest.raises(ConverterUnavailable):
        ColdConverter("/nonexistent/soffice").to_pdf(sample_docx(1))


# --------------------------------------------------------------------------- check_pdf


def blank_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 this is a zip, not a pdf", "not_pdf"),
        (b"%PDF-1.7\nnothing else here", "unreadable_pdf"),
        (blank_pdf(2), "not_pdfa"),
        (blank_pdf(0), "no_pages"),
    ],
    ids=["empty", "not_pdf", "damaged_pdf", "pdf_without_pdfa_marker", "pdf_without_pages"],
)
def test_check_pdf_rejects_anything_but_a_readable_pdfa_2_with_pages(data, reason):
    with pytest.raises(ConversionFailed) as caught:
        check_pdf(data)
    assert caught.value.detail["reason"] == reason


def test_remote_converter_converts_through_a_unoserver_over_the_network(converter):
    """The compose set-up: the API talks to a unoserver it does not own, bytes over XML-RPC."""
    from pipeline.drafting.convert import RemoteConverter
    from tests.fixtures.converter import sample_docx

    port = converter._server.port  # the session's real unoserver stands in for the service
    remote = RemoteConverter(f"127.0.0.1:{port}", timeout=60)
    info = check_pdf(remote.to_pdf(sample_docx(pages=2)))
    assert info.pages >= 2 and info.pdfa == "2B"


def test_remote_converter_that_does_not_answer_is_unavailable():
    from pipeline.drafting.convert import RemoteConverter
    from pipeline.errors import ConverterUnavailable
    from tests.fixtures.converter import sample_docx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConverterUnavailable):
        RemoteConverter(f"127.0.0.1:{port}", timeout=10).to_pdf(sample_docx(pages=1))
