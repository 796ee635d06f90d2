"""Naskah templates: DOCX files with Jinja tags (docxtpl), each described by a TOML manifest.

Layout on disk: ``<root>/<jenis>/<variant>.docx`` with ``<variant>.toml`` beside it (see
``templates/naskah`` and ``templates/build.py``).  The manifest says which naskah the
template produces, which jenis kerja sama it serves, where the per-page paraf marks go,
and every field the template needs with its type.

Templates come from people (a region may add its own directory), so a template is
checked completely when it is loaded, not when a drafter first renders it:

* the Jinja source is parsed with the very sandboxed environment used for rendering;
  syntax errors, unknown filters, ``include``/``import`` and any reach for Python
  internals (attributes or keys starting with ``_``) are refused;
* the variables the template uses must be exactly the fields the manifest declares
  (a field never used, or a variable never declared, is a mistake either way), and
  sub-fields (``pihak_kesatu.nama``, ``r.lokasi`` in a table loop) must exist.

Rendering always runs inside ``ImmutableSandboxedEnvironment`` with autoescape (data is
XML-escaped, so ``&``, ``<`` and quotes come out literally) and ``StrictUndefined``; data is
validated first against a pydantic model built from the manifest, so a drafter sees every
missing or malformed field at once, named, in Indonesian.  "image" fields (a party's lambang)
take PNG/JPEG bytes that the pipeline read from the store and passes to :func:`render_docx`;
they become docxtpl ``InlineImage`` objects there, so template code never opens a file.  The
rendered DOCX carries the naskah's own properties (:func:`naskah_properties`: judul, the
Pemda, jenis and nomor, id-ID), which LibreOffice writes into the PDF's Info and XMP.

docxtpl notes (0.20): ``DocxTemplate.render(context, jinja_env, autoescape=False)`` leaves
the environment's own ``autoescape`` alone unless ``autoescape=True`` is passed (then it
*assigns* it on the env); every docxtpl entry point that is not given ``jinja_env`` falls
back to a plain, unsandboxed ``jinja2.Environment`` (body, headers, footers, footnotes and
the document properties author/title/subject/... are all rendered), so ``jinja_env`` is
always passed.  ``get_undeclared_template_variables`` looks only at body, headers and
footers; footnotes and document properties are analysed here as well.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import keyword
import logging
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import jinja2
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model
from pydantic_core import PydanticCustomError

from pipeline.errors import NotFound, TemplateDataError, TemplateError
from pipeline.models import JENIS_KERJA_SAMA, JENIS_NASKAH, JENIS_SURAT
from pipeline.sop import CORNERS, DEFAULT_PARAF, ParafBox
from pipeline.terbilang import (
    akhir_jangka_waktu,
    jangka_waktu,
    parse_tanggal,
    rupiah,
    rupiah_terbilang,
    tanggal,
    tanggal_terbilang,
    terbilang,
)
from pipeline.textcheck import text_problem

__all__ = [
    "CORNERS",
    "DASAR_HUKUM_BAKU",
    "FIELD_TYPES",
    "IMAGE_TYPES",
    "JENIS_NASKAH",
    "JENIS_SURAT",
    "MAX_DATA_BYTES",
    "MAX_LIST_ITEMS",
    "MAX_TEXT_CHARS",
    "NAMA_NASKAH",
    "PIHAK_ITEMS",
    "DocProperties",
    "FieldSpec",
    "ParafBox",
    "TemplateInfo",
    "TemplateRegistry",
    "dasar_hukum_baku",
    "data_size_problems",
    "default_template_root",
    "huruf",
    "image_type",
    "load_template",
    "make_environment",
    "naskah_properties",
    "pihak_tebal",
    "render_docx",
    "sample_data",
    "set_properties",
    "validate_data",
]

log = logging.getLogger(__name__)

FIELD_TYPES = (
    "text",
    "integer",
    "rupiah",
    "date",
    "boolean",
    "choice",
    "text_list",
    "pihak",
    "table",
    "object",
    "image",
    "any",
)
#: What an "image" field holds (a lambang): PNG or JPEG bytes, by their magic numbers.
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
#: Height of an image field in the document (a lambang above the title or the kop).
IMAGE_HEIGHT = Cm(1.8)
NAMA_NASKAH = {
    "KB": "Kesepakatan Bersama",
    "NK": "Nota Kesepakatan",
    "PKS": "Perjanjian Kerja Sama",
    "SK": "Surat Kuasa",
}
_UU_PEMDA = (
    "Undang-Undang Nomor 23 Tahun 2014 tentang Pemerintahan Daerah sebagaimana telah beberapa kali diubah, "
    "terakhir dengan Undang-Undang Nomor 6 Tahun 2023 tentang Penetapan Peraturan Pemerintah Pengganti "
    "Undang-Undang Nomor 2 Tahun 2022 tentang Cipta Kerja menjadi Undang-Undang"
)
_PP_KERJA_SAMA = "Peraturan Pemerintah Nomor 28 Tahun 2018 tentang Kerja Sama Daerah"
_PERMENDAGRI_22 = (
    "Peraturan Menteri Dalam Negeri Nomor 22 Tahun 2020 tentang Tata Cara Kerja Sama Daerah dengan Daerah Lain "
    "dan Kerja Sama Daerah dengan Pihak Ketiga"
)
_UU_ADMINISTRASI = "Undang-Undang Nomor 30 Tahun 2014 tentang Administrasi Pemerintahan"
DASAR_HUKUM_BAKU: dict[str, tuple[str, ...]] = {
    "KSDD": (_UU_PEMDA, _PP_KERJA_SAMA, _PERMENDAGRI_22),
    "KSDPK": (_UU_PEMDA, _PP_KERJA_SAMA, _PERMENDAGRI_22),
    # With an instansi vertikal: the cooperation between government bodies of UU 30/2014
    # (bantuan kedinasan), and Permendagri 22/2020 for the procedure the SOPs follow.
    "KSIV": (_UU_PEMDA, _UU_ADMINISTRASI, _PP_KERJA_SAMA, _PERMENDAGRI_22),
}
"""The dasar hukum a naskah cites when the drafter gives none, per jenis kerja sama.

A naskah must cite at least one (Tata Naskah Dinas); these defaults are the national rules every
naskah of that jenis rests on, offered by ``pipeline.drafting.revisions.build_context`` and shown by
``GET /templates`` (``dasar_hukum_baku``). A drafter who lists the dasar hukum replaces them.
"""
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]*")
# Sub-field names that would resolve to a dict method in Jinja (``r.items`` is dict.items).
_DICT_ATTRS = frozenset(n for n in dir(dict) if not n.startswith("_"))
_RESERVED = frozenset({"loop", "self", "true", "false", "none", "True", "False", "None", *keyword.kwlist})
_MAX_NUMBER = 10**18 - 1  # what terbilang can still write
# Filters that mark data as markup and would let it write raw WordprocessingML.
_REMOVED_FILTERS = ("safe", "urlize")
_REMOVED_GLOBALS = ("lipsum", "cycler", "joiner")
_MAX_SEQUENCE = 1_000_000


# --- descriptions -------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of a template's data, as its manifest declares it."""

    name: str
    type: str
    required: bool
    description: str
    items: tuple[FieldSpec, ...] = ()
    choices: tuple[str, ...] = ()
    """Type ``choice``: the allowed values; the first is the default when the field is optional and absent."""

    def public(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "description": self.description,
            "items": [i.public() for i in self.items],
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out


# The type "pihak" is the same everywhere: one party to the naskah and its signer.
PIHAK_ITEMS: tuple[FieldSpec, ...] = (
    FieldSpec("instansi", "text", True, "Nama instansi/badan, mis. Pemerintah Kabupaten Paser"),
    FieldSpec("nama", "text", True, "Nama penandatangan dengan gelar"),
    FieldSpec("jabatan", "text", True, "Jabatan penandatangan, mis. Bupati Paser"),
    FieldSpec("nomor", "text", True, "Nomor naskah dalam register pihak ini"),
    FieldSpec("nip", "text", False, "NIP penandatangan (pejabat di bawah Kepala Daerah/Wakil/Sekda)"),
    FieldSpec("alamat", "text", False, "Alamat kedudukan instansi"),
)


@dataclass(frozen=True)
class TemplateInfo:
    """A loaded and validated template; ``sha256`` identifies the exact bytes rendered."""

    name: str
    jenis: str
    title: str
    description: str
    serves: tuple[str, ...]
    path: Path
    sha256: str
    fields: tuple[FieldSpec, ...]
    paraf: ParafBox = DEFAULT_PARAF

    def public(self) -> dict[str, Any]:
        """What the API shows: no filesystem path."""
        return {
            "name": self.name,
            "jenis": self.jenis,
            "title": self.title,
            "description": self.description,
            "serves": list(self.serves),
            "sha256": self.sha256,
            "fields": [f.public() for f in self.fields],
            "paraf": self.paraf.public(),
            "dasar_hukum_baku": {jenis: list(DASAR_HUKUM_BAKU[jenis]) for jenis in self.serves}
            if any(f.name == "dasar_hukum" for f in self.fields)
            else {},
        }


def dasar_hukum_baku(jenis_kerja_sama: str) -> list[str]:
    """The default dasar hukum of a jenis kerja sama (a fresh list; empty for an unknown jenis)."""
    return list(DASAR_HUKUM_BAKU.get(jenis_kerja_sama, ()))


# --- Jinja environment --------------------------------------------------------------


class _NaskahSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus a cap on ``*`` and ``**`` so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("Pangkat terlalu besar di templat.")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > _MAX_SEQUENCE:
                    raise SecurityError("Perkalian teks/daftar terlalu besar di templat.")
        return super().call_binop(context, operator, left, right)


def huruf(n: int) -> str:
    """The letter of the n-th item of a list under an ayat: 1 -> "a", 26 -> "z", 27 -> "aa"."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"Nomor huruf harus bilangan bulat positif, bukan {n!r}.")
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


# The defined terms of a naskah (not "Pihak Ketiga": that is also the name of a jenis kerja sama).
_PIHAK_TERMS = re.compile(r"\b(?:para\s+pihak|pihak\s+kesatu|pihak\s+kedua)\b", re.IGNORECASE)
_BOLD_OPEN = '</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">'
_BOLD_CLOSE = '</w:t></w:r><w:r><w:t xml:space="preserve">'


def pihak_tebal(text: Any) -> Markup:
    """Drafter text with PARA PIHAK, PIHAK KESATU and PIHAK KEDUA in capitals and bold, as the template's own text.

    The defined terms are written the same way wherever they stand, also inside text a
    drafter typed ("sebagai pedoman bagi Para Pihak ..."), so the filter splits the run
    around each term.  Everything else is XML-escaped here (the result is markup); use it
    only in a run without its own formatting (body text), since the text after a term
    continues in a plain run.  "Pihak Ketiga" is left alone: it is also the name of a jenis
    kerja sama ("Kerja Sama Daerah dengan Pihak Ketiga").
    """
    value = "" if text is None else str(text)
    out: list[str] = []
    last = 0
    for match in _PIHAK_TERMS.finditer(value):
        out.append(str(escape(value[last : match.start()])))
        out.append(f"{_BOLD_OPEN}{' '.join(match.group(0).upper().split())}{_BOLD_CLOSE}")
        last = match.end()
    out.append(str(escape(value[last:])))
    return Markup("".join(out))


def make_environment() -> ImmutableSandboxedEnvironment:
    """A fresh sandboxed environment: autoescape (the output is XML), StrictUndefined, naskah filters.

    Filters: terbilang, tanggal_terbilang, tanggal, rupiah, rupiah_terbilang,
    ``mulai|jangka_waktu(selesai)`` ("5 (lima) tahun"), ``loop.index|huruf`` (a, b, c for the
    items under an ayat) and ``text|pihak_tebal`` (the defined party terms in bold); the date
    filters take ``date`` values and ISO strings alike.  ``safe``/``urlize`` are removed (they would let data
    write raw XML) and so are the ``lipsum``/``cycler``/``joiner`` globals.

    Fresh per call because docxtpl may assign ``autoescape`` on the env it is given.
    """
    env = _NaskahSandbox(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    for name in _REMOVED_FILTERS:
        env.filters.pop(name, None)
    for name in _REMOVED_GLOBALS:
        env.globals.pop(name, None)
    env.filters.update(
        terbilang=terbilang,
        tanggal_terbilang=tanggal_terbilang,
        tanggal=tanggal,
        rupiah=rupiah,
        rupiah_terbilang=rupiah_terbilang,
        jangka_waktu=jangka_waktu,
        huruf=huruf,
        pihak_tebal=pihak_tebal,
    )
    return env


# --- reading the DOCX ---------------------------------------------------------------


@dataclass
class _Part:
    label: str
    source: str


def _jinja_parts(tpl: DocxTemplate) -> list[_Part]:
    """Every piece of the DOCX docxtpl renders, patched the way docxtpl patches it."""
    doc = tpl.get_docx()
    parts = [_Part("isi dokumen", tpl.patch_xml(tpl.get_xml()))]
    for uri, label in ((tpl.HEADER_URI, "header"), (tpl.FOOTER_URI, "footer")):
        for _rel, part in tpl.get_headers_footers(uri):
            parts.append(_Part(label, tpl.patch_xml(tpl.get_part_xml(part))))
    for part in doc.part.package.parts:
        if part.content_type.endswith(".footnotes+xml"):
            blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
            parts.append(_Part("catatan kaki", tpl.patch_xml(blob)))
    props = doc.core_properties
    for prop in ("author", "comments", "identifier", "language", "subject", "title"):
        parts.append(_Part(f"properti dokumen '{prop}'", getattr(props, prop) or ""))
    # Same line structure as docxtpl's render_xml_part, so error line numbers are paragraphs.
    for p in parts:
        p.source = re.sub(r"<w:p([ >])", r"\n<w:p\1", p.source)
    return parts


def _line_text(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip()
    return text[:120]


def _where(node: nodes.Node) -> str:
    # Each paragraph starts a new line of the patched XML, after the opening <w:body> line.
    return f"paragraf ke-{max(node.lineno - 1, 1)}"


def _unsafe_nodes(ast: nodes.Template, env: jinja2.Environment) -> list[str]:
    """Constructs refused at load time; the sandbox would also stop most of them at render time."""
    problems: list[str] = []
    item_keys = {id(n.arg) for n in ast.find_all(nodes.Getitem)}
    for node in ast.find_all(nodes.Node):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            problems.append(f"akses atribut internal '.{node.attr}' ({_where(node)})")
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            problems.append(f"akses internal ['{node.arg.value}'] ({_where(node)})")
        elif (
            isinstance(node, nodes.Const)
            and isinstance(node.value, str)
            and node.value.startswith("__")
            and id(node) not in item_keys
        ):
            problems.append(f"nama internal '{node.value}' ({_where(node)})")
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            problems.append(f"include/import/extends tidak diizinkan ({_where(node)})")
        elif isinstance(node, nodes.Filter) and node.name not in env.filters:
            problems.append(f"filter '{node.name}' tidak dikenal atau tidak diizinkan ({_where(node)})")
        elif isinstance(node, nodes.Test) and node.name not in env.tests:
            problems.append(f"uji '{node.name}' tidak dikenal ({_where(node)})")
    return problems


def _subfield_problems(ast: nodes.Template, fields: Iterable[FieldSpec]) -> list[str]:
    """``pihak_kesatu.nmaa`` or ``r.lokasi`` in a loop over a table must name a declared sub-field."""
    objects = {f.name: f for f in fields if f.type in ("pihak", "object")}
    tables = {f.name: f for f in fields if f.type == "table"}
    scoped = dict(objects)
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and loop.iter.name in tables and isinstance(loop.target, nodes.Name):
            scoped[loop.target.name] = tables[loop.iter.name]
    problems: list[str] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if not isinstance(node.node, nodes.Name) or node.node.name not in scoped:
            continue
        if isinstance(node, nodes.Getattr):
            attr = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            attr = node.arg.value
        else:
            continue
        spec = scoped[node.node.name]
        if attr not in {i.name for i in spec.items}:
            problems.append(
                f"'{node.node.name}.{attr}' tidak dikenal (isian '{spec.name}' hanya memiliki "
                f"{', '.join(i.name for i in spec.items)}; {_where(node)})"
            )
    return problems


@dataclass
class _Analysis:
    variables: set[str]
    asts: list[nodes.Template]
    problems: list[str]


def _analyse(data: bytes) -> _Analysis:
    """Parse every templated part of the DOCX with the rendering environment."""
    env = make_environment()
    try:
        tpl = DocxTemplate(io.BytesIO(data))
        parts = _jinja_parts(tpl)
    except Exception as exc:  # whatever python-docx trips over, the file is not a usable DOCX
        log.info("template is not a readable DOCX: %s: %s", type(exc).__name__, exc)
        return _Analysis(set(), [], ["bukan berkas DOCX yang dapat dibaca (rusak atau bukan .docx)"])
    variables: set[str] = set()
    asts: list[nodes.Template] = []
    problems: list[str] = []
    for part in parts:
        try:
            ast = env.parse(part.source)
            unsafe = _unsafe_nodes(ast, env)
            if not unsafe:
                env.compile(ast)  # catches what parsing alone does not (e.g. misplaced 'break')
        except TemplateSyntaxError as exc:
            near = _line_text(part.source, exc.lineno)
            where = part.label
            if exc.lineno and part.source.startswith("<"):
                where += f", paragraf ke-{max(exc.lineno - 1, 1)}"
            problems.append(
                f"kesalahan sintaks Jinja di {where}: {exc.message}" + (f' (dekat "{near}")' if near else "")
            )
            continue
        if unsafe:
            problems += [f"{part.label}: {p}" for p in unsafe]
            continue
        asts.append(ast)
        variables |= meta.find_undeclared_variables(ast)
    if not problems:
        # What docxtpl itself sees (body, headers, footers), with the same environment.
        variables |= tpl.get_undeclared_template_variables(jinja_env=env)
    variables -= set(env.globals)
    return _Analysis(variables, asts, problems)


# --- manifests ----------------------------------------------------------------------

_TEMPLATE_KEYS = {"jenis", "title", "description", "serves"}
_PARAF_KEYS = {"corner", "x", "y", "width", "height"}
_FIELD_KEYS = {"name", "type", "required", "description", "items", "choices"}


def _parse_fields(raw: Any, where: str, problems: list[str], *, nested: bool = False) -> tuple[FieldSpec, ...]:
    if not isinstance(raw, list):
        problems.append(f"{where} harus berupa daftar [[...]]")
        return ()
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{here} harus berupa tabel")
            continue
        unknown = set(item) - _FIELD_KEYS
        if unknown:
            problems.append(f"{here}: kunci tidak dikenal {sorted(unknown)}")
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(f"{here}: 'name' harus huruf kecil/angka/garis bawah, diawali huruf ({name!r})")
            continue
        here = f"{where} '{name}'"
        if name in seen:
            problems.append(f"{here} dideklarasikan dua kali")
        seen.add(name)
        if name in _RESERVED or (nested and name in _DICT_ATTRS):
            problems.append(f"{here}: nama ini dipakai Jinja/Python, pilih nama lain")
        ftype = item.get("type")
        if ftype not in FIELD_TYPES:
            problems.append(f"{here}: 'type' harus salah satu dari {', '.join(FIELD_TYPES)} ({ftype!r})")
            continue
        required = item.get("required", False)
        if not isinstance(required, bool):
            problems.append(f"{here}: 'required' harus true/false")
            required = False
        description = item.get("description", "")
        if not isinstance(description, str):
            problems.append(f"{here}: 'description' harus teks")
            description = ""
        items: tuple[FieldSpec, ...] = ()
        if ftype in ("table", "object"):
            if nested:
                problems.append(f"{here}: isian bertingkat lebih dari satu tingkat tidak didukung")
            items = _parse_fields(item.get("items"), f"{here}.items", problems, nested=True)
            if not items:
                problems.append(f"{here}: tipe '{ftype}' memerlukan [[fields.items]]")
        elif "items" in item:
            problems.append(f"{here}: 'items' hanya untuk tipe table/object")
        if ftype == "pihak":
            if nested:
                problems.append(f"{here}: tipe 'pihak' hanya untuk isian tingkat atas")
            items = PIHAK_ITEMS
        choices: tuple[str, ...] = ()
        if ftype == "choice":
            raw_choices = item.get("choices")
            if (
                not isinstance(raw_choices, list)
                or not raw_choices
                or not all(isinstance(c, str) and c.strip() for c in raw_choices)
                or len(set(raw_choices)) != len(raw_choices)
            ):
                problems.append(f"{here}: tipe 'choice' memerlukan 'choices', daftar teks yang berbeda-beda")
            else:
                choices = tuple(raw_choices)
        elif "choices" in item:
            problems.append(f"{here}: 'choices' hanya untuk tipe choice")
        specs.append(FieldSpec(name, ftype, required, description, items, choices))
    return tuple(specs)


@dataclass
class _Manifest:
    jenis: str
    title: str
    description: str
    serves: tuple[str, ...]
    paraf: ParafBox
    fields: tuple[FieldSpec, ...]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _read_manifest(path: Path, problems: list[str]) -> _Manifest | None:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"manifest {path.name} bukan TOML yang sah: {exc}")
        return None
    unknown = set(raw) - {"template", "paraf", "fields"}
    if unknown:
        problems.append(f"manifest: bagian tidak dikenal {sorted(unknown)}")
    head = raw.get("template")
    if not isinstance(head, dict):
        problems.append("manifest: bagian [template] tidak ada")
        return None
    if set(head) - _TEMPLATE_KEYS:
        problems.append(f"[template]: kunci tidak dikenal {sorted(set(head) - _TEMPLATE_KEYS)}")
    jenis = head.get("jenis")
    if jenis not in JENIS_NASKAH + JENIS_SURAT:
        problems.append(f"[template] jenis harus salah satu dari {', '.join(JENIS_NASKAH + JENIS_SURAT)} ({jenis!r})")
    title = head.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append("[template] title wajib diisi")
    description = head.get("description", "")
    if not isinstance(description, str):
        problems.append("[template] description harus teks")
    serves = head.get("serves", [])
    if not isinstance(serves, list) or any(s not in JENIS_KERJA_SAMA for s in serves):
        problems.append(f"[template] serves harus daftar dari {', '.join(JENIS_KERJA_SAMA)} ({serves!r})")
        serves = []
    paraf_raw = raw.get("paraf")
    paraf = DEFAULT_PARAF
    if not isinstance(paraf_raw, dict):
        problems.append("manifest: bagian [paraf] tidak ada")
    else:
        if set(paraf_raw) - _PARAF_KEYS:
            problems.append(f"[paraf]: kunci tidak dikenal {sorted(set(paraf_raw) - _PARAF_KEYS)}")
        corner = paraf_raw.get("corner")
        dims = [paraf_raw.get(k) for k in ("x", "y", "width", "height")]
        if corner not in CORNERS:
            problems.append(f"[paraf] corner harus salah satu dari {', '.join(CORNERS)} ({corner!r})")
        elif not all(_number(v) for v in dims) or not (dims[2] > 0 and dims[3] > 0):
            problems.append("[paraf] x, y, width, height harus bilangan tidak negatif (width/height > 0), dalam poin")
        else:
            paraf = ParafBox(corner, *(float(v) for v in dims))
    fields = _parse_fields(raw.get("fields", []), "[[fields]]", problems)
    if problems:
        return None
    return _Manifest(jenis, title.strip(), description.strip(), tuple(serves), paraf, fields)


# --- loading ------------------------------------------------------------------------

# Validated template bytes by sha256: a render uses exactly the bytes that were checked,
# even if someone edits the file on disk while the service runs.
_BYTES: dict[str, bytes] = {}


def default_template_root() -> Path:
    """The templates shipped with the project: ``<repo>/templates/naskah``."""
    return Path(__file__).resolve().parents[2] / "templates" / "naskah"


def _fail(name: str, path: Path, problems: list[str]) -> TemplateError:
    listing = "; ".join(problems)
    return TemplateError(
        f"Templat '{name}' ({path}) tidak dapat dipakai: {listing}.",
        template=name,
        path=str(path),
        problems=problems,
    )


def load_template(path: Path, *, name: str | None = None) -> TemplateInfo:
    """Load and validate one template.

    With a sidecar ``.toml`` the manifest is checked against the DOCX.  Without one (for
    ``naskah render some.docx``) every variable the template uses becomes a required
    field of type "any".  ``name`` defaults to ``<folder>/<stem>``.
    """
    path = Path(path)
    if name is None:
        folder = path.parent.name
        name = f"{folder}/{path.stem}" if folder.upper() in JENIS_NASKAH + JENIS_SURAT else path.stem
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"Templat '{name}' ({path}) tidak dapat dibaca: {exc.strerror}.", template=name) from None
    analysis = _analyse(data)
    problems = list(analysis.problems)
    sidecar = path.with_suffix(".toml")
    if sidecar.is_file():
        manifest = _read_manifest(sidecar, problems)
        if manifest is None or problems:
            raise _fail(name, path, problems)
        declared = {f.name for f in manifest.fields}
        undeclared = sorted(analysis.variables - declared)
        unused = sorted(declared - analysis.variables)
        if undeclared:
            problems.append(f"variabel dipakai tetapi tidak dideklarasikan di manifest: {', '.join(undeclared)}")
        if unused:
            problems.append(f"isian dideklarasikan tetapi tidak dipakai di templat: {', '.join(unused)}")
        for ast in analysis.asts:
            problems += _subfield_problems(ast, manifest.fields)
        if problems:
            raise _fail(name, path, problems)
        jenis, title, description = manifest.jenis, manifest.title, manifest.description
        serves, paraf, fields = manifest.serves, manifest.paraf, manifest.fields
    else:
        if problems:
            raise _fail(name, path, problems)
        jenis = path.parent.name.upper() if path.parent.name.upper() in JENIS_NASKAH else ""
        title, description, serves, paraf = (
            path.stem,
            "Templat tanpa manifest: semua variabel wajib diisi.",
            (),
            DEFAULT_PARAF,
        )
        fields = tuple(FieldSpec(v, "any", True, "") for v in sorted(analysis.variables))
    sha256 = hashlib.sha256(data).hexdigest()
    _BYTES[sha256] = data
    return TemplateInfo(name, jenis, title, description, serves, path, sha256, fields, paraf)


class TemplateRegistry:
    """All templates of the shipped root and any region roots, validated at start-up."""

    def __init__(self, templates: Mapping[str, TemplateInfo]) -> None:
        self._templates = dict(sorted(templates.items()))

    @classmethod
    def load(cls, *roots: Path) -> TemplateRegistry:
        """Scan ``<root>/<jenis>/<variant>.docx`` (each with its ``.toml``) in every root.

        Every template is validated; all broken ones are reported together.  A later root
        may add templates and may also replace one of the same name (logged), which is how
        a region swaps in its own layout for, say, ``kb/standar``.
        """
        roots = roots or (default_template_root(),)
        found: dict[str, TemplateInfo] = {}
        errors: list[TemplateError] = []
        for root in roots:
            root = Path(root)
            if not root.is_dir():
                raise TemplateError(f"Folder templat '{root}' tidak ditemukan.", root=str(root))
            docs = {p.with_suffix("") for p in root.glob("*/*.docx") if not p.name.startswith(("~$", "."))}
            manifests = {p.with_suffix("") for p in root.glob("*/*.toml") if not p.name.startswith(".")}
            for stem in sorted(docs | manifests):
                name = f"{stem.parent.name}/{stem.name}"
                docx = stem.with_suffix(".docx")
                problems = []
                if stem not in docs:
                    problems.append("manifest .toml tanpa berkas .docx")
                elif stem not in manifests:
                    problems.append("berkas .docx tanpa manifest .toml di sebelahnya")
                if not (_SEGMENT.fullmatch(stem.parent.name) and _SEGMENT.fullmatch(stem.name)):
                    problems.append("nama folder dan berkas harus huruf kecil/angka/-/_ (mis. kb/standar.docx)")
                if problems:
                    errors.append(_fail(name, docx, problems))
                    continue
                try:
                    info = load_template(docx, name=name)
                except TemplateError as exc:
                    errors.append(exc)
                    continue
                if info.jenis.lower() != stem.parent.name:
                    errors.append(
                        _fail(name, docx, [f"folder '{stem.parent.name}' tidak sesuai jenis manifest '{info.jenis}'"])
                    )
                    continue
                if name in found:
                    log.warning("template %s from %s replaces %s", name, docx, found[name].path)
                found[name] = info
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise TemplateError(
                f"{len(errors)} templat tidak dapat dipakai: " + " | ".join(e.message for e in errors),
                templates=[e.detail for e in errors],
            )
        return cls(found)

    def get(self, name: str) -> TemplateInfo:
        key = name.strip().lower().removesuffix(".docx")
        info = self._templates.get(key)
        if info is None:
            available = ", ".join(self._templates) or "(tidak ada)"
            raise NotFound(
                f"Templat '{name}' tidak ditemukan. Templat yang tersedia: {available}.",
                template=name,
                available=list(self._templates),
            )
        return info

    def for_jenis(self, jenis: str) -> list[TemplateInfo]:
        return [t for t in self._templates.values() if t.jenis == jenis.upper()]

    def all(self) -> list[TemplateInfo]:
        return list(self._templates.values())

    def __len__(self) -> int:
        return len(self._templates)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._templates


# --- data validation ----------------------------------------------------------------


def _missing() -> PydanticCustomError:
    return PydanticCustomError("missing_value", "wajib diisi")


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("naskah_invalid", message)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _optional(
    required: bool, check: Callable[[Any], Any], empty: Callable[[], Any] = lambda: None
) -> Callable[[Any], Any]:
    """Wrap a type check: None is missing for a required field, and the type's empty value otherwise."""

    def validate(value: Any) -> Any:
        if value is None:
            if required:
                raise _missing()
            return empty()
        return check(value)

    return validate


def _text(required: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _invalid(f"harus berupa teks, bukan {_show(value)}")
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        problem = text_problem(value, multiline=True)  # control and bidi characters (pipeline.textcheck)
        if problem is not None:
            raise _invalid(problem)
        if required and not value.strip():
            raise _missing()
        return value

    return _optional(required, check, str)


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _invalid(f"harus berupa bilangan bulat, bukan {_show(value)}")
    if (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value)
    ):
        value = int(value)
    if not isinstance(value, int):
        raise _invalid(f"harus berupa bilangan bulat (mis. 2), bukan {_show(value)}")
    if abs(value) > _MAX_NUMBER:
        raise _invalid("bilangan terlalu besar")
    return value


def _rupiah(value: Any) -> int | Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise _invalid(f'harus berupa nilai rupiah (mis. 1250000 atau "1250000.50"), bukan {_show(value)}')
    try:
        amount = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(f"harus berupa nilai rupiah (mis. 1250000), bukan {_show(value)}") from None
    if not amount.is_finite() or amount < 0:
        raise _invalid("harus berupa nilai rupiah yang tidak negatif")
    if amount != amount.quantize(Decimal("0.01")):
        raise _invalid("paling banyak dua angka di belakang koma (sen)")
    if amount > _MAX_NUMBER:
        raise _invalid("nilai terlalu besar")
    return int(amount) if amount == amount.to_integral_value() else amount.quantize(Decimal("0.01"))


def _date(value: Any) -> date:
    try:
        return parse_tanggal(value)
    except ValueError as exc:
        raise _invalid(str(exc)) from None


def image_type(data: bytes) -> str | None:
    """The MIME type of PNG or JPEG bytes (by magic number), else None."""
    return next((mime for magic, mime in IMAGE_TYPES.items() if data.startswith(magic)), None)


def _image(value: Any) -> bytes:
    """An image field takes PNG/JPEG bytes the pipeline read from the store (never a path or URL)."""
    if not isinstance(value, bytes) or image_type(value) is None:
        raise _invalid("harus berupa gambar PNG atau JPEG (diisi oleh sistem dari lambang pihak)")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _invalid(f"harus true atau false, bukan {_show(value)}")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in choices:
            raise _invalid(f"harus salah satu dari {', '.join(choices)}, bukan {_show(value)}")
        return value.strip()

    return check


def _list_of(required: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise _invalid(f"harus berupa daftar, bukan {_show(value)}")
        if required and not value:
            raise _missing()
        return list(value)

    return _optional(required, check, list)


def _mapping(required: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value
        if not isinstance(value, Mapping):
            raise _invalid(f"harus berupa objek {{...}}, bukan {_show(value)}")
        return dict(value)

    return _optional(required, check)


def _annotation(spec: FieldSpec) -> Any:
    req = spec.required
    simple: dict[str, Callable[[Any], Any]] = {
        "integer": _integer,
        "rupiah": _rupiah,
        "date": _date,
        "image": _image,
        "any": lambda v: v,
    }
    if spec.type == "text":
        return Annotated[Any, BeforeValidator(_text(req))]
    if spec.type == "boolean":
        return Annotated[Any, BeforeValidator(_optional(req, _boolean, bool))]
    if spec.type == "choice":
        return Annotated[Any, BeforeValidator(_optional(req, _choice(spec.choices), lambda: spec.choices[0]))]
    if spec.type in simple:
        return Annotated[Any, BeforeValidator(_optional(req, simple[spec.type]))]
    if spec.type == "text_list":
        item = Annotated[Any, BeforeValidator(_text(True))]
        return Annotated[list[item] | None, BeforeValidator(_list_of(req))]  # type: ignore[valid-type]
    sub = _model_for(spec.items, spec.name)
    if spec.type == "table":
        row = Annotated[sub, BeforeValidator(_mapping(True))]  # type: ignore[valid-type]
        return Annotated[list[row] | None, BeforeValidator(_list_of(req))]  # type: ignore[valid-type]
    return Annotated[sub | None, BeforeValidator(_mapping(req))]  # type: ignore[valid-type]


_EMPTY: dict[str, Callable[[], Any]] = {"text": str, "text_list": list, "table": list, "boolean": bool}


@functools.lru_cache(maxsize=512)
def _model_for(fields: tuple[FieldSpec, ...], model_name: str = "NaskahData") -> type[BaseModel]:
    """The pydantic model of a manifest (cached: FieldSpec tuples are hashable).

    Python-side attribute names are ``f0, f1, ...`` with the field name as alias, so no
    manifest name can collide with pydantic's own attributes (``json``, ``copy``, ...).
    Unknown keys are ignored: callers pass whole case contexts; ``validate_data`` returns
    only the declared fields.
    """
    definitions: dict[str, Any] = {}
    for i, spec in enumerate(fields):
        if spec.required:
            default = Field(..., alias=spec.name)
        elif spec.type == "choice":  # absent: the first choice, the template's default
            default = Field(default=spec.choices[0], alias=spec.name)
        else:  # absent optional fields read as their empty value, so templates need no guards
            default = Field(default_factory=_EMPTY.get(spec.type, lambda: None), alias=spec.name)
        definitions[f"f{i}"] = (_annotation(spec), default)
    config = ConfigDict(extra="ignore", populate_by_name=False, arbitrary_types_allowed=True)
    return create_model(model_name, __config__=config, **definitions)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# Date pairs that must be in order when a template declares both (start, end).
_DATE_ORDER = (("mulai", "selesai"), ("tanggal", "berlaku_sampai"))
# A kerja sama runs at most five years (PP 28/2018); the naskah's own jangka waktu too, counted as
# its text counts it: ``selesai`` is the last day, five years end the day before the same date.
_MAX_PERIOD = (("mulai", "selesai", 60),)
# Optional fields that become required when another field has a value: a naskah signed tatap muka
# states where (``bertempat di ...``); one signed desk to desk is signed in each party's own office.
_REQUIRED_WHEN = (("tempat", "cara_penandatanganan", "tatap_muka"),)


def _conditional_missing(info: TemplateInfo, data: Mapping[str, Any]) -> list[str]:
    specs = {f.name: f for f in info.fields}
    missing = []
    for name, other, value in _REQUIRED_WHEN:
        spec, condition = specs.get(name), specs.get(other)
        if spec is None or condition is None or spec.required:
            continue
        given = data.get(other)
        if given is None and condition.type == "choice":
            given = condition.choices[0]
        if isinstance(given, str) and given.strip() == value:
            current = data.get(name)
            if current is None or (isinstance(current, str) and not current.strip()):
                missing.append(name)
    return missing


def _order_problems(info: TemplateInfo, data: Mapping[str, Any]) -> list[dict[str, str]]:
    types = {f.name: f.type for f in info.fields}
    problems = []
    for first, second in _DATE_ORDER:
        if types.get(first) != "date" or types.get(second) != "date" or data.get(second) is None:
            continue
        try:
            start, end = parse_tanggal(data.get(first)), parse_tanggal(data.get(second))
        except ValueError:
            continue  # reported by the field itself
        if end < start:
            problems.append({"field": second, "message": f"{tanggal(end)} mendahului {first} ({tanggal(start)})"})
    for first, second, months in _MAX_PERIOD:
        if types.get(first) != "date" or types.get(second) != "date" or data.get(second) is None:
            continue
        try:
            start, end = parse_tanggal(data.get(first)), parse_tanggal(data.get(second))
            limit = akhir_jangka_waktu(start, months)
        except ValueError:
            continue  # reported by the field itself
        if end > limit:
            problems.append(
                {
                    "field": second,
                    "message": f"jangka waktu paling lama {months // 12} tahun: dari {tanggal(start)} "
                    f"paling lambat {tanggal(limit)}",
                }
            )
    return problems


# --- how much data a naskah may carry -------------------------------------------------
#
# LibreOffice's layout time grows faster than the text: measured on the KB template, a 10,000-character
# field converts as fast as the sample (0.6 s), 256 KB of text in 200 items is 85 pages in ~4.5 s,
# one 100,000-character paragraph takes 4.3 s and a 500,000-character one over 60 s (the 5.5 MB
# field held the converter for the whole timeout).  The limits leave room for any real naskah.

MAX_TEXT_CHARS = 10_000
"""One text (a field, a list item, a table cell): a long pasal is 2-3 pages, ~8,000 characters."""
MAX_LIST_ITEMS = 200
"""One list or table: a long ruang lingkup or rencana kerja has a few dozen items."""
MAX_DATA_BYTES = 256 * 1024
"""All the data of a naskah as JSON (UTF-8): ~85 pages of text; images (a lambang) not counted."""
WHOLE_DATA = "(seluruh data)"


def _ribuan(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def data_size_problems(data: Mapping[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """Each text over :data:`MAX_TEXT_CHARS`, each list over :data:`MAX_LIST_ITEMS` (as ``{"field",
    "message"}``, the field as ``ruang_lingkup[3]`` or ``rencana_kerja[1].program`` after ``prefix``), and
    the whole data over :data:`MAX_DATA_BYTES`.  Walked without recursion (JSON can nest deep); image
    bytes are skipped (``pipeline.drafting.lambang`` bounds those)."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[str, Any]] = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in reversed(data.items())]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_TEXT_CHARS:
                given = _ribuan(len(value))
                message = f"paling banyak {_ribuan(MAX_TEXT_CHARS)} karakter (diberikan {given})"
                problems.append({"field": where, "message": message})
        elif isinstance(value, Mapping):
            stack.extend((f"{where}.{k}", v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list | tuple):
            if len(value) > MAX_LIST_ITEMS:
                problems.append(
                    {
                        "field": where,
                        "message": f"paling banyak {MAX_LIST_ITEMS} butir (diberikan {_ribuan(len(value))})",
                    }
                )
            else:
                stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(value))))
    if not problems:
        size = len(json.dumps(data, ensure_ascii=False, default=lambda v: "" if isinstance(v, bytes) else str(v)))
        if size > MAX_DATA_BYTES:
            problems.append(
                {
                    "field": f"{prefix} {WHOLE_DATA}".strip() if prefix else WHOLE_DATA,
                    "message": f"paling banyak {MAX_DATA_BYTES // 1024} KB seluruhnya (diberikan {size // 1024} KB)",
                }
            )
    return problems


def validate_data(info: TemplateInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    """The template's data, checked and coerced (dates, integers, rupiah), all fields present.

    Optional fields absent (or None) come back empty: "" for text, [] for lists and tables,
    False for booleans, None for dates, numbers and objects (StrictUndefined would otherwise
    fail on ``{% if kuasa %}``, and None would print as "None").  Extra keys are ignored
    (callers pass whole case contexts); only declared fields are returned.  ``selesai`` may
    not precede ``mulai`` (nor ``berlaku_sampai`` the ``tanggal``), nor lie more than five years
    after it; ``tempat`` is required when ``cara_penandatanganan`` is ``tatap_muka``.  On failure every
    problem is reported at once: ``detail["missing"]`` lists field paths
    (``pihak_kesatu.nama``, ``rencana_kerja[0].lokasi``), ``detail["invalid"]`` holds
    ``{"field", "message"}``.  Data over the size limits (:func:`data_size_problems`) is refused
    first, alone (``detail["reason"]`` ``data_too_large``), before anything else is done with it.
    """
    if not isinstance(data, Mapping):
        raise TemplateDataError('Data templat harus berupa objek {"nama_isian": nilai, ...}.', template=info.name)
    too_large = data_size_problems(data)  # before any other work: the size is what makes it expensive
    if too_large:
        raise TemplateDataError(
            f"Isian templat '{info.name}' terlalu panjang — "
            + "; ".join(f"{p['field']} ({p['message']})" for p in too_large)
            + ".",
            template=info.name,
            reason="data_too_large",
            missing=[],
            invalid=too_large,
        )
    model = _model_for(info.fields)
    missing: list[str] = []
    invalid: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    try:
        values = model.model_validate(dict(data)).model_dump(by_alias=True)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            where = _path(tuple(err["loc"]))
            if err["type"] in ("missing", "missing_value"):
                missing.append(where)
            elif err["type"] == "naskah_invalid":
                invalid.append({"field": where, "message": err["msg"]})
            else:
                invalid.append({"field": where, "message": f"tidak sesuai ({err['msg']})"})
    invalid += _order_problems(info, data)
    missing += [m for m in _conditional_missing(info, data) if m not in missing]
    if missing or invalid:
        parts = []
        if missing:
            parts.append("belum diisi: " + ", ".join(missing))
        if invalid:
            parts.append("tidak sesuai: " + "; ".join(f"{i['field']} ({i['message']})" for i in invalid))
        raise TemplateDataError(
            f"Isian templat '{info.name}' belum lengkap atau tidak sesuai — " + "; ".join(parts) + ".",
            template=info.name,
            missing=missing,
            invalid=invalid,
        )
    return values


# --- rendering ----------------------------------------------------------------------


def _template_bytes(info: TemplateInfo) -> bytes:
    data = _BYTES.get(info.sha256)
    if data is not None:
        return data
    try:
        data = info.path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"Templat '{info.name}' tidak dapat dibaca: {exc.strerror}.", template=info.name) from None
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise TemplateError(
            f"Berkas templat '{info.name}' berubah sejak dimuat; muat ulang templat sebelum merender.",
            template=info.name,
        )
    _BYTES[info.sha256] = data
    return data


@dataclass(frozen=True)
class DocProperties:
    """The document properties of a naskah: LibreOffice writes them into the PDF's Info and XMP alike."""

    title: str
    """The naskah's judul (``/Title``, ``dc:title``)."""
    author: str
    """The Pemda that issues it: PIHAK KESATU's instansi (``/Author``, ``dc:creator``)."""
    subject: str
    """Jenis and nomor, e.g. "Kesepakatan Bersama Nomor 100.3.7.1/121/Tapem/2026 dan ..." (``dc:description``)."""
    language: str = "id-ID"


def _pihak_value(values: Mapping[str, Any], key: str, sub: str) -> str:
    value = values.get(key)
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    return str(value.get(sub) or "").strip() if isinstance(value, Mapping) else ""


def naskah_properties(jenis: str, data: Mapping[str, Any]) -> DocProperties:
    """Title, author, subject and keywords of a naskah of ``jenis`` from its template data.

    Title = the judul (a Surat Kuasa: the PKS it empowers), author = PIHAK KESATU's instansi,
    subject = the jenis and each party's nomor.  Fields a template does not have are left out.
    No keywords: LibreOffice splits them into single words.
    """
    nama = NAMA_NASKAH.get(jenis.upper(), jenis)
    instansi = [_pihak_value(data, k, "instansi") for k in ("pihak_kesatu", "pihak_kedua")]
    if jenis.upper() == "SK":
        title = f"Surat Kuasa penandatanganan Perjanjian Kerja Sama {str(data.get('pks_judul') or '').strip()}"
        nomor = [str(data.get("nomor") or "").strip()]
    else:
        title = str(data.get("judul") or "").strip()
        nomor = [_pihak_value(data, k, "nomor") for k in ("pihak_kesatu", "pihak_kedua")]
    nomor = [n for n in nomor if n]
    subject = f"{nama} Nomor {' dan '.join(nomor)}" if nomor else nama
    return DocProperties(title=title.strip() or nama, author=instansi[0], subject=subject)


def _apply_properties(document: Any, props: DocProperties) -> None:
    """Core properties and the document's default language (``w:docDefaults``: LibreOffice's ``/Lang``)."""
    core = document.core_properties
    core.title = props.title
    core.author = props.author
    core.subject = props.subject
    core.keywords = ""
    core.language = props.language
    core.comments = ""
    core.last_modified_by = props.author
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), props.language)
    # The Normal style may name a language of its own, which would win over the default.
    for style_lang in styles.iterfind(f"{qn('w:style')}/{qn('w:rPr')}/{qn('w:lang')}"):
        style_lang.set(qn("w:val"), props.language)


def set_properties(docx: bytes, props: DocProperties) -> bytes:
    """``docx`` with the naskah's properties and language (for a DOCX uploaded from Word).

    Used on the copy that is converted to PDF, so every revision's PDF says what the naskah
    is, whatever the uploaded file's own properties said.
    """
    from docx import Document

    document = Document(io.BytesIO(docx))
    _apply_properties(document, props)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_docx(
    info: TemplateInfo,
    data: Mapping[str, Any],
    *,
    images: Mapping[str, bytes] | None = None,
    properties: DocProperties | None = None,
) -> bytes:
    """Validate ``data`` and render the template in the sandbox; returns the DOCX bytes.

    ``images`` fills the template's "image" fields (a party's lambang, PNG/JPEG bytes the
    pipeline read from the store): they become docxtpl ``InlineImage`` objects here, so
    template code never loads a file.  The document properties are those of the naskah
    (``properties``, else :func:`naskah_properties` of the data), not the template's.
    """
    values = validate_data(info, {**data, **(images or {})})
    tpl = DocxTemplate(io.BytesIO(_template_bytes(info)))
    context = dict(values)
    for spec in info.fields:
        if spec.type == "image" and context.get(spec.name) is not None:
            context[spec.name] = InlineImage(tpl, io.BytesIO(context[spec.name]), height=IMAGE_HEIGHT)
    try:
        tpl.render(context, jinja_env=make_environment())
    except SecurityError as exc:
        raise TemplateError(
            f"Templat '{info.name}' ditolak: mencoba mengakses bagian dalam sistem.",
            template=info.name,
            reason="security",
            diagnostic=str(exc),
        ) from None
    except UndefinedError as exc:
        missing = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", exc.message or "")
        name = next((g for g in missing.groups() if g), None) if missing else None
        raise TemplateError(
            f"Templat '{info.name}' memakai isian yang tidak ada" + (f": {name}." if name else "."),
            template=info.name,
            reason="undefined",
            diagnostic=exc.message,
        ) from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        # e.g. a filter applied to the wrong kind of field (terbilang on a text): the template's fault
        raise TemplateError(
            f"Templat '{info.name}' gagal dirender: ada ungkapan templat yang tidak cocok dengan jenis isiannya.",
            template=info.name,
            diagnostic=f"{type(exc).__name__}: {exc}",
        ) from None
    except Exception as exc:  # an image python-docx cannot place (corrupt PNG behind a valid magic)
        if any(s.type == "image" for s in info.fields) and images:
            raise TemplateDataError(
                f"Gambar lambang tidak dapat dipasang pada templat '{info.name}'; unggah ulang lambang sebagai PNG.",
                template=info.name,
                diagnostic=f"{type(exc).__name__}: {exc}",
            ) from None
        raise
    _apply_properties(tpl.docx, properties or naskah_properties(info.jenis, values))
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


# --- sample data (tests, demo, benchmarks) -------------------------------------------

_PASER = {
    "instansi": "Pemerintah Kabupaten Paser",
    "nama": "dr. Fahmi Fadli",
    "jabatan": "Bupati Paser",
    "nomor": "100.3.7.1/123/Tapem/2026",
    "nip": "",
    "alamat": "Jalan Jenderal Sudirman Nomor 27, Tanah Grogot",
}
_BALIKPAPAN = {
    "instansi": "Pemerintah Kota Balikpapan",
    "nama": "H. Rahmad Mas'ud, S.E., M.E.",
    "jabatan": "Wali Kota Balikpapan",
    "nomor": "100.3.7.1/456/Pem/2026",
    "nip": "",
    "alamat": "Jalan Jenderal Sudirman Nomor 1, Balikpapan",
}
_DASAR_HUKUM = list(DASAR_HUKUM_BAKU["KSDD"])
_TPA = "Tempat Pemrosesan Akhir (TPA) Sampah Regional Kuaro"  # the abbreviation is defined where first used
_SAMPAH = "Pengelolaan Sampah Regional dan Pengembangan Ekonomi Sirkular"

_SAMPLES: dict[str, dict[str, Any]] = {
    "KB": {
        "judul": _SAMPAH,
        "pihak_kesatu": _PASER,
        "pihak_kedua": _BALIKPAPAN,
        "tanggal": "2026-11-23",
        "tempat": "Balikpapan",
        "dasar_hukum": _DASAR_HUKUM,
        "maksud": "sebagai pedoman bagi PARA PIHAK dalam melaksanakan kerja sama pengelolaan sampah regional",
        "tujuan": (
            "mewujudkan pengelolaan sampah yang terpadu, efektif dan berwawasan lingkungan serta mendorong "
            "tumbuhnya ekonomi sirkular di kedua daerah"
        ),
        "objek": f"pengelolaan sampah regional di {_TPA}",
        "ruang_lingkup": [
            "pengurangan dan penanganan sampah dari sumbernya",
            "pemanfaatan TPA Sampah Regional Kuaro",
            "pengembangan bank sampah dan usaha daur ulang",
            "peningkatan kapasitas sumber daya manusia pengelola sampah",
        ],
        "mulai": "2026-11-23",
        "selesai": "2031-11-22",
        "bermeterai": False,
    },
    "NK": {
        "judul": "Percepatan Pendaftaran Tanah dan Sertifikasi Barang Milik Daerah",
        "pihak_kesatu": _PASER,
        "pihak_kedua": {
            "instansi": "Kantor Pertanahan Kabupaten Paser",
            "nama": "Andi Pratama, S.H.",
            "jabatan": "Kepala Kantor Pertanahan Kabupaten Paser",
            "nomor": "MOU/12-64.01/XI/2026",
            "nip": "19780512 200312 1 004",
            "alamat": "Jalan Kusuma Bangsa Nomor 8, Tanah Grogot",
        },
        "tanggal": "2026-11-23",
        "tempat": "Tanah Grogot",
        "dasar_hukum": list(DASAR_HUKUM_BAKU["KSIV"]),
        "maksud": "sebagai landasan bagi PARA PIHAK dalam percepatan pendaftaran tanah di Kabupaten Paser",
        "tujuan": "terwujudnya kepastian hukum atas bidang tanah masyarakat dan barang milik daerah",
        "objek": "pendaftaran tanah sistematis lengkap dan sertifikasi tanah barang milik daerah",
        "ruang_lingkup": [
            "pendaftaran tanah sistematis lengkap",
            "sertifikasi tanah barang milik daerah",
            "pertukaran data dan informasi pertanahan",
        ],
        "rencana_kerja": [
            {
                "program": "Sertifikasi tanah barang milik daerah",
                "output": "150 bidang bersertifikat",
                "lokasi": "Kecamatan Tanah Grogot & Kuaro",
                "jadwal": "Januari – Juni 2027",
                "pj_pihak_kesatu": "Badan Pengelolaan Keuangan dan Aset Daerah",
                "pj_pihak_kedua": "Seksi Penetapan Hak dan Pendaftaran",
                "sumber_dana": "APBD Kabupaten Paser",
                "keterangan": "",
            },
            {
                "program": "Pendaftaran tanah sistematis lengkap",
                "output": "2.000 bidang terdaftar",
                "lokasi": "Kecamatan Long Ikis",
                "jadwal": "Februari – November 2027",
                "pj_pihak_kesatu": "Bagian Tata Pemerintahan",
                "pj_pihak_kedua": "Seksi Survei dan Pemetaan",
                "sumber_dana": "APBN Kantor Pertanahan Kabupaten Paser",
                "keterangan": "dukungan aparat desa",
            },
        ],
        "mulai": "2026-11-23",
        "selesai": "2028-11-22",
        "bermeterai": False,
    },
    "PKS": {
        "judul": "Pengangkutan dan Pengolahan Sampah di Tempat Pemrosesan Akhir Sampah Regional Kuaro",
        "pihak_kesatu": {
            "instansi": "Pemerintah Kabupaten Paser",
            "nama": "Ir. Budi Santoso, M.Si.",
            "jabatan": "Kepala Dinas Lingkungan Hidup Kabupaten Paser",
            "nomor": "100.3.7.1/27/DLH/2027",
            "nip": "19661211 198609 1 002",
            "alamat": "Jalan Kesuma Bangsa Nomor 5, Tanah Grogot",
        },
        "pihak_kedua": {
            "instansi": "Pemerintah Kota Balikpapan",
            "nama": "Sudirman Djayaleksana, S.T., M.T.",
            "jabatan": "Kepala Dinas Lingkungan Hidup Kota Balikpapan",
            "nomor": "100.3.7.1/88/DLH/2027",
            "nip": "19700305 199703 1 006",
            "alamat": "Jalan Ruhui Rahayu Nomor 1, Balikpapan",
        },
        "tanggal": "2027-02-15",
        "tempat": "Tanah Grogot",
        "kb_judul": _SAMPAH,
        "kb_nomor_pihak_kesatu": "100.3.7.1/123/Tapem/2026",
        "kb_nomor_pihak_kedua": "100.3.7.1/456/Pem/2026",
        "kb_tanggal": "2026-11-23",
        "kuasa": {"nomor": "100.3.7.1/31/Tapem/2027", "tanggal": "2027-02-08", "pemberi_jabatan": "Bupati Paser"},
        "kuasa_pihak_kedua": {
            "nomor": "100.3.7.1/14/Pem/2027",
            "tanggal": "2027-02-10",
            "pemberi_jabatan": "Wali Kota Balikpapan",
        },
        "dasar_hukum": _DASAR_HUKUM,
        "maksud": (
            "sebagai pedoman bagi PARA PIHAK dalam pengangkutan dan pengolahan sampah Kota Balikpapan di " + _TPA
        ),
        "tujuan": (
            "terkelolanya sampah Kota Balikpapan secara aman dan berwawasan lingkungan di TPA Sampah Regional Kuaro"
        ),
        "objek": "pengangkutan dan pengolahan sampah di TPA Sampah Regional Kuaro",
        "ruang_lingkup": [
            "penerimaan sampah residu dari Kota Balikpapan paling banyak 50 ton per hari",
            "pengolahan sampah dengan metode lahan urug saniter",
            "pemantauan kualitas lingkungan di sekitar TPA Sampah Regional Kuaro",
        ],
        "opd_teknis": "Dinas Lingkungan Hidup Kabupaten Paser",
        "opd_teknis_pihak_kedua": "Dinas Lingkungan Hidup Kota Balikpapan",
        "hak_pihak_kesatu": ["menerima kompensasi pengolahan sampah dari PIHAK KEDUA"],
        "kewajiban_pihak_kesatu": [
            "menyediakan lahan urug saniter di TPA Sampah Regional Kuaro",
            "mengolah sampah yang diterima sesuai standar teknis",
        ],
        "hak_pihak_kedua": ["membuang sampah residu ke TPA Sampah Regional Kuaro sesuai kuota"],
        "kewajiban_pihak_kedua": [
            "mengangkut sampah residu ke TPA Sampah Regional Kuaro dengan kendaraan tertutup",
            "membayar kompensasi pengolahan sampah kepada PIHAK KESATU",
        ],
        "nilai": 1250000000,
        "sumber_dana": "Anggaran Pendapatan dan Belanja Daerah Kota Balikpapan",
        "mulai": "2027-03-01",
        "selesai": "2029-02-28",
        "bermeterai": True,
    },
    "SK": {
        "nomor": "100.3.7.1/31/Tapem/2027",
        "pihak_kesatu": _PASER,
        "pihak_kedua": _BALIKPAPAN,
        "penerima_kuasa": {
            "nama": "Ir. Budi Santoso, M.Si.",
            "jabatan": "Kepala Dinas Lingkungan Hidup Kabupaten Paser",
            "pangkat": "Pembina Utama Muda (IV/c)",
            "nip": "19661211 198609 1 002",
        },
        "pks_judul": "Pengangkutan dan Pengolahan Sampah di Tempat Pemrosesan Akhir Sampah Regional Kuaro",
        "kb_nomor_pihak_kesatu": "100.3.7.1/123/Tapem/2026",
        "kb_nomor_pihak_kedua": "100.3.7.1/456/Pem/2026",
        "tempat": "Tanah Grogot",
        "tanggal": "2027-02-08",
        "berlaku_sampai": "2027-03-31",
        "bermeterai": True,
    },
}


def sample_data(jenis: str) -> dict[str, Any]:
    """Complete, realistic, JSON-ready data for the standard template of ``jenis`` (a fresh copy).

    Paser–Balikpapan regional waste cooperation (KB, PKS, Surat Kuasa) and a Nota
    Kesepakatan with the Kantor Pertanahan (KSIV).  Used by tests, the demo and benchmarks.
    """
    try:
        return copy.deepcopy(_SAMPLES[jenis.upper()])
    except KeyError:
        raise NotFound(
            f"Tidak ada contoh data untuk jenis '{jenis}'. Pilih salah satu: {', '.join(_SAMPLES)}.", jenis=jenis
        ) from None
