"""Page previews (issue 13): each revision's and the current file's pages as PNG images with their
text, rendered by poppler once per PDF sha256, cached in the object store for every process,
kept by the orphan cleanup, and seen only by those who may see the naskah.

Judged with tools the project did not write: Pillow opens the images, poppler's ``pdfinfo`` counts
the PDF's pages.  Renders are counted (``PageRenderer.renders``), never timed.
"""

from __future__ import annotations

import io
import subprocess
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from api.config import Settings
from api.main import create_app
from pipeline.archival.cleanup import cleanup
from pipeline.errors import ServiceUnavailable
from pipeline.models import Preview, PreviewPage, Revision
from pipeline.pdf.pagerender import PageRenderer, PreviewLimits, png_size
from pipeline.workspace import preview
from storage.db import session_scope
from storage.objects import LocalObjectStore
from tests.test_api import case_body, create_case, create_naskah
from tests.test_workflow import approved_kb, post

TWO = pytest.mark.parametrize("services", ["sqlite-local", "postgres-s3"], indirect=True)
LOCAL = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
JUDUL = case_body()["judul"]


def _pdf_pages(pdf: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(next(line for line in out.splitlines() if line.startswith("Pages:")).split(":")[1])


def _pages(api, nid: int, rest: str, who: str = "drafter"):
    return api.client.get(f"/api/v1/naskah/{nid}/{rest}", headers=api.auth(who))


@TWO
def test_a_revisions_pages_are_real_pngs_of_every_page_with_their_text(api):
    nid = create_naskah(api, create_case(api))["id"]
    pdf = _pages(api, nid, "revisions/1/pdf").content
    r = _pages(api, nid, "revisions/1/pages")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "revisi" and body["label"] == "Revisi 1" and body["revision_number"] == 1
    assert body["count"] == _pdf_pages(pdf) >= 2 and body["rendered"] == body["count"] and not body["truncated"]
    assert body["pdf_url"] == f"/api/v1/naskah/{nid}/revisions/1/pdf"
    assert [p["number"] for p in body["pages"]] == list(range(1, body["count"] + 1))
    assert JUDUL.upper() in " ".join(body["pages"][0]["text"].upper().split())  # the page's text, for screen readers
    for page in body["pages"]:
        image = api.client.get(page["image_url"], headers=api.auth("drafter"))
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(image.content)) as img:
            img.verify()  # a whole, valid PNG
        with Image.open(io.BytesIO(image.content)) as img:
            assert img.format == "PNG" and img.size == (page["width"], page["height"])
        # A4 at 120 dpi: 8.27 x 11.69 in
        assert abs(page["width"] - 992) <= 2 and abs(page["height"] - 1403) <= 2, page
        thumb = api.client.get(page["thumb_url"], headers=api.auth("drafter"))
        assert thumb.status_code == 200
        with Image.open(io.BytesIO(thumb.content)) as img:
            assert img.size == (page["thumb_width"], page["thumb_height"]) and img.width == 200
        assert image.headers["etag"] == page["etag"] != thumb.headers["etag"]
    Path("/tmp/naskah-preview-page1.png").write_bytes(
        api.client.get(body["pages"][0]["image_url"], headers=api.auth("drafter")).content
    )


@LOCAL
def test_a_second_view_is_served_from_the_cache_and_rendered_once(api):
    nid = create_naskah(api, create_case(api))["id"]
    renderer = api.services.page_renderer
    before = renderer.renders
    first = _pages(api, nid, "revisions/1/pages").json()
    for _ in range(3):
        again = _pages(api, nid, "revisions/1/pages").json()
        assert again == first
        for page in again["pages"]:
            assert api.client.get(page["image_url"], headers=api.auth("drafter")).status_code == 200
    assert renderer.renders == before + 1
    # a second revision with the same PDF bytes shares the cache (content-addressed by sha256)
    with session_scope(api.services.engine) as session:
        rows = session.exec(select(Preview)).all()
        assert len(rows) == 1 and rows[0].pdf_sha256 == first["sha256"] and rows[0].state == "complete"


@LOCAL
def test_the_image_answers_304_to_its_etag_and_says_how_long_to_keep_it(api):
    nid = create_naskah(api, create_case(api))["id"]
    url = f"/api/v1/naskah/{nid}/revisions/1/pages/1.png"
    r = api.client.get(url, headers=api.auth("drafter"))
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["cache-control"] == "private, max-age=86400"
    again = api.client.get(url, headers={**api.auth("drafter"), "If-None-Match": f'W/"x", {etag}'})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    other = api.client.get(url, headers={**api.auth("drafter"), "If-None-Match": '"lain"'})
    assert other.status_code == 200 and other.content == r.content
    current = api.client.get(f"/api/v1/naskah/{nid}/file/pages/1.png", headers=api.auth("drafter"))
    assert current.status_code == 200 and current.headers["cache-control"] == "private, no-cache"


@LOCAL
def test_bad_page_numbers_are_a_404_or_422_with_a_message_never_a_5xx(api):
    nid = create_naskah(api, create_case(api))["id"]
    count = _pages(api, nid, "revisions/1/pages").json()["count"]
    for rest, status, words in [
        (f"revisions/1/pages/{count + 1}.png", 404, f"memiliki {count} halaman"),
        ("revisions/1/pages/0.png", 422, ""),
        ("revisions/1/pages/99999999999.png", 422, ""),
        ("revisions/1/pages/abc.png", 404, ""),
        (f"file/pages/{count + 1}.png", 404, f"memiliki {count} halaman"),
        ("revisions/9/pages", 404, "Revisi 9"),
        ("revisions/9/pages/1.png", 404, "Revisi 9"),
    ]:
        r = _pages(api, nid, rest)
        assert r.status_code == status, (rest, r.status_code, r.text)
        if words:
            assert words in r.json()["message"], r.text
    r = _pages(api, nid, "revisions/1/pages/1.png?ukuran=raksasa")
    assert r.status_code == 422


@TWO
def test_two_concurrent_first_views_render_once_across_processes(api):
    """Two "processes" (two service bundles, each with its own renderer and slots) share the database
    and the store, as API processes behind a load balancer do; their first views arrive together."""
    nid = create_naskah(api, create_case(api))["id"]
    svc = api.services
    with session_scope(svc.engine) as session:
        rev = session.exec(select(Revision).where(Revision.naskah_id == nid)).one()
        source = preview._revision(rev)
    bundles = [replace(svc, page_renderer=PageRenderer()) for _ in range(2)]
    gate = threading.Barrier(2)
    results: list[object] = []

    def view(bundle) -> None:
        gate.wait()
        results.append(preview.document(bundle, source))

    threads = [threading.Thread(target=view, args=(b,)) for b in bundles]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2 and results[0] == results[1]
    assert sum(b.page_renderer.renders for b in bundles) == 1
    versions = [v for v in svc.store.inventory("preview/")]
    assert len(versions) == 2 * results[0].page_count  # one version of each image and thumbnail: no loser's copy


@LOCAL
def test_the_cache_survives_a_restart(api, tmp_path):
    nid = create_naskah(api, create_case(api))["id"]
    first = _pages(api, nid, "revisions/1/pages").json()
    svc = api.services
    assert isinstance(svc.store, LocalObjectStore)
    restarted = replace(svc, store=LocalObjectStore(svc.store.root), page_renderer=PageRenderer())
    settings = Settings(
        database_url="sqlite://", storage_url="file:/nonexistent", migrate_on_start=False, cleanup_on_start=False
    )
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings, restarted)) as client:
        again = client.get(f"/api/v1/naskah/{nid}/revisions/1/pages", headers=api.auth("drafter")).json()
        image = client.get(again["pages"][-1]["image_url"], headers=api.auth("drafter"))
    assert again == first and image.status_code == 200
    assert restarted.page_renderer.renders == 0


@TWO
def test_the_orphan_cleanup_keeps_the_preview_cache(api):
    nid = create_naskah(api, create_case(api))["id"]
    body = _pages(api, nid, "revisions/1/pages").json()
    svc = api.services
    stray = svc.store.put(f"preview/{body['sha256']}/r120-t200/p0001.png", b"\x89PNG stray", content_type="image/png")
    report = cleanup(svc, min_age=timedelta(0))
    assert [(v.key, v.version_id) for v in report.removed] == [(stray.key, stray.version_id)]
    assert not report.foreign
    for page in body["pages"]:  # every cached image still served, nothing rendered again
        assert api.client.get(page["image_url"], headers=api.auth("drafter")).status_code == 200
        assert api.client.get(page["thumb_url"], headers=api.auth("drafter")).status_code == 200
    assert svc.page_renderer.renders == 1


def _blob(store: LocalObjectStore, key: str, version_id: str) -> Path:
    path = next(p for p in store.root.rglob(f"{version_id}.blob") if key.rsplit("/", 1)[-1] in str(p.parent))
    path.chmod(0o644)
    return path


@LOCAL
def test_a_damaged_or_missing_pdf_is_a_storage_error_that_says_so(api):
    nid = create_naskah(api, create_case(api))["id"]
    svc = api.services
    with session_scope(svc.engine) as session:
        rev = session.exec(select(Revision).where(Revision.naskah_id == nid)).one()
    blob = _blob(svc.store, rev.pdf_key, rev.pdf_version_id or "")
    original = blob.read_bytes()
    blob.write_bytes(original[:-10] + b"0000000000")
    r = _pages(api, nid, "revisions/1/pages")
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "storage_unavailable" and r.json()["detail"]["reason"] == "source_damaged"
    assert "Revisi 1" in r.json()["message"] and "Laporkan" in r.json()["message"]
    blob.unlink()
    r = _pages(api, nid, "revisions/1/pages/1.png")
    assert r.status_code == 503 and r.json()["detail"]["reason"] == "source_missing", r.text
    blob.write_bytes(original)  # back: the lock a failed render held was given up, it renders now
    assert _pages(api, nid, "revisions/1/pages").status_code == 200


@LOCAL
def test_a_damaged_cached_image_is_rendered_again_not_served(api):
    nid = create_naskah(api, create_case(api))["id"]
    svc = api.services
    body = _pages(api, nid, "revisions/1/pages").json()
    good = api.client.get(body["pages"][0]["image_url"], headers=api.auth("drafter")).content
    with session_scope(svc.engine) as session:
        row = session.exec(select(PreviewPage).where(PreviewPage.number == 1)).one()
    _blob(svc.store, row.image_key, row.image_version_id).write_bytes(b"\x89PNG\r\n\x1a\n rusak")
    again = api.client.get(body["pages"][0]["image_url"], headers=api.auth("drafter"))
    assert again.status_code == 200 and again.content == good
    assert svc.page_renderer.renders == 2


@LOCAL
def test_pages_past_the_limit_are_not_rendered_and_say_so(api):
    api.services.page_renderer = PageRenderer(PreviewLimits(max_pages=1))
    nid = create_naskah(api, create_case(api))["id"]
    body = _pages(api, nid, "revisions/1/pages").json()
    assert body["count"] >= 2 and body["rendered"] == 1 and body["truncated"] and len(body["pages"]) == 1
    r = _pages(api, nid, "revisions/1/pages/2.png")
    assert r.status_code == 404 and r.json()["detail"]["reason"] == "page_not_rendered", r.text
    assert "1 halaman pertama" in r.json()["message"]


def test_a_render_waits_for_a_free_slot_only_so_long():
    renderer = PageRenderer(PreviewLimits(workers=1, queue=0, timeout_s=0.2))
    assert renderer._slots.acquire()  # a render in progress holds the only slot
    with pytest.raises(ServiceUnavailable) as caught:
        renderer.render(b"%PDF-1.4")
    assert caught.value.detail["reason"] == "preview_busy"
    renderer._slots.release()


def test_a_pdf_poppler_cannot_read_is_refused_with_a_reason():
    from pipeline.errors import DocumentRejected

    with pytest.raises(DocumentRejected) as caught:
        PageRenderer().render(b"%PDF-1.4\nnot really a pdf")
    assert caught.value.detail["reason"] == "preview_failed"


def test_png_size_reads_the_header():
    assert png_size(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x03\xe0\x00\x00\x05{" + b"\0" * 8) == (992, 1403)
    with pytest.raises(ValueError):
        png_size(b"GIF89a")


@LOCAL
def test_the_current_file_is_the_stamped_pdf_during_paraf(api):
    nid = approved_kb(api)
    before = _pages(api, nid, "file/pages", "kabag_pemerintahan").json()
    assert before["kind"] == "revisi" and before["label"] == "Revisi 1"
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    # the next official sees the page as stamped so far, before giving his paraf
    after = _pages(api, nid, "file/pages", "asisten_umum").json()
    assert after["kind"] == "paraf" and after["step"] == 1 and after["sha256"] != before["sha256"]
    assert after["pdf_url"] == f"/api/v1/naskah/{nid}/file.pdf"
    pdf = api.client.get(after["pdf_url"], headers=api.auth("asisten_umum"))
    assert pdf.status_code == 200 and pdf.headers["x-content-sha256"] == after["sha256"]
    assert after["pages"][0]["image_url"] == f"/api/v1/naskah/{nid}/file/pages/1.png"
    image = api.client.get(after["pages"][0]["image_url"], headers=api.auth("asisten_umum"))
    assert image.headers["etag"] == after["pages"][0]["etag"]


@LOCAL
def test_only_those_who_may_see_the_naskah_see_its_pages(signers_api, dev_pki, counterparty_pki, counterparty_person):
    """The access matrix of issue 12 on the preview routes: a naskah the user may not see is 404 (as one
    that does not exist), a revision's pages are internal drafting material (403 for a counterparty's
    official), the current file is what the signers see (the signed KB to the Wali Kota who signed it)."""
    from tests.test_access import SEES_KB_A, SEES_NK_B, SEES_PKS_A, USERS, build_world, expect

    api = signers_api
    w = build_world(api, dev_pki, counterparty_pki, counterparty_person)
    wrong: list[str] = []
    for nid, sees in ((w.kb, SEES_KB_A), (w.pks, SEES_PKS_A), (w.nk, SEES_NK_B)):
        for rest, internal in (
            ("file/pages", False),
            ("file/pages/1.png", False),
            ("file.pdf", False),
            ("revisions/1/pages", True),
            ("revisions/1/pages/1.png?ukuran=kecil", True),
        ):
            for user in USERS:
                r = _pages(api, nid, rest, user)
                want = expect(user, sees, internal=internal)
                if r.status_code != want:
                    wrong.append(f"{user:<20} {nid} {rest:<40} {r.status_code} (expected {want}) {r.text[:100]}")
    assert not wrong, "\n" + "\n".join(wrong)
    signed = _pages(api, w.kb, "file/pages", "walikota.bpp").json()
    assert signed["kind"] == "signed" and signed["label"].startswith("PDF bertanda tangan")
    final = _pages(api, w.nk, "file/pages", "kakantah").json()
    assert final["kind"] == "final"
    assert _pages(api, w.pks, "file/pages", "kadis.dlh").json()["kind"] == "revisi"


def _edited(docx: bytes) -> tuple[bytes, str, str]:
    """A drafter's edit in Word: one word of a pasal changed, a dasar hukum removed, an ayat added."""
    from docx import Document

    doc = Document(io.BytesIO(docx))
    paragraphs = list(doc.paragraphs)
    maksud = next(p for p in paragraphs if "sebagai pedoman" in p.text)
    run = next(r for r in maksud.runs if "pedoman" in r.text)
    run.text = run.text.replace("pedoman", "acuan")
    removed = next(p for p in paragraphs if "Peraturan Pemerintah Nomor 28 Tahun 2018" in p.text)
    removed_text = removed.text
    removed._element.getparent().remove(removed._element)
    added_text = "Kesepakatan ini ditinjau bersama setiap tahun oleh PARA PIHAK."
    following = paragraphs[paragraphs.index(maksud) + 1]
    following.insert_paragraph_before(added_text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue(), " ".join(removed_text.split()), added_text


@LOCAL
def test_the_side_by_side_diff_aligns_rows_and_marks_the_changed_words(api):
    nid = create_naskah(api, create_case(api))["id"]
    docx = _pages(api, nid, "revisions/1/docx").content
    edited, removed_text, added_text = _edited(docx)
    files = {"file": ("r2.docx", edited, "application/octet-stream")}
    r = api.client.post(f"/api/v1/naskah/{nid}/revisions/upload", files=files, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text

    plain = _pages(api, nid, "diff?a=1&b=2").json()
    assert plain["rows"] is None and plain["changes"]  # the answer as before, unless asked
    body = _pages(api, nid, "diff?a=1&b=2&tampilan=berdampingan").json()
    rows = body["rows"]
    assert body["row_counts"] == {"same": len(rows) - 3, "changed": 1, "added": 1, "removed": 1}
    changed = next(row for row in rows if row["kind"] == "changed")
    assert "sebagai pedoman" in changed["left"] and "sebagai acuan" in changed["right"]
    assert [s for s in changed["left_spans"] if s["op"] != "same"] == [{"op": "removed", "text": "pedoman"}]
    assert [s for s in changed["right_spans"] if s["op"] != "same"] == [{"op": "added", "text": "acuan"}]
    removed = next(row for row in rows if row["kind"] == "removed")
    assert removed["left"] == removed_text and removed["right"] is None and removed["right_number"] is None
    added = next(row for row in rows if row["kind"] == "added")
    assert added["right"] == added_text and added["left"] is None
    assert rows.index(added) == rows.index(changed) + 1  # the new ayat right after the pasal it follows
    # every paragraph of each revision once, in order; spans rebuild the paragraph exactly
    assert [r["left_number"] for r in rows if r["left"] is not None] == list(range(1, plain["counts"]["equal"] + 3))
    assert [r["right_number"] for r in rows if r["right"] is not None] == list(range(1, plain["counts"]["equal"] + 3))
    for row in rows:
        for side in ("left", "right"):
            if row[side] is not None:
                assert "".join(s["text"] for s in row[f"{side}_spans"]) == row[side]
    # without the read role (admin) nothing, side by side or not; an unknown view is named
    assert _pages(api, nid, "diff?a=1&b=2&tampilan=berdampingan", "admin").status_code == 403
    assert _pages(api, nid, "diff?a=1&b=2&tampilan=lain").status_code == 422


def test_side_by_side_pairs_a_changed_paragraph_and_keeps_the_rest_apart():
    from pipeline.drafting.diff import Span, side_by_side

    old = ["Pasal 1", "PIHAK KESATU menyediakan lahan seluas 5 hektare.", "Paragraf yang dihapus.", "Penutup."]
    new = [
        "Pasal 1",
        "PIHAK KESATU menyediakan lahan seluas 7 hektare.",
        "Ayat baru yang lain sama sekali.",
        "Penutup.",
    ]
    view = side_by_side(old, new)
    assert [r.kind for r in view.rows] == ["same", "changed", "removed", "added", "same"]
    changed = view.rows[1]
    assert changed.left_spans == [
        Span("same", "PIHAK KESATU menyediakan lahan seluas "),
        Span("removed", "5"),
        Span("same", " hektare."),
    ]
    assert changed.right_spans[1] == Span("added", "7")
    assert side_by_side(old, old).identical and not view.identical


def _source(api, nid: int) -> preview.PreviewSource:
    with session_scope(api.services.engine) as session:
        rev = session.exec(select(Revision).where(Revision.naskah_id == nid)).one()
        return preview._revision(rev)


@LOCAL
def test_a_lease_whose_holder_died_is_taken_over_and_a_live_one_is_waited_for(api):
    from datetime import UTC, datetime

    api.services.page_renderer = PageRenderer(PreviewLimits(timeout_s=0.5))  # a lease of 2 s
    nid = create_naskah(api, create_case(api))["id"]
    source = _source(api, nid)
    variant = api.services.page_renderer.limits.variant
    with session_scope(api.services.engine) as session:  # another process is rendering it right now
        session.add(
            Preview(
                pdf_sha256=source.sha256,
                variant=variant,
                owner="lain",
                lease_until=datetime.now(UTC) + timedelta(hours=1),
            )
        )
    r = _pages(api, nid, "revisions/1/pages")
    assert r.status_code == 503 and r.json()["detail"]["reason"] == "preview_busy", r.text
    assert "coba lagi" in r.json()["message"].lower()
    assert api.services.page_renderer.renders == 0  # it waited, it did not render beside the other
    with session_scope(api.services.engine) as session:  # that process died: its lease runs out
        row = session.exec(select(Preview)).one()
        row.lease_until = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
    api.services.page_renderer = PageRenderer()  # time enough to render
    r = _pages(api, nid, "revisions/1/pages")
    assert r.status_code == 200 and api.services.page_renderer.renders == 1
    with session_scope(api.services.engine) as session:
        row = session.exec(select(Preview)).one()
        assert row.state == "complete" and row.owner != "lain"


@LOCAL
def test_a_preview_is_recorded_in_the_naskahs_audit_trail_as_a_download(api):
    nid = create_naskah(api, create_case(api))["id"]
    body = _pages(api, nid, "revisions/1/pages").json()
    trail = _pages(api, nid, "audit").json()["data"]
    viewed = [e for e in trail if e["action"] == "download" and e["sha256"] == body["sha256"]]
    assert viewed and viewed[-1]["detail"]["file"] == "pratinjau:revisi:r1:0", trail[-1]


def test_preview_settings_reach_the_renderer():
    settings = Settings(preview_dpi=96, preview_thumb_px=160, preview_max_pages=5, preview_workers=3)
    limits = settings.preview_limits
    assert (limits.dpi, limits.thumb_width, limits.max_pages, limits.workers) == (96, 160, 5, 3)
    assert limits.variant == "r96-t160"  # another resolution is another cache
    with pytest.raises(ValueError):
        Settings(preview_dpi=2000)
