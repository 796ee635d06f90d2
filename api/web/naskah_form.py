"""The "Revisi baru" form, generated from a template's manifest (``pipeline.drafting.templates.FieldSpec``).

Only translation between HTML forms and the data ``POST /api/v1/naskah/{id}/revisions/render`` takes;
every rule (required fields, types, dates in order, the five-year limit, text rules, sizes) stays in
the pipeline, whose :class:`~pipeline.errors.TemplateDataError` is laid back on the fields here.

One form field per value, named as the pipeline names it in its errors, so a refusal lands on the
field: ``judul``; ``pihak_kesatu.nama`` (a party or an object); ``rencana_kerja[0].lokasi`` (a cell of
a table); a text list is one ``<textarea>`` named after the list, one item per line (an error about
``ruang_lingkup[2]`` marks ``ruang_lingkup``, saying "butir 3").  Image fields (a party's lambang)
come from the kerja sama, not from this form; ``any`` fields (none in the shipped templates) are
left as they are.

What is sent: only the fields whose value differs from what a render without changes would use
(:func:`changed_data`), exactly as a client of the API sends "isian yang diubah; sisanya tetap".
A field taken from the kerja sama (the parties, judul, jangka waktu) stays taken from it until the
drafter changes it here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.drafting.templates import FieldSpec
from pipeline.errors import NaskahError

__all__ = [
    "EXTRA_TABLE_ROWS",
    "FormField",
    "changed_data",
    "encode",
    "form_field_names",
    "form_fields",
    "laid_on_fields",
]

#: Empty rows a table offers below its filled ones (a row left empty is not sent).
EXTRA_TABLE_ROWS = 2
SHOWN_TYPES = frozenset(
    {"text", "integer", "rupiah", "date", "boolean", "choice", "text_list", "pihak", "object", "table"}
)
_LONG_TEXT = frozenset({"maksud", "tujuan", "objek", "manfaat", "untuk", "keterangan", "output", "program"})
_WORDS = {
    "kb": "KB",
    "pks": "PKS",
    "nip": "NIP",
    "pj": "Penanggung jawab",
    "opd": "OPD",
    "ttd": "tanda tangan",
}


def label_of(name: str) -> str:
    """A field name as a label: ``pihak_kesatu`` -> "Pihak kesatu", ``kb_nomor_pihak_kedua`` -> "KB nomor
    pihak kedua"."""
    words = [_WORDS.get(w, w) for w in name.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


@dataclass(frozen=True)
class FormField:
    """One manifest field as the template draws it."""

    spec: FieldSpec
    label: str
    sub: tuple[FormField, ...] = ()
    rows: int = 0
    """Tables: how many rows the form shows (the filled ones and :data:`EXTRA_TABLE_ROWS` empty)."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def type(self) -> str:
        return self.spec.type

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def hint(self) -> str:
        return self.spec.description

    @property
    def long(self) -> bool:
        return self.spec.type == "text" and self.spec.name in _LONG_TEXT


def _field(spec: FieldSpec, rows: int = 0) -> FormField:
    return FormField(spec, label_of(spec.name), tuple(_field(s) for s in spec.items), rows)


def form_fields(fields: tuple[FieldSpec, ...], values: Mapping[str, Any]) -> list[FormField]:
    """The manifest's fields the form shows, each table with room for its filled rows plus empty ones."""
    out = []
    for spec in fields:
        if spec.type not in SHOWN_TYPES:
            continue
        rows = 0
        if spec.type == "table":
            filled = max(
                (int(m.group(1)) + 1 for k in values if (m := re.match(rf"{spec.name}\[(\d+)\]\.", k))), default=0
            )
            rows = filled + EXTRA_TABLE_ROWS
        out.append(_field(spec, rows))
    return out


def form_field_names(fields: list[FormField]) -> list[str]:
    """Every input's name in the form's order (the error summary's order); a table's own name first,
    for an error about the table as a whole."""
    names: list[str] = []
    for f in fields:
        if f.type in ("pihak", "object"):
            names += [f"{f.name}.{s.name}" for s in f.sub]
        elif f.type == "table":
            names.append(f.name)
            names += [f"{f.name}[{i}].{s.name}" for i in range(f.rows) for s in f.sub]
        else:
            names.append(f.name)
    return names


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode(fields: tuple[FieldSpec, ...], data: Mapping[str, Any]) -> dict[str, str]:
    """Template data as the form's flat values (what the inputs show)."""
    out: dict[str, str] = {}
    for spec in fields:
        if spec.type not in SHOWN_TYPES:
            continue
        value = data.get(spec.name)
        if spec.type in ("pihak", "object"):
            sub = value if isinstance(value, Mapping) else {}
            for s in spec.items:
                out[f"{spec.name}.{s.name}"] = _text(sub.get(s.name))
        elif spec.type == "table":
            for i, row in enumerate(value if isinstance(value, list) else []):
                cells = row if isinstance(row, Mapping) else {}
                for s in spec.items:
                    out[f"{spec.name}[{i}].{s.name}"] = _text(cells.get(s.name))
        elif spec.type == "text_list":
            out[spec.name] = "\n".join(_text(v) for v in value) if isinstance(value, list) else ""
        else:
            out[spec.name] = _text(value)
    return out


def _scalar(spec: FieldSpec, raw: str) -> Any:
    """One typed value from its input: an empty input is "not given" (None), except text ("")."""
    if spec.type == "boolean":
        return bool(raw)
    if spec.type == "text":
        return raw
    stripped = raw.strip()
    return stripped or None


def _decoded(spec: FieldSpec, form: Mapping[str, str]) -> Any:
    if spec.type in ("pihak", "object"):
        sub = {s.name: _scalar(s, form.get(f"{spec.name}.{s.name}", "")) for s in spec.items}
        if not any(v not in (None, "", False) for v in sub.values()):
            return None
        return {k: v for k, v in sub.items() if v is not None}
    if spec.type == "table":
        rows = []
        indexes = sorted({int(m.group(1)) for k in form if (m := re.match(rf"{re.escape(spec.name)}\[(\d+)\]\.", k))})
        for i in indexes:
            row = {s.name: _scalar(s, form.get(f"{spec.name}[{i}].{s.name}", "")) for s in spec.items}
            if any(v not in (None, "", False) for v in row.values()):
                rows.append({k: v for k, v in row.items() if v is not None})
        return rows
    if spec.type == "text_list":
        return [line.strip() for line in form.get(spec.name, "").splitlines() if line.strip()]
    return _scalar(spec, form.get(spec.name, ""))


def changed_data(fields: tuple[FieldSpec, ...], form: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The fields the drafter changed, as the render takes them: each field whose inputs differ from
    what the form showed for ``current`` (compared as the form shows them, so an untouched field is
    never sent, even when its value only looks different as text)."""
    before = encode(fields, current)
    after = encode(fields, {s.name: _decoded(s, form) for s in fields if s.type in SHOWN_TYPES})
    changed: dict[str, Any] = {}
    for spec in fields:
        if spec.type not in SHOWN_TYPES:
            continue
        prefix = (spec.name, f"{spec.name}.", f"{spec.name}[")
        mine = {k: v for k, v in after.items() if k == spec.name or k.startswith(prefix[1:])}
        old = {k: v for k, v in before.items() if k == spec.name or k.startswith(prefix[1:])}
        if {k: v for k, v in mine.items() if v} != {k: v for k, v in old.items() if v}:
            changed[spec.name] = _decoded(spec, form)
    return changed


_INDEX = re.compile(r"^(?P<name>[a-z0-9_]+)\[(?P<i>\d+)\](?:\.(?P<sub>[a-z0-9_]+))?$")


def _place(path: str, names: list[str], fields: list[FormField]) -> tuple[str | None, str]:
    """(the form field an error path belongs to, a prefix saying which item), or (None, "")."""
    match = _INDEX.match(path)
    if match:
        top, index, sub = match["name"], int(match["i"]) + 1, match["sub"]
        if path in names:  # a table's cell: the label names the column
            return path, f"baris {index}: "
        if sub is None and top in names:
            return top, f"butir {index}: "
        if top in names:
            return top, f"baris {index}{' kolom ' + label_of(sub).lower() if sub else ''}: "
    if path in names:
        return path, ""
    top = re.split(r"[.\[]", path, maxsplit=1)[0]
    field = next((f for f in fields if f.name == top), None)
    if field is not None:
        first = next((n for n in names if n == top or n.startswith((f"{top}.", f"{top}["))), None)
        return first, ""
    return None, ""


def laid_on_fields(exc: NaskahError, fields: list[FormField]) -> tuple[NaskahError, list[str]]:
    """A :class:`~pipeline.errors.TemplateDataError` (``detail.missing``: paths; ``detail.invalid``:
    ``{field, message}``) as ``detail.fields`` the form's error summary lays on the inputs, with a
    message per field a person can act on, and the messages about no input of the form (said in the
    summary).  Other errors pass unchanged."""
    missing = exc.detail.get("missing")
    invalid = exc.detail.get("invalid")
    if not isinstance(missing, list) and not isinstance(invalid, list):
        return exc, []
    names = form_field_names(fields)
    labels = {f"{f.name}.{s.name}": f"{f.label}: {s.label.lower()}" for f in fields for s in f.sub}
    labels.update({f.name: f.label for f in fields})
    placed: list[dict[str, str]] = []
    general: list[str] = []

    def label(name: str) -> str:
        plain = re.sub(r"\[\d+\]", "", name)
        return labels.get(name) or labels.get(plain) or label_of(plain.rsplit(".", 1)[-1])

    for path in missing if isinstance(missing, list) else []:
        name, which = _place(str(path), names, fields)
        if name is None:
            general.append(f"{label_of(str(path))} wajib diisi.")
        else:
            placed.append({"field": name, "message": f"{label(name)}: {which}wajib diisi."})
    for item in invalid if isinstance(invalid, list) else []:
        path, message = str(item.get("field", "")), str(item.get("message", ""))
        name, which = _place(path, names, fields)
        if name is None:
            general.append(f"{path}: {message}")
        else:
            placed.append({"field": name, "message": f"{label(name)}: {which}{message}"})
    if not placed:
        return exc, []
    return type(exc)(exc.message, **{**exc.detail, "fields": placed}), general
