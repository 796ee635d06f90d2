"""The Kerja sama pages (issue 13, page 2): the list with search and filters, the create and edit forms,
the detail with its naskah, and the "Buat naskah" form.

Each route is as thin as its API twin in ``api/routes/cases.py``: parse the form into the pipeline's own
input model (``cases.CaseInput``, ``CaseUpdate``, ``CaseQuery``, ``NaskahInput``), call the same pipeline
function, render.  Form fields are named as pydantic names them (``pihak[1].penandatangan_nip``,
``nomor[2]``, ``data.maksud``), so every error the pipeline or pydantic reports lands on its field.

Who sees what is ``pipeline.access``'s: the list and its count come from ``cases.list_cases`` (the
user's cases only), the buttons to create and edit are shown to those the pipeline would let through
(``auth.allowed``, ``access.is_case_drafter``), and a crafted POST from anyone else is refused by the
pipeline with its reason (a 403 page).
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import Id, ServicesDep, SessionDep
from api.web.render import FormErrors, as_naskah_error, form_error, page, page_links
from api.web.security import FormUser, PageUser
from pipeline import access
from pipeline.auth import allowed, require
from pipeline.drafting import cases, revisions
from pipeline.drafting.templates import FieldSpec, dasar_hukum_baku
from pipeline.errors import Conflict, InvalidInput, NaskahError, TemplateDataError
from pipeline.lifecycle import STATUS_LABELS, Status
from pipeline.models import JenisKerjaSama, JenisNaskah, PihakKind
from pipeline.workspace import overview

__all__ = ["JENIS_KERJA_SAMA", "PIHAK_KINDS", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20

JENIS_KERJA_SAMA = {
    JenisKerjaSama.KSDD.value: "Kerja sama daerah dengan daerah lain (KSDD)",
    JenisKerjaSama.KSDPK.value: "Kerja sama daerah dengan pihak ketiga (KSDPK)",
    JenisKerjaSama.KSIV.value: "Kerja sama dengan instansi vertikal (KSIV)",
}
PIHAK_KINDS = {
    PihakKind.PEMDA.value: "Pemerintah Daerah",
    PihakKind.PIHAK_KETIGA.value: "Pihak ketiga (badan usaha, perguruan tinggi, organisasi)",
    PihakKind.INSTANSI_VERTIKAL.value: "Instansi vertikal",
}
ORDINAL = {1: "PIHAK KESATU", 2: "PIHAK KEDUA", 3: "PIHAK KETIGA", 4: "PIHAK KEEMPAT", 5: "PIHAK KELIMA"}
STATUS_FILTER = {**{s.value: STATUS_LABELS[s] for s in Status}, cases.NO_NASKAH: "Belum ada naskah"}

#: The case's own fields, in the form's order (CaseInput's names); EDIT_FIELDS are CaseUpdate's.
CASE_FIELDS = [
    "jenis",
    "judul",
    "objek",
    "manfaat",
    "bentuk",
    "tahun_anggaran_mulai",
    "mulai",
    "selesai",
    "opd_teknis",
]
EDIT_FIELDS = CASE_FIELDS[1:]
PIHAK_KEYS = [
    "instansi",
    "kind",
    "alamat",
    "penandatangan_nama",
    "penandatangan_jabatan",
    "penandatangan_nip",
    "penandatangan_nik",
]
MIN_PIHAK, MAX_PIHAK = 2, 10
_PIHAK_FIELD = re.compile(r"^pihak\[(\d{1,2})\]\.(\w+)$")


async def form_data(request: Request) -> FormData:
    """The submitted form (parsed once; the CSRF check read the same one)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _texts(form: FormData) -> dict[str, str]:
    """The form's text fields as typed (the CSRF token and the buttons aside)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf_token", "aksi")}


# --- the list ------------------------------------------------------------------------------------


@router.get("/kerja-sama", response_class=HTMLResponse)
def daftar(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    q: str = "",
    jenis: str = "",
    status: str = "",
    opd: str = "",
    tahun: str = "",
    halaman: str = "1",
) -> HTMLResponse:
    """The kerja sama the user may see, searched and filtered by a GET form (a bookmarkable URL);
    htmx asks for the results alone when a filter changes."""
    values = {"q": q, "jenis": jenis, "status": status, "opd": opd, "tahun": tahun}
    page_no = int(halaman) if halaman.isdigit() and 0 < int(halaman) < 100_000 else 1
    given = {k: v.strip() for k, v in values.items() if v.strip()}
    errors = FormErrors()
    rows: list[Any] = []
    count = 0
    try:
        query = cases.CaseQuery(**given, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        rows, count = cases.list_cases(session, signed.user, profile=svc.profile, query=query)
    except (ValidationError, NaskahError) as exc:
        error = as_naskah_error(exc)
        if not isinstance(error, InvalidInput):
            raise error from None
        errors = FormErrors.from_error(error, list(values))
    pages = max(1, math.ceil(count / PAGE_SIZE))

    def link(n: int) -> str:
        return "/kerja-sama?" + urlencode({**given, "halaman": n})

    ctx = {
        "rows": overview.list_rows(session, signed.user, svc.profile, rows),
        "count": count,
        **page_links(page_no, pages, link),
        "values": values,
        "errors": errors,
        "form_fields": list(values),
        "filtered": bool(given),
        "jenis_kerja_sama": JENIS_KERJA_SAMA,
        "status_filter": STATUS_FILTER,
        "opd_choices": cases.opd_choices(session, signed.user, profile=svc.profile),
        "may_create": allowed(signed.user, "create_case"),
    }
    if request.headers.get("hx-request"):  # htmx swaps only a 2xx: the fragment says what is wrong itself
        return page(request, "kerjasama/_hasil.html", {**ctx, "fragment": True})
    return page(request, "kerjasama/daftar.html", {**ctx, "fragment": False}, status_code=422 if errors else 200)


# --- create ---------------------------------------------------------------------------------------


def _pihak_count(values: dict[str, str]) -> int:
    found = {int(m.group(1)) for key in values if (m := _PIHAK_FIELD.match(key))}
    return min(MAX_PIHAK, max(MIN_PIHAK, max(found, default=-1) + 1))


def _case_body(values: dict[str, str], count: int) -> dict[str, Any]:
    """CaseInput's shape from the form: an empty field is left out (pydantic says "wajib diisi" for a
    required one; an optional one stays empty)."""
    body: dict[str, Any] = {name: values[name].strip() for name in CASE_FIELDS if values.get(name, "").strip()}
    body["pihak"] = [
        {key: values[f"pihak[{i}].{key}"].strip() for key in PIHAK_KEYS if values.get(f"pihak[{i}].{key}", "").strip()}
        for i in range(count)
    ]
    return body


CASE_LABELS = {
    "jenis": "Jenis kerja sama",
    "judul": "Judul",
    "objek": "Objek kerja sama",
    "manfaat": "Manfaat",
    "bentuk": "Bentuk kerja sama",
    "tahun_anggaran_mulai": "Tahun anggaran mulai",
    "mulai": "Tanggal mulai",
    "selesai": "Tanggal selesai",
    "opd_teknis": "OPD teknis",
}
PIHAK_LABELS = {
    "instansi": "nama instansi",
    "kind": "jenis pihak",
    "alamat": "alamat",
    "penandatangan_nama": "nama penanda tangan",
    "penandatangan_jabatan": "jabatan penanda tangan",
    "penandatangan_nip": "NIP penanda tangan",
    "penandatangan_nik": "NIK penanda tangan",
}


def _labels(count: int) -> dict[str, str]:
    """Each field's label, for the error summary ("PIHAK KEDUA, NIP penanda tangan: ...")."""
    out = dict(CASE_LABELS)
    for i in range(count):
        for key, label in PIHAK_LABELS.items():
            out[f"pihak[{i}].{key}"] = f"{ORDINAL.get(i + 1, f'Pihak ke-{i + 1}')}, {label}"
    return out


def _case_form_fields(count: int) -> list[str]:
    return CASE_FIELDS + [f"pihak[{i}].{key}" for i in range(count) for key in PIHAK_KEYS]


def _case_form_context(count: int, **extra: Any) -> dict[str, Any]:
    return {
        "pihak_count": count,
        "ordinal": ORDINAL,
        "jenis_kerja_sama": JENIS_KERJA_SAMA,
        "pihak_kinds": PIHAK_KINDS,
        "max_pihak": MAX_PIHAK,
        "form_fields": _case_form_fields(count),
        "labels": _labels(count),
        **extra,
    }


@router.get("/kerja-sama/baru", response_class=HTMLResponse)
def baru_form(request: Request, signed: PageUser) -> HTMLResponse:
    """An empty form for a new kerja sama (for those who may create one: the pipeline says who)."""
    require(signed.user, "create_case")
    values = {"pihak[0].kind": PihakKind.PEMDA.value}
    return page(request, "kerjasama/form.html", {**_case_form_context(MIN_PIHAK), "values": values, "case": None})


@router.post("/kerja-sama/baru", response_class=HTMLResponse)
def baru(request: Request, signed: FormUser, session: SessionDep, form: Form) -> Response:
    """Create the kerja sama (``cases.create_case``, as ``POST /api/v1/cases``); "Tambah pihak" and
    "Hapus pihak" only redraw the form with one party more or less (no JavaScript needed)."""
    require(signed.user, "create_case")  # before anything of the input is read back to a stranger
    values = _texts(form)
    count = _pihak_count(values)
    action = str(form.get("aksi") or "simpan")
    if action == "tambah_pihak" and count < MAX_PIHAK:
        return page(request, "kerjasama/form.html", {**_case_form_context(count + 1), "values": values, "case": None})
    if action.startswith("hapus_pihak_"):
        return _without_pihak(request, values, count, action.removeprefix("hapus_pihak_"))
    try:
        data = cases.CaseInput.model_validate(_case_body(values, count))
        case = cases.create_case(session, signed.user, data)
    except (ValidationError, NaskahError) as exc:
        return form_error(
            request,
            "kerjasama/form.html",
            as_naskah_error(exc),
            form_fields=_case_form_fields(count),
            values=values,
            context={**_case_form_context(count), "case": None},
        )
    return RedirectResponse(f"/kerja-sama/{case.id}?dibuat=1", status_code=303)


def _without_pihak(request: Request, values: dict[str, str], count: int, which: str) -> HTMLResponse:
    """The form again without party ``which`` (the later ones move up); PIHAK KESATU and KEDUA stay."""
    index = int(which) if which.isdigit() else -1
    if index < MIN_PIHAK or index >= count:
        return page(request, "kerjasama/form.html", {**_case_form_context(count), "values": values, "case": None})
    kept = {k: v for k, v in values.items() if not _PIHAK_FIELD.match(k)}
    for i in range(count):
        if i == index:
            continue
        new = i if i < index else i - 1
        for key in PIHAK_KEYS:
            if f"pihak[{i}].{key}" in values:
                kept[f"pihak[{new}].{key}"] = values[f"pihak[{i}].{key}"]
    return page(request, "kerjasama/form.html", {**_case_form_context(count - 1), "values": kept, "case": None})


# --- edit -----------------------------------------------------------------------------------------


def _frozen_page(request: Request, exc: Conflict, case_id: int) -> HTMLResponse:
    """Why the case's data cannot change (409 ``case_frozen``), instead of a form."""
    listed = exc.detail.get("naskah") or []
    for item in listed:
        item["label"] = STATUS_LABELS.get(Status(item["status"]), item["status"]) if item.get("status") else ""
    ctx = {"message": exc.message, "reason": exc.detail.get("reason"), "frozen": listed, "case_id": case_id}
    return page(request, "kerjasama/beku.html", ctx, status_code=409)


@router.get("/kerja-sama/{case_id}/ubah", response_class=HTMLResponse)
def ubah_form(request: Request, case_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The edit form with the case's data, or why it cannot be edited (``cases.case_for_edit``)."""
    try:
        case = cases.case_for_edit(session, signed.user, case_id, profile=svc.profile)
    except Conflict as exc:
        if exc.detail.get("reason") == "case_frozen":
            return _frozen_page(request, exc, case_id)
        raise
    values = {name: str(getattr(case, name)) for name in EDIT_FIELDS}
    ctx = {
        "case": case,
        "values": values,
        "form_fields": EDIT_FIELDS,
        "jenis_kerja_sama": JENIS_KERJA_SAMA,
        "labels": CASE_LABELS,
    }
    return page(request, "kerjasama/ubah.html", ctx)


@router.post("/kerja-sama/{case_id}/ubah", response_class=HTMLResponse)
def ubah(
    request: Request, case_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep, form: Form
) -> Response:
    """Correct the case's data (``cases.update_case``, as ``PATCH /api/v1/cases/{id}``).  Every field is
    sent: a field emptied is an error on that field, not a silent "keep the old value"."""
    try:
        case = cases.case_for_edit(session, signed.user, case_id, profile=svc.profile)
    except Conflict as exc:
        if exc.detail.get("reason") == "case_frozen":
            return _frozen_page(request, exc, case_id)
        raise
    values = _texts(form)
    body = {name: values.get(name, "").strip() for name in EDIT_FIELDS}
    try:
        patch = cases.CaseUpdate.model_validate(body)
        cases.update_case(session, signed.user, case_id, patch, profile=svc.profile)
    except (ValidationError, NaskahError) as exc:
        ctx = {"case": case, "jenis_kerja_sama": JENIS_KERJA_SAMA, "labels": CASE_LABELS}
        return form_error(
            request, "kerjasama/ubah.html", as_naskah_error(exc), form_fields=EDIT_FIELDS, values=values, context=ctx
        )
    return RedirectResponse(f"/kerja-sama/{case_id}?diubah=1", status_code=303)


# --- detail ---------------------------------------------------------------------------------------


def _naskah_choices(svc: Any, case: Any, tree: list[overview.NaskahOverview]) -> dict[str, Any]:
    """What the "Buat naskah" form offers: the jenis this case may have, their templates, and the
    naskah that can be an induk (a KB for a PKS, a PKS for a Surat Kuasa), among those shown."""
    allowed_jenis = sorted(cases.ALLOWED_NASKAH[JenisKerjaSama(case.jenis)], key=lambda j: list(JenisNaskah).index(j))
    templates = [
        t for j in allowed_jenis for t in svc.templates.for_jenis(j.value) if not t.serves or case.jenis in t.serves
    ]
    flat: list[overview.NaskahOverview] = []

    def walk(items: list[overview.NaskahOverview]) -> None:
        for item in items:
            flat.append(item)
            walk(item.children)

    walk(tree)
    parents = [
        item
        for item in flat
        if item.naskah.jenis in (JenisNaskah.KB.value, JenisNaskah.PKS.value) and item.naskah.status != "cancelled"
    ]
    return {
        "naskah_jenis": [(j.value, f"{cases.NASKAH_NAMES[j]} ({j.value})") for j in allowed_jenis],
        "template_choices": [(t.name, f"{t.jenis} · {t.title}") for t in templates],
        "parent_choices": [(str(p.naskah.id), f"{p.naskah.jenis} {p.naskah.id} · {p.status_label}") for p in parents],
        "templates": templates,
        "parents": parents,
    }


@router.get("/kerja-sama/{case_id}", response_class=HTMLResponse)
def rincian(
    request: Request,
    case_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    dibuat: int = 0,
    diubah: int = 0,
) -> HTMLResponse:
    """The case with its parties and its naskah (``cases.get_case``, ``overview.case_naskah``)."""
    user = signed.user
    case = cases.get_case(session, user, case_id, profile=svc.profile)
    tree = overview.case_naskah(session, user, svc.profile, case)
    editor = allowed(user, "edit_case") and access.is_case_drafter(session, user, case)
    frozen = access.frozen_by(session, case) if editor else []
    ctx = {
        "case": case,
        "pihak": cases.pihak_of(session, case_id),
        "tree": tree,
        "editor": editor,
        "frozen": frozen,
        "may_add_naskah": allowed(user, "create_naskah") and editor,
        "created": bool(dibuat),
        "changed": bool(diubah),
        "jenis_kerja_sama": JENIS_KERJA_SAMA,
        "pihak_kinds": PIHAK_KINDS,
        "ordinal": ORDINAL,
        "dasar_hukum": dasar_hukum_baku(case.jenis),
        **_naskah_choices(svc, case, tree),
    }
    return page(request, "kerjasama/rincian.html", ctx)


# --- a new naskah: choose (jenis, template, induk), then fill in what the case does not give ----------

CHOOSE_FIELDS = ["jenis", "template", "parent_id"]


def _choose_page(
    request: Request, svc: Any, session: Any, user: Any, case_id: int, values: dict[str, str], errors: FormErrors
) -> HTMLResponse:
    case = cases.get_case(session, user, case_id, profile=svc.profile)
    tree = overview.case_naskah(session, user, svc.profile, case)
    ctx = {
        "case": case,
        "values": values,
        "errors": errors,
        "form_fields": CHOOSE_FIELDS,
        **_naskah_choices(svc, case, tree),
    }
    return page(request, "kerjasama/naskah_pilih.html", ctx, status_code=422 if errors else 200)


def _plan(svc: Any, user: Any, case_id: int, values: dict[str, str]) -> revisions.NaskahPlan:
    """The pipeline's checks of a new naskah before its own input (``revisions.plan_naskah``)."""
    parsed = cases.NaskahInput.model_validate(
        {
            "jenis": values.get("jenis") or None,
            "template": values.get("template") or None,
            "parent_id": values.get("parent_id") or None,
            "nomor": {},
        }
    )
    return revisions.plan_naskah(svc, user, case_id, parsed.jenis, parsed.template, parsed.parent_id)


def _fill_context(case: Any, plan: revisions.NaskahPlan, values: dict[str, str]) -> dict[str, Any]:
    numbered = [p for p in plan.pihak if plan.template.jenis != JenisNaskah.SK.value or p.urutan == 1]
    fields = [f"nomor[{p.urutan}]" for p in numbered] + [f"data.{f.name}" for f in plan.to_fill] + ["note"]
    return {
        "case": case,
        "plan": plan,
        "numbered": numbered,
        "ordinal": ORDINAL,
        "choice": {k: values.get(k, "") for k in CHOOSE_FIELDS},
        "form_fields": fields,
        "labels": {
            **{f"nomor[{p.urutan}]": f"Nomor {ORDINAL.get(p.urutan, p.urutan)}" for p in numbered},
            **{f"data.{f.name}": f.name.replace("_", " ").capitalize() for f in plan.to_fill},
            "note": "Catatan revisi",
        },
        "dasar_hukum": dasar_hukum_baku(case.jenis),
        "nama_jenis": cases.NASKAH_NAMES[JenisNaskah(plan.template.jenis)],
    }


@router.get("/kerja-sama/{case_id}/naskah/baru", response_class=HTMLResponse)
def naskah_baru_form(
    request: Request,
    case_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    jenis: str = "",
    template: str = "",
    parent_id: str = "",
) -> HTMLResponse:
    """Step 1 (no jenis yet): choose.  Step 2: the pipeline accepted the choice; the form asks each
    party's nomor and the template's fields the case does not supply."""
    user = signed.user
    values = {"jenis": jenis, "template": template, "parent_id": parent_id}
    if not jenis:
        require(user, "create_naskah")
        access.require_case_editor(session, user, cases.get_case(session, user, case_id, profile=svc.profile))
        return _choose_page(request, svc, session, user, case_id, values, FormErrors())
    try:
        plan = _plan(svc, user, case_id, values)
    except (ValidationError, NaskahError) as exc:
        error = as_naskah_error(exc)
        if not isinstance(error, InvalidInput):
            raise error from None
        return _choose_page(request, svc, session, user, case_id, values, FormErrors.from_error(error, CHOOSE_FIELDS))
    case = cases.get_case(session, user, case_id, profile=svc.profile)
    prefill = {"data.cara_penandatanganan": "tatap_muka"}
    return page(request, "kerjasama/naskah_isi.html", {**_fill_context(case, plan, values), "values": prefill})


def _data_of(form: FormData, to_fill: tuple[FieldSpec, ...]) -> dict[str, Any]:
    """The template's fields from the form, in the types the manifest declares: a list one item per
    line, a yes/no box, a table or object as JSON; an empty field is left out (the template's own
    check says which are required)."""
    data: dict[str, Any] = {}
    for spec in to_fill:
        raw = form.get(f"data.{spec.name}")
        text = raw.strip() if isinstance(raw, str) else ""
        if spec.type == "boolean":
            if raw is not None:
                data[spec.name] = text in ("1", "on", "ya", "true")
            continue
        if not text:
            continue
        if spec.type == "text_list":
            data[spec.name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif spec.type in ("table", "object", "pihak"):
            try:
                data[spec.name] = json.loads(text)
            except ValueError:
                raise InvalidInput(
                    f"Isian {spec.name} harus ditulis sebagai JSON (lihat petunjuknya).", field=f"data.{spec.name}"
                ) from None
        else:
            data[spec.name] = text
    return data


def _template_error(exc: TemplateDataError) -> InvalidInput:
    """The template's check (``detail.missing``, ``detail.invalid``) as the form's fields (``data.x``)."""

    def top(path: str) -> str:
        return "data." + re.split(r"[.\[]", path, maxsplit=1)[0]

    fields = [{"field": top(m), "message": "wajib diisi"} for m in exc.detail.get("missing") or []]
    fields += [
        {"field": top(i["field"]), "message": f"{i['field']}: {i['message']}"} for i in exc.detail.get("invalid") or []
    ]
    return InvalidInput(exc.message, fields=fields) if fields else InvalidInput(exc.message)


def _nomor_error(exc: Conflict) -> InvalidInput:
    """A nomor another naskah of the same party holds, on that party's nomor field."""
    fields = [
        {
            "field": f"nomor[{d['pihak_urutan']}]",
            "message": f"nomor ini sudah dipakai {d['instansi']} untuk naskah {d['naskah_id']} ({d['jenis']})",
        }
        for d in exc.detail.get("duplicates") or []
    ]
    return InvalidInput(exc.message, fields=fields) if fields else InvalidInput(exc.message, field="nomor")


@router.post("/kerja-sama/{case_id}/naskah/baru", response_class=HTMLResponse)
def naskah_baru(
    request: Request, case_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep, form: Form
) -> Response:
    """Create the naskah and its first revision (``revisions.create_naskah``, as
    ``POST /api/v1/cases/{id}/naskah``), then go to its page."""
    user = signed.user
    values = _texts(form)
    try:  # refused (403/404/422) as on the way in: a crafted choice has no form to show
        plan = _plan(svc, user, case_id, values)
    except ValidationError as exc:
        raise as_naskah_error(exc) from None
    case = cases.get_case(session, user, case_id, profile=svc.profile)
    ctx = _fill_context(case, plan, values)
    status = 422
    try:
        body = {
            "jenis": plan.template.jenis,
            "template": plan.template.name,
            "parent_id": plan.parent.id if plan.parent is not None else None,
            "nomor": {p.urutan: nomor for p in ctx["numbered"] if (nomor := values.get(f"nomor[{p.urutan}]"))},
            "data": _data_of(form, plan.to_fill),
            "note": values.get("note", ""),
        }
        naskah, _rev = revisions.create_naskah(svc, user, case_id, cases.NaskahInput.model_validate(body))
    except TemplateDataError as exc:
        error: NaskahError = _template_error(exc)
    except Conflict as exc:
        if exc.detail.get("reason") != "nomor_duplicate":
            raise
        error, status = _nomor_error(exc), 409
    except (ValidationError, NaskahError) as exc:
        error = as_naskah_error(exc)
    else:
        return RedirectResponse(f"/naskah/{naskah.id}", status_code=303)
    response = form_error(
        request, "kerjasama/naskah_isi.html", error, form_fields=ctx["form_fields"], values=values, context=ctx
    )
    response.status_code = status if response.status_code == 422 else response.status_code
    return response
