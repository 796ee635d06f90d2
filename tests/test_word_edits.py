"""Rendering from data after a Word-edited upload would drop the Word edits: refused unless confirmed.

The refusal names the revisions and the paragraphs that would be lost (or come back after being
deleted in Word); the confirmation names the newest revision whose edits are given up, so a
confirmation made before someone uploaded again does not discard the newer edits.
"""

from __future__ import annotations

import io

import pytest
from docx import Document

from api.demo import edit_in_word
from pipeline.drafting.diff import docx_paragraphs
from tests.test_api import create_case, create_naskah

pytestmark = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)


def upload(api, nid: int, docx: bytes, note: str = "disunting di Word") -> dict:
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/upload",
        files={"file": ("kb.docx", docx, "application/octet-stream")},
        data={"note": note},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def render(api, nid: int, **body):
    return api.client.post(f"/api/v1/naskah/{nid}/revisions/render", json=body, headers=api.auth("drafter"))


def docx_of(api, nid: int, number: int) -> bytes:
    return api.client.get(f"/api/v1/naskah/{nid}/revisions/{number}/docx", headers=api.auth("drafter")).content


def delete_paragraph(docx: bytes, containing: str) -> tuple[bytes, str]:
    doc = Document(io.BytesIO(docx))
    target = next(p for p in doc.paragraphs if containing in p.text)
    text = " ".join(target.text.split())
    target._element.getparent().remove(target._element)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue(), text


def test_rendering_after_a_word_upload_is_refused_and_names_what_would_be_lost(api):
    nid = create_naskah(api, create_case(api))["id"]
    edited = edit_in_word(docx_of(api, nid, 1))  # a sentence added to a pasal, a paragraph added at the end
    edited, deleted = delete_paragraph(edited, "maksud")  # and one paragraph deleted
    upload(api, nid, edited)

    r = render(api, nid, data={"tempat": "Tanah Grogot"}, note="tempat diubah")
    assert r.status_code == 409, r.text
    body = r.json()
    detail = body["detail"]
    assert body["code"] == "conflict" and detail["reason"] == "word_edits_would_be_lost"
    assert detail["last_rendered"] == 1 and detail["uploaded_revisions"] == [2]
    assert detail["confirm_with"] == {"buang_suntingan_word": 2}
    lost = detail["lost_paragraphs"]
    assert any(p.startswith("Catatan koreksi: penulisan nama jabatan") for p in lost), lost
    assert any("Salinan naskah ini disampaikan kepada Perangkat Daerah terkait." in p for p in lost), lost
    assert detail["restored_paragraphs"] == [deleted]
    assert detail["lost_count"] == len(lost) == 2
    assert "revisi 2" in body["message"] and "buang_suntingan_word" in body["message"]
    assert lost[0][:40] in body["message"]  # the message quotes the first lost paragraph
    # nothing was stored, the Word edits are still the newest text
    revs = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("drafter")).json()
    assert revs["count"] == 2 and revs["data"][-1]["source"] == "uploaded"


def test_a_stale_confirmation_does_not_discard_newer_word_edits(api):
    nid = create_naskah(api, create_case(api))["id"]
    upload(api, nid, edit_in_word(docx_of(api, nid, 1)))  # revision 2
    refused = render(api, nid).json()["detail"]
    assert refused["confirm_with"] == {"buang_suntingan_word": 2}
    # meanwhile a colleague uploads revision 3 with one more edit
    doc = Document(io.BytesIO(docx_of(api, nid, 2)))
    doc.add_paragraph("Tambahan dari Bagian Hukum yang belum dibaca penyusun.")
    out = io.BytesIO()
    doc.save(out)
    upload(api, nid, out.getvalue(), "tambahan Bagian Hukum")
    r = render(api, nid, buang_suntingan_word=2)  # the confirmation the drafter was given before
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert detail["uploaded_revisions"] == [2, 3] and detail["confirm_with"] == {"buang_suntingan_word": 3}
    assert "Tambahan dari Bagian Hukum yang belum dibaca penyusun." in detail["lost_paragraphs"]

    r = render(api, nid, data={"tempat": "Tanah Grogot"}, note="kembali ke data", buang_suntingan_word=3)
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 4 and r.json()["source"] == "rendered"
    text = " ".join(docx_paragraphs(docx_of(api, nid, 4)))
    assert "Tanah Grogot" in text and "Catatan koreksi" not in text
    # the audit trail says which Word edits were given up
    trail = api.client.get(f"/api/v1/naskah/{nid}/audit", headers=api.auth("drafter")).json()["data"]
    revise = [e for e in trail if e["action"] == "revise"][-1]
    assert revise["detail"]["discarded_word_edits"] == [2, 3]
    # a rendered revision is now the newest: rendering again needs no confirmation
    assert render(api, nid, data={"tempat": "Balikpapan"}).status_code == 201


def test_rendering_after_a_rendered_revision_needs_no_confirmation(api):
    nid = create_naskah(api, create_case(api))["id"]
    r = render(api, nid, data={"tempat": "Tanah Grogot"})
    assert r.status_code == 201 and r.json()["number"] == 2, r.text


def test_an_upload_arriving_while_rendering_is_not_overwritten(api, monkeypatch):
    """The check sees a rendered newest revision; a Word upload lands before the render is stored."""
    from sqlmodel import select

    from pipeline.drafting import revisions
    from pipeline.errors import Conflict
    from pipeline.models import User
    from storage.db import session_scope

    nid = create_naskah(api, create_case(api))["id"]
    edited = edit_in_word(docx_of(api, nid, 1))
    with session_scope(api.services.engine) as session:
        drafter = session.exec(select(User).where(User.username == "u-drafter")).one()
    real, started = revisions._convert, []

    def convert_while_a_colleague_uploads(svc, docx):
        if not started:
            started.append(True)
            revisions.upload_revision(svc, drafter, nid, edited, "unggahan rekan")
        return real(svc, docx)

    monkeypatch.setattr(revisions, "_convert", convert_while_a_colleague_uploads)
    with pytest.raises(Conflict) as refused:
        revisions.render_revision(api.services, drafter, nid, {"tempat": "Tanah Grogot"})
    assert refused.value.detail["reason"] == "newer_revision"
    revs = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("drafter")).json()
    assert [r["source"] for r in revs["data"]] == ["rendered", "uploaded"]  # the upload is the newest text
