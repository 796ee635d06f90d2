"""Naskah templates: loading and validating templates, validating data, rendering safely."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document

from pipeline.drafting.templates import (
    PIHAK_ITEMS,
    FieldSpec,
    ParafBox,
    TemplateInfo,
    TemplateRegistry,
    default_template_root,
    load_template,
    make_environment,
    render_docx,
    sample_data,
    validate_data,
)
from pipeline.errors import NotFound, TemplateDataError, TemplateError

JENIS = ("KB", "NK", "PKS", "SK")


# --- helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return TemplateRegistry.load(default_template_root())


def standard(registry: TemplateRegistry, jenis: str) -> TemplateInfo:
    return registry.get(f"{jenis.lower()}/standar")


def doc_lines(docx: bytes) -> list[str]:
    """Every paragraph of the body, then every table cell paragraph, as text."""
    doc = Document(io.BytesIO(docx))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                lines += [p.text for p in cell.paragraphs]
    return lines


def doc_text(docx: bytes) -> str:
    return "\n".join(doc_lines(docx))


def make_docx(path: Path, *paragraphs: str, header: str | None = None, title: str | None = None) -> Path:
    """A small template built the way build.py builds them: each paragraph a single run."""
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph().add_run(text)
    if header is not None:
        doc.sections[0].header.paragraphs[0].add_run(header)
    if title is not None:
        doc.core_properties.title = title
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def write_manifest(path: Path, fields: str, *, jenis: str = "KB", paraf: str | None = None) -> Path:
    paraf = paraf if paraf is not None else 'corner = "bottom-right"\nx = 36\ny = 24\nwidth = 160\nheight = 46\n'
    path.write_text(
        f'[template]\njenis = "{jenis}"\ntitle = "Uji"\ndescription = "templat uji"\nserves = ["KSDD"]\n'
        f"[paraf]\n{paraf}\n{fields}",
        encoding="utf-8",
    )
    return path


JUDUL_FIELD = '[[fields]]\nname = "judul"\ntype = "text"\nrequired = true\ndescription = "judul"\n'


# --- the standard templates -----------------------------------------------------------


def test_registry_holds_the_four_standard_templates(registry: TemplateRegistry):
    assert [t.name for t in registry.all()] == ["kb/standar", "nk/standar", "pks/standar", "sk/standar"]
    assert {t.jenis for t in registry.all()} == set(JENIS)
    assert standard(registry, "KB").serves == ("KSDD", "KSDPK")
    assert standard(registry, "NK").serves == ("KSIV",)
    assert [t.name for t in registry.for_jenis("pks")] == ["pks/standar"]


def test_template_sha256_is_of_the_docx_bytes(registry: TemplateRegistry):
    for info in registry.all():
        assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()


def test_public_description_is_json_and_hides_the_path(registry: TemplateRegistry):
    public = standard(registry, "PKS").public()
    text = json.dumps(public)
    assert str(default_template_root()) not in text and "path" not in public
    assert public["name"] == "pks/standar" and public["jenis"] == "PKS"
    kuasa = next(f for f in public["fields"] if f["name"] == "kuasa")
    assert kuasa["type"] == "object" and {i["name"] for i in kuasa["items"]} == {"nomor", "tanggal", "pemberi_jabatan"}
    assert public["paraf"] == {"corner": "bottom-right", "x": 36.0, "y": 24.0, "width": 160.0, "height": 46.0}


def test_pihak_type_has_the_same_builtin_subfields_everywhere(registry: TemplateRegistry):
    for info in registry.all():
        for name in ("pihak_kesatu", "pihak_kedua"):
            spec = next(f for f in info.fields if f.name == name)
            assert spec.type == "pihak" and spec.required and spec.items == PIHAK_ITEMS
    required = {i.name for i in PIHAK_ITEMS if i.required}
    assert required == {"instansi", "nama", "jabatan", "nomor"}


def test_shared_field_names_have_the_same_type_in_every_template(registry: TemplateRegistry):
    types: dict[str, set[str]] = {}
    for info in registry.all():
        for spec in info.fields:
            types.setdefault(spec.name, set()).add(spec.type)
    assert {k: v for k, v in types.items() if len(v) > 1} == {}
    common = {"judul", "tanggal", "tempat", "maksud", "tujuan", "objek", "ruang_lingkup", "mulai", "selesai"}
    common |= {"bermeterai", "dasar_hukum", "pihak_kesatu", "pihak_kedua", "lambang_pihak_kesatu"}
    for jenis in ("KB", "NK", "PKS"):
        assert common <= {f.name for f in standard(registry, jenis).fields}, jenis


@pytest.mark.parametrize("jenis", JENIS)
def test_sample_data_renders_the_conventional_layout(registry: TemplateRegistry, jenis: str):
    data = sample_data(jenis)
    docx = render_docx(standard(registry, jenis), data)
    lines = [line.strip() for line in doc_lines(docx)]
    text = "\n".join(lines)
    assert "{{" not in text and "{%" not in text and "None" not in text
    if jenis == "SK":
        assert "SURAT KUASA" in lines and f"NOMOR : {data['nomor']}" in lines
        assert lines[0] == "BUPATI PASER"  # the Kepala Daerah's own kop, not the Pemda's with its address
        assert "PEMERINTAH KABUPATEN PASER" not in lines and data["pihak_kesatu"]["alamat"] not in text
        assert "Yang bertanda tangan di bawah ini:" in lines
        assert "Yang diberi kuasa," in lines and "Yang memberi kuasa," in lines
        assert f"tentang {data['pks_judul']}" in text
        assert "sebagai tindak lanjut Kesepakatan Bersama Nomor 100.3.7.1/123/Tapem/2026" in text
        assert "berlaku sejak tanggal ditetapkan sampai dengan tanggal 31 Maret 2027" in text
        assert "NIP. 19661211 198609 1 002" in lines
        pemberi = Document(io.BytesIO(docx)).tables[0].cell(0, 1)
        assert [c.text for t in pemberi.tables for c in t._cells] == ["Meterai elektronik"]
        assert "Ditetapkan di Tanah Grogot" in lines and "pada tanggal 8 Februari 2027" in lines
        return
    title = {"KB": "KESEPAKATAN BERSAMA", "NK": "NOTA KESEPAKATAN", "PKS": "PERJANJIAN KERJA SAMA"}[jenis]
    start = lines.index(title)
    assert lines[start : start + 7] == [
        title,
        "ANTARA",
        data["pihak_kesatu"]["instansi"].upper(),
        "DENGAN",
        data["pihak_kedua"]["instansi"].upper(),
        "TENTANG",
        data["judul"].upper(),
    ]
    # each nomor labelled with its party (the party's name beside its own register number)
    nomor = Document(io.BytesIO(docx)).tables[0]
    assert [[c.text for c in row.cells] for row in nomor.rows] == [
        [data["pihak_kesatu"]["instansi"].upper(), f"NOMOR : {data['pihak_kesatu']['nomor']}"],
        [data["pihak_kedua"]["instansi"].upper(), f"NOMOR : {data['pihak_kedua']['nomor']}"],
    ]
    opening = {
        "KB": "Senin tanggal dua puluh tiga bulan November tahun dua ribu dua puluh enam",
        "NK": "Senin tanggal dua puluh tiga bulan November tahun dua ribu dua puluh enam",
        "PKS": "Senin tanggal lima belas bulan Februari tahun dua ribu dua puluh tujuh",
    }[jenis]
    assert f"Pada hari ini {opening}, bertempat di {data['tempat']}, yang bertanda tangan di bawah ini:" in lines
    assert "selanjutnya disebut PIHAK KESATU;" in text and "selanjutnya disebut PIHAK KEDUA." in text
    assert "secara bersama-sama disebut PARA PIHAK" in text
    assert f"{data['pihak_kesatu']['nama']} : {data['pihak_kesatu']['jabatan']}" in text
    assert "MAKSUD DAN TUJUAN" in lines and "PENUTUP" in lines and "KEADAAN KAHAR" in lines
    for letter, item in zip("abc", data["ruang_lingkup"], strict=False):
        assert any(
            line.startswith(f"{letter}.\t") and line.endswith((item + ";", item + "; dan", item + "."))
            for line in lines
        ), item
    years = {"KB": "5 (lima) tahun", "NK": "2 (dua) tahun", "PKS": "2 (dua) tahun"}[jenis]
    assert f"berlaku untuk jangka waktu {years} terhitung sejak tanggal" in text
    assert "dibuat dalam 1 (satu) naskah asli berupa dokumen elektronik" in text and "rangkap" not in text
    # signature block: PIHAK KEDUA on the left, PIHAK KESATU on the right, then the paraf box
    doc = Document(io.BytesIO(docx))
    sign = next(t for t in doc.tables if t.cell(0, 0).paragraphs[0].text == "PIHAK KEDUA,")
    assert sign.cell(0, 0).paragraphs[0].text == "PIHAK KEDUA,"
    assert sign.cell(0, 1).paragraphs[0].text == "PIHAK KESATU,"
    assert sign.cell(1, 1).paragraphs[0].text == data["pihak_kesatu"]["nama"]
    after = [t._tbl for t in doc.tables].index(sign._tbl) + 1
    assert doc.tables[after].cell(0, 0).text == "Paraf"


def test_nota_kesepakatan_has_one_rencana_kerja_row_per_activity(registry: TemplateRegistry):
    data = sample_data("NK")
    doc = Document(io.BytesIO(render_docx(standard(registry, "NK"), data)))
    grid = next(t for t in doc.tables if t.cell(0, 1).text == "Program/Kegiatan")
    assert [c.text for c in grid.rows[0].cells][5:7] == [
        "Penanggung Jawab PIHAK KESATU",
        "Penanggung Jawab PIHAK KEDUA",
    ]
    rows = [[c.text for c in row.cells] for row in grid.rows[1:]]
    assert len(rows) == len(data["rencana_kerja"]) == 2
    for i, (row, activity) in enumerate(zip(rows, data["rencana_kerja"], strict=True), start=1):
        assert row[0] == str(i)
        assert row[1:] == [
            activity[k]
            for k in ("program", "output", "lokasi", "jadwal", "pj_pihak_kesatu", "pj_pihak_kedua", "sumber_dana")
        ] + [activity["keterangan"]]
    assert "Kecamatan Tanah Grogot & Kuaro" in rows[0]  # '&' arrives literally


def test_pks_refers_to_its_kb_and_states_the_value_in_words(registry: TemplateRegistry):
    text = doc_text(render_docx(standard(registry, "PKS"), sample_data("PKS")))
    assert (
        "sebagai tindak lanjut Kesepakatan Bersama antara Pemerintah Kabupaten Paser dengan Pemerintah Kota "
        "Balikpapan Nomor 100.3.7.1/123/Tapem/2026 dan Nomor 100.3.7.1/456/Pem/2026 tanggal 23 November 2026"
    ) in text
    assert "sebesar Rp1.250.000.000,00 (satu miliar dua ratus lima puluh juta rupiah)" in text
    assert "PIHAK KESATU berhak menerima kompensasi" in text and "PIHAK KEDUA berkewajiban:" in text
    assert "b.\tmembayar kompensasi pengolahan sampah kepada PIHAK KESATU." in text


def test_pks_kuasa_clause_appears_only_when_the_signer_holds_a_surat_kuasa(registry: TemplateRegistry):
    info = standard(registry, "PKS")
    with_kuasa = doc_text(render_docx(info, sample_data("PKS")))
    assert (
        "dalam hal ini bertindak dalam jabatannya berdasarkan Surat Kuasa Bupati Paser Nomor 100.3.7.1/31/Tapem/2027 "
        "tanggal 8 Februari 2027, untuk dan atas nama Pemerintah Kabupaten Paser"
    ) in with_kuasa
    data = sample_data("PKS")
    del data["kuasa"], data["kuasa_pihak_kedua"], data["nilai"], data["sumber_dana"]
    without = doc_text(render_docx(info, data))
    assert "Surat Kuasa" not in without and "a.n." not in without
    assert "dalam hal ini bertindak dalam jabatannya untuk dan atas nama Pemerintah Kabupaten Paser" in without
    assert "Rp" not in without and "anggaran masing-masing PARA PIHAK" in without


def test_meterai_sentence_and_box_follow_bermeterai(registry: TemplateRegistry):
    info = standard(registry, "KB")
    data = sample_data("KB")
    assert "meterai" not in doc_text(render_docx(info, data)).lower()
    data["bermeterai"] = True
    docx = render_docx(info, data)
    text = doc_text(docx)
    assert (
        "secara elektronik oleh PARA PIHAK pada hari dan tanggal sebagaimana tersebut di atas dan dibubuhi meterai "
        "elektronik." in text
    )
    assert "Meterai Rp10.000" not in text and "meterai cukup" not in text
    # one box, of its own, in PIHAK KEDUA's block (a nested table), never text in the signing space
    sign = next(t for t in Document(io.BytesIO(docx)).tables if t.cell(0, 0).paragraphs[0].text == "PIHAK KEDUA,")
    assert [c.text for t in sign.cell(0, 0).tables for c in t._cells] == ["Meterai elektronik"]
    assert sign.cell(0, 1).tables == [] and "eterai" not in sign.cell(0, 1).text


def test_nip_line_appears_only_when_given(registry: TemplateRegistry):
    info = standard(registry, "KB")
    data = sample_data("KB")
    assert "NIP." not in doc_text(render_docx(info, data))
    data["pihak_kesatu"]["nip"] = "19661211 198609 1 002"
    assert "NIP. 19661211 198609 1 002" in doc_lines(render_docx(info, data))


def test_special_characters_render_literally(registry: TemplateRegistry):
    data = sample_data("KB")
    tricky = "PT Sinar & Sejahtera <Persero> \"Tbk\" 'Cab. Paser'"
    data["pihak_kedua"]["instansi"] = tricky
    data["tempat"] = "Gedung <w:p> & </w:t> ]]>"
    data["ruang_lingkup"] = ["a < b & c > d", "baris satu\nbaris dua"]
    docx = render_docx(standard(registry, "KB"), data)
    lines = doc_lines(docx)
    assert tricky.upper() in lines
    assert any("bertempat di Gedung <w:p> & </w:t> ]]>, yang" in line for line in lines)
    assert any(line.endswith("a < b & c > d; dan") for line in lines)
    assert any("baris satu\nbaris dua" in line for line in lines)  # a line break inside the item


def test_jinja_in_data_is_printed_not_executed(registry: TemplateRegistry):
    data = sample_data("KB")
    data["judul"] = "{{ 7 * 7 }} {% for x in range(3) %}x{% endfor %} {{ ''.__class__ }}"
    lines = doc_lines(render_docx(standard(registry, "KB"), data))
    assert data["judul"].upper() in lines
    assert "49" not in "\n".join(lines)


def test_rendering_is_deterministic_for_the_same_data(registry: TemplateRegistry):
    info = standard(registry, "SK")
    assert doc_lines(render_docx(info, sample_data("SK"))) == doc_lines(render_docx(info, sample_data("SK")))


def test_committed_templates_match_build_script(tmp_path: Path):
    """templates/build.py is the source: the committed DOCX and TOML must be what it writes."""
    script = default_template_root().parent / "build.py"
    spec = importlib.util.spec_from_file_location("naskah_templates_build", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script is executed
    try:
        spec.loader.exec_module(module)
        module.main(tmp_path / "naskah")  # the intake's letters go next to it: tmp_path / "intake"
    finally:
        del sys.modules[spec.name]
    built_files = sorted(tmp_path.glob("*/*/*"))
    assert any(f.parts[-3] == "intake" for f in built_files) and any(f.parts[-3] == "naskah" for f in built_files)
    for built in built_files:
        committed = default_template_root().parent / built.relative_to(tmp_path)
        assert committed.read_bytes() == built.read_bytes(), f"{committed} is stale: run templates/build.py"


# --- data validation --------------------------------------------------------------------


def test_missing_fields_are_all_listed(registry: TemplateRegistry):
    data = sample_data("KB")
    del data["judul"], data["tanggal"]
    data["pihak_kedua"].pop("nama")
    data["maksud"] = "   "
    data["ruang_lingkup"] = []
    with pytest.raises(TemplateDataError) as caught:
        validate_data(standard(registry, "KB"), data)
    err = caught.value
    assert err.detail["missing"] == ["judul", "pihak_kedua.nama", "tanggal", "maksud", "ruang_lingkup"]
    assert err.detail["invalid"] == []
    for name in ("judul", "pihak_kedua.nama", "tanggal", "maksud", "ruang_lingkup"):
        assert name in err.message
    assert "belum diisi" in err.message


def test_render_with_missing_fields_fails_before_rendering(registry: TemplateRegistry):
    with pytest.raises(TemplateDataError) as caught:
        render_docx(standard(registry, "NK"), {})
    assert {"judul", "pihak_kesatu", "pihak_kedua", "rencana_kerja", "tanggal"} <= set(caught.value.detail["missing"])
    assert "dasar_hukum" in caught.value.detail["missing"]  # a naskah cites at least one


def test_wrong_types_name_the_fields(registry: TemplateRegistry):
    data = sample_data("PKS")
    data.update(tanggal="kemarin", bermeterai="ya", nilai="satu juta", ruang_lingkup="semua")
    data["lambang_pihak_kesatu"] = "/etc/passwd"  # an image field takes image bytes only, never a path
    data["rencana"] = "ignored"
    data["kuasa"]["tanggal"] = "2027-13-45"
    with pytest.raises(TemplateDataError) as caught:
        validate_data(standard(registry, "PKS"), data)
    invalid = {i["field"]: i["message"] for i in caught.value.detail["invalid"]}
    assert set(invalid) == {"tanggal", "bermeterai", "nilai", "ruang_lingkup", "kuasa.tanggal", "lambang_pihak_kesatu"}
    assert "kemarin" in invalid["tanggal"] and "TTTT-BB-HH" in invalid["tanggal"]
    assert "PNG atau JPEG" in invalid["lambang_pihak_kesatu"]
    assert caught.value.detail["missing"] == []
    assert "tanggal" in caught.value.message and "bermeterai" in caught.value.message


def test_table_rows_are_checked_cell_by_cell(registry: TemplateRegistry):
    data = sample_data("NK")
    del data["rencana_kerja"][1]["lokasi"]
    data["rencana_kerja"][0]["jadwal"] = 2027
    data["rencana_kerja"].append("bukan objek")
    with pytest.raises(TemplateDataError) as caught:
        validate_data(standard(registry, "NK"), data)
    assert caught.value.detail["missing"] == ["rencana_kerja[1].lokasi"]
    assert [i["field"] for i in caught.value.detail["invalid"]] == ["rencana_kerja[0].jadwal", "rencana_kerja[2]"]


def test_values_are_coerced_from_json(registry: TemplateRegistry):
    data = sample_data("PKS")
    data.update(nilai="1250000.50")
    data["kuasa"]["nomor"] = "12"
    values = validate_data(standard(registry, "PKS"), data)
    assert values["tanggal"] == date(2027, 2, 15) and values["kuasa"]["tanggal"] == date(2027, 2, 8)
    assert values["kuasa"]["nomor"] == "12"
    assert values["nilai"] == Decimal("1250000.50")
    assert "(satu juta dua ratus lima puluh ribu rupiah lima puluh sen)" in doc_text(
        render_docx(standard(registry, "PKS"), data)
    )


@pytest.mark.parametrize("bad", [True, 2.5, "2.0", "", [2]])
def test_integer_fields_refuse_bools_fractions_and_words(tmp_path: Path, bad: object):
    path = make_docx(tmp_path / "kb" / "angka.docx", "{{ jumlah }} lembar")
    write_manifest(path.with_suffix(".toml"), '[[fields]]\nname = "jumlah"\ntype = "integer"\nrequired = true\n')
    info = load_template(path)
    assert validate_data(info, {"jumlah": 3.0})["jumlah"] == 3
    with pytest.raises(TemplateDataError) as caught:
        validate_data(info, {"jumlah": bad})
    assert [i["field"] for i in caught.value.detail["invalid"]] == ["jumlah"]


@pytest.mark.parametrize("bad", [-1, "1.005", True, "Rp 1.000"])
def test_rupiah_fields_refuse_negative_sub_sen_and_formatted_values(registry: TemplateRegistry, bad: object):
    data = sample_data("PKS")
    data["nilai"] = bad
    with pytest.raises(TemplateDataError) as caught:
        validate_data(standard(registry, "PKS"), data)
    assert [i["field"] for i in caught.value.detail["invalid"]] == ["nilai"]


def test_control_characters_in_text_are_refused(registry: TemplateRegistry):
    data = sample_data("KB")
    data["judul"] = "Judul\x07dengan bel"
    with pytest.raises(TemplateDataError) as caught:
        validate_data(standard(registry, "KB"), data)
    assert caught.value.detail["invalid"][0]["field"] == "judul"


def test_absent_optional_fields_read_as_empty_and_extra_keys_are_dropped(registry: TemplateRegistry):
    data = sample_data("PKS")
    for key in ("kuasa", "kuasa_pihak_kedua", "nilai", "kb_tanggal", "sumber_dana", "bermeterai"):
        del data[key]
    data["pihak_kesatu"]["nip"] = None
    data["bukan_isian"] = "diabaikan"
    values = validate_data(standard(registry, "PKS"), data)
    assert values["kuasa"] is None and values["nilai"] is None and values["kb_tanggal"] is None
    assert values["lambang_pihak_kesatu"] is None and values["kuasa_pihak_kedua"] is None
    assert values["sumber_dana"] == "" and values["bermeterai"] is False
    assert values["pihak_kesatu"]["nip"] == ""
    assert "bukan_isian" not in values
    assert set(values) == {f.name for f in standard(registry, "PKS").fields}


def test_selesai_may_not_precede_mulai(registry: TemplateRegistry):
    data = sample_data("KB")
    data["selesai"] = "2026-11-22"
    with pytest.raises(TemplateDataError) as caught:
        validate_data(standard(registry, "KB"), data)
    assert caught.value.detail["invalid"] == [
        {"field": "selesai", "message": "22 November 2026 mendahului mulai (23 November 2026)"}
    ]


def test_data_must_be_a_mapping(registry: TemplateRegistry):
    with pytest.raises(TemplateDataError):
        validate_data(standard(registry, "KB"), ["judul"])  # type: ignore[arg-type]


def test_unknown_template_name_lists_the_available_ones(registry: TemplateRegistry):
    with pytest.raises(NotFound) as caught:
        registry.get("kb/tidakada")
    assert "kb/standar" in caught.value.message and "sk/standar" in caught.value.message
    assert caught.value.detail["available"] == ["kb/standar", "nk/standar", "pks/standar", "sk/standar"]


def test_sample_data_is_json_ready_and_a_fresh_copy():
    for jenis in JENIS:
        first = sample_data(jenis)
        json.dumps(first)
        first["pihak_kesatu"]["nama"] = "diubah"
        assert sample_data(jenis)["pihak_kesatu"]["nama"] != "diubah"
    with pytest.raises(NotFound):
        sample_data("XX")


# --- the environment ----------------------------------------------------------------------


def test_environment_is_sandboxed_autoescaped_and_strict():
    env = make_environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<a & b>") == "&lt;a &amp; b&gt;"
    assert env.from_string("{{ d|tanggal_terbilang }}").render(d="2026-11-23").startswith("Senin tanggal dua puluh")
    assert env.from_string("{{ n|terbilang }} {{ n|rupiah }}").render(n=2026) == "dua ribu dua puluh enam Rp2.026,00"
    assert "safe" not in env.filters and "cycler" not in env.globals
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ nothing }}").render()


# --- refusing bad templates ----------------------------------------------------------------

INJECTIONS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ x.__class__ }}",
    "{{ x|attr('__class__') }}",
    "{{ x['__globals__'] }}",
    "{{ x._private }}",
    "{% include 'rahasia.docx' %}",
    "{{ x|safe }}",
    "{% if x %}{{ x|urlize }}{% endif %}",
]


@pytest.mark.parametrize("source", INJECTIONS)
def test_injection_is_refused_at_load_time(tmp_path: Path, source: str):
    path = make_docx(tmp_path / "jahat.docx", "Naskah biasa {{ x }}", source)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert "jahat" in caught.value.message and caught.value.detail["problems"]


def test_injection_in_a_registered_template_stops_the_registry(tmp_path: Path):
    root = tmp_path / "daerah"
    make_docx(root / "kb" / "jahat.docx", "{{ judul.__class__.__mro__ }}")
    write_manifest(root / "kb" / "jahat.toml", JUDUL_FIELD)
    with pytest.raises(TemplateError) as caught:
        TemplateRegistry.load(default_template_root(), root)
    assert "kb/jahat" in caught.value.message and "__mro__" in caught.value.message


def test_injection_in_header_or_document_properties_is_refused(tmp_path: Path):
    header = make_docx(tmp_path / "kepala.docx", "{{ x }}", header="{{ x.__class__ }}")
    with pytest.raises(TemplateError, match="header"):
        load_template(header)
    props = make_docx(tmp_path / "properti.docx", "{{ x }}", title="{{ x.__init__ }}")
    with pytest.raises(TemplateError, match="properti dokumen 'title'"):
        load_template(props)


def test_sandbox_refuses_unsafe_calls_at_render_time(tmp_path: Path):
    info = load_template(make_docx(tmp_path / "ubah.docx", "{{ x.append(1) }}"))  # passes the load checks
    with pytest.raises(TemplateError) as caught:
        render_docx(info, {"x": [1, 2]})
    assert caught.value.detail["reason"] == "security"


def test_sandbox_is_the_last_line_even_for_a_template_that_skipped_loading(tmp_path: Path):
    path = make_docx(tmp_path / "selundup.docx", "{{ x.__class__.__mro__[1].__subclasses__() }}")
    sneaked = TemplateInfo(
        name="selundup",
        jenis="KB",
        title="selundup",
        description="",
        serves=(),
        path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        fields=(FieldSpec("x", "any", True, ""),),
        paraf=ParafBox("bottom-right", 36, 24, 160, 46),
    )
    with pytest.raises(TemplateError) as caught:
        render_docx(sneaked, {"x": "teks"})
    assert caught.value.detail["reason"] == "security"


def test_memory_bombs_are_refused_at_render_time(tmp_path: Path):
    info = load_template(make_docx(tmp_path / "bom.docx", "{{ x * 100000000 }}"))
    with pytest.raises(TemplateError):
        render_docx(info, {"x": "aaaa"})


def test_syntax_error_is_refused_with_its_place(tmp_path: Path):
    path = make_docx(tmp_path / "rusak.docx", "Pembuka", "{% if judul %}tanpa penutup", "Akhir")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    message = caught.value.message
    assert "kesalahan sintaks Jinja" in message and "rusak" in message
    assert "endif" in message


def test_not_a_docx_is_refused(tmp_path: Path):
    path = tmp_path / "palsu.docx"
    path.write_bytes(b"bukan zip")
    with pytest.raises(TemplateError, match="bukan berkas DOCX"):
        load_template(path)


def test_manifest_and_template_must_declare_the_same_fields(tmp_path: Path):
    path = make_docx(tmp_path / "kb" / "beda.docx", "{{ judul }} {{ tempat }}")
    write_manifest(
        tmp_path / "kb" / "beda.toml",
        JUDUL_FIELD + '[[fields]]\nname = "tanggal"\ntype = "date"\nrequired = true\ndescription = "tgl"\n',
    )
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    problems = " ".join(caught.value.detail["problems"])
    assert "tidak dideklarasikan di manifest: tempat" in problems
    assert "tidak dipakai di templat: tanggal" in problems


def test_unknown_subfield_of_a_pihak_or_table_row_is_refused(tmp_path: Path):
    path = make_docx(
        tmp_path / "kb" / "salah.docx",
        "{{ pihak_kesatu.nmaa }}",
        "{%p for r in baris %}",
        "{{ r.lokasi }} {{ r.tidakada }}",
        "{%p endfor %}",
    )
    write_manifest(
        tmp_path / "kb" / "salah.toml",
        '[[fields]]\nname = "pihak_kesatu"\ntype = "pihak"\nrequired = true\ndescription = "p1"\n'
        '[[fields]]\nname = "baris"\ntype = "table"\nrequired = true\ndescription = "rows"\n'
        '[[fields.items]]\nname = "lokasi"\ntype = "text"\nrequired = true\ndescription = "lokasi"\n',
    )
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    problems = " ".join(caught.value.detail["problems"])
    assert "'pihak_kesatu.nmaa' tidak dikenal" in problems and "'r.tidakada' tidak dikenal" in problems


@pytest.mark.parametrize(
    ("manifest_fields", "paraf", "expected"),
    [
        ('[[fields]]\nname = "judul"\ntype = "teks"\nrequired = true\n', None, "'type' harus salah satu"),
        ('[[fields]]\nname = "Judul"\ntype = "text"\n', None, "'name' harus huruf kecil"),
        (JUDUL_FIELD + "requried = true\n", None, "kunci tidak dikenal"),
        (JUDUL_FIELD + JUDUL_FIELD, None, "dideklarasikan dua kali"),
        ('[[fields]]\nname = "judul"\ntype = "table"\nrequired = true\n', None, "memerlukan [[fields.items]]"),
        (JUDUL_FIELD, 'corner = "tengah"\nx = 1\ny = 1\nwidth = 1\nheight = 1\n', "[paraf] corner"),
        (JUDUL_FIELD, 'corner = "top-left"\nx = 1\ny = 1\nwidth = 0\nheight = 1\n', "width/height > 0"),
        ("judul = = rusak", None, "bukan TOML"),
    ],
)
def test_broken_manifest_is_refused(tmp_path: Path, manifest_fields: str, paraf: str | None, expected: str):
    path = make_docx(tmp_path / "kb" / "uji.docx", "{{ judul }}")
    write_manifest(tmp_path / "kb" / "uji.toml", manifest_fields, paraf=paraf)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert expected in caught.value.message


def test_manifest_jenis_must_be_known(tmp_path: Path):
    path = make_docx(tmp_path / "kb" / "uji.docx", "{{ judul }}")
    write_manifest(tmp_path / "kb" / "uji.toml", JUDUL_FIELD, jenis="MOU")
    with pytest.raises(TemplateError, match="jenis harus salah satu"):
        load_template(path)


# --- roots, regions and templates without a manifest -----------------------------------------


def test_a_region_directory_adds_its_own_template(tmp_path: Path):
    root = tmp_path / "paser"
    make_docx(root / "kb" / "paser.docx", "KESEPAKATAN BERSAMA TENTANG {{ judul|upper }}", "{{ tanggal|tanggal }}")
    write_manifest(
        root / "kb" / "paser.toml",
        JUDUL_FIELD + '[[fields]]\nname = "tanggal"\ntype = "date"\nrequired = true\ndescription = "tgl"\n',
    )
    registry = TemplateRegistry.load(default_template_root(), root)
    assert [t.name for t in registry.for_jenis("KB")] == ["kb/paser", "kb/standar"]
    info = registry.get("kb/paser")
    assert info.title == "Uji" and info.serves == ("KSDD",)
    text = doc_text(render_docx(info, {"judul": "Air Minum", "tanggal": "2026-11-23"}))
    assert "KESEPAKATAN BERSAMA TENTANG AIR MINUM" in text and "23 November 2026" in text


def test_a_later_root_may_replace_a_template_of_the_same_name(tmp_path: Path):
    root = tmp_path / "paser"
    make_docx(root / "sk" / "standar.docx", "SURAT KUASA VERSI DAERAH {{ judul }}")
    write_manifest(root / "sk" / "standar.toml", JUDUL_FIELD, jenis="SK")
    registry = TemplateRegistry.load(default_template_root(), root)
    assert registry.get("sk/standar").path == root / "sk" / "standar.docx"
    assert len(registry) == 4


def test_every_docx_in_a_root_needs_its_manifest(tmp_path: Path):
    root = tmp_path / "daerah"
    make_docx(root / "kb" / "yatim.docx", "{{ judul }}")
    with pytest.raises(TemplateError, match="tanpa manifest"):
        TemplateRegistry.load(root)


def test_folder_must_match_the_manifest_jenis(tmp_path: Path):
    root = tmp_path / "daerah"
    make_docx(root / "kb" / "keliru.docx", "{{ judul }}")
    write_manifest(root / "kb" / "keliru.toml", JUDUL_FIELD, jenis="PKS")
    with pytest.raises(TemplateError, match="tidak sesuai jenis"):
        TemplateRegistry.load(root)


def test_all_broken_templates_are_reported_together(tmp_path: Path):
    root = tmp_path / "daerah"
    make_docx(root / "kb" / "satu.docx", "{{ judul.__class__ }}")
    write_manifest(root / "kb" / "satu.toml", JUDUL_FIELD)
    make_docx(root / "kb" / "dua.docx", "{% if %}")
    write_manifest(root / "kb" / "dua.toml", JUDUL_FIELD)
    with pytest.raises(TemplateError) as caught:
        TemplateRegistry.load(root)
    assert "kb/satu" in caught.value.message and "kb/dua" in caught.value.message


def test_missing_root_is_refused(tmp_path: Path):
    with pytest.raises(TemplateError, match="tidak ditemukan"):
        TemplateRegistry.load(tmp_path / "tidakada")


def test_docx_without_manifest_makes_every_variable_a_required_field(tmp_path: Path):
    path = make_docx(tmp_path / "undangan.docx", "Kepada {{ nama }} di {{ tempat }}", "pada {{ hari|tanggal }}")
    info = load_template(path)
    assert info.name == "undangan"
    assert [(f.name, f.type, f.required) for f in info.fields] == [
        ("hari", "any", True),
        ("nama", "any", True),
        ("tempat", "any", True),
    ]
    with pytest.raises(TemplateDataError) as caught:
        render_docx(info, {"nama": "Bupati"})
    assert caught.value.detail["missing"] == ["hari", "tempat"]
    text = doc_text(render_docx(info, {"nama": "Bupati & Wakil", "tempat": "Tanah Grogot", "hari": "2026-11-23"}))
    assert "Kepada Bupati & Wakil di Tanah Grogot" in text and "pada 23 November 2026" in text


def test_render_uses_the_bytes_that_were_validated(tmp_path: Path):
    path = make_docx(tmp_path / "tetap.docx", "Versi pertama {{ x }}")
    info = load_template(path)
    make_docx(path, "Versi kedua {{ x.__class__ }}")  # edited on disk after loading
    assert "Versi pertama satu" in doc_text(render_docx(info, {"x": "satu"}))


def test_paraf_box_is_placed_from_its_corner():
    box = ParafBox("bottom-right", 36, 24, 160, 46)
    assert box.rect(595.0, 842.0) == (399.0, 24.0, 559.0, 70.0)
    assert ParafBox("top-left", 10, 20, 100, 30).rect(842.0, 595.0) == (10.0, 545.0, 110.0, 575.0)


# --- drafting per Tata Naskah Dinas (issue 11 §4) ---------------------------------------------


def bold_runs(docx: bytes) -> list[tuple[str, bool]]:
    """(text, bold) of every run of the body's paragraphs with text."""
    doc = Document(io.BytesIO(docx))
    return [(r.text, bool(r.bold)) for p in doc.paragraphs for r in p.runs if r.text.strip()]


def paragraph(docx: bytes, start: str) -> str:
    return next(line for line in doc_lines(docx) if line.startswith(start))


def test_lists_under_an_ayat_are_lettered_and_a_single_item_is_a_sentence(registry: TemplateRegistry):
    data = sample_data("PKS")
    data["ruang_lingkup"] = ["pengolahan sampah dengan metode lahan urug saniter"]
    lines = doc_lines(render_docx(standard(registry, "PKS"), data))
    assert (
        "(2)\tRuang lingkup Perjanjian Kerja Sama ini meliputi pengolahan sampah dengan metode lahan urug saniter."
        in lines
    )
    assert "(1)\tPIHAK KESATU berhak menerima kompensasi pengolahan sampah dari PIHAK KEDUA." in lines
    assert "(2)\tPIHAK KESATU berkewajiban:" in lines
    assert "a.\tmenyediakan lahan urug saniter di TPA Sampah Regional Kuaro; dan" in lines
    assert "b.\tmengolah sampah yang diterima sesuai standar teknis." in lines
    # pengakhiran: a. b. c. under ayat (1); top-level lists (dasar hukum) keep 1. 2. 3.
    assert any(line.startswith("a.\tjangka waktu sebagaimana dimaksud dalam Pasal") for line in lines)
    assert "b.\tdisepakati oleh PARA PIHAK untuk diakhiri; atau" in lines
    assert any(line.startswith("1.\tUndang-Undang Nomor 23 Tahun 2014") for line in lines)
    assert not any(line.startswith(("1.\tpengolahan", "1.\tmenerima", "1.\tjangka")) for line in lines)


def test_a_pasal_of_one_paragraph_has_no_ayat_number(registry: TemplateRegistry):
    info = standard(registry, "PKS")
    with_nilai = doc_lines(render_docx(info, sample_data("PKS")))
    assert any(line.startswith("(1)\tBiaya yang timbul") for line in with_nilai)
    assert any(
        line.startswith("(2)\tNilai Perjanjian Kerja Sama ini sebesar Rp1.250.000.000,00") for line in with_nilai
    )
    data = sample_data("PKS")
    del data["nilai"]
    without = doc_lines(render_docx(info, data))
    assert any(line.startswith("Biaya yang timbul dalam pelaksanaan") for line in without)
    assert not any(line.startswith("(1)\tBiaya") for line in without)


def test_one_dasar_hukum_is_written_as_a_sentence(registry: TemplateRegistry):
    data = sample_data("KB")
    data["dasar_hukum"] = ["Peraturan Pemerintah Nomor 28 Tahun 2018 tentang Kerja Sama Daerah"]
    text = doc_text(render_docx(standard(registry, "KB"), data))
    assert (
        "dengan memperhatikan Peraturan Pemerintah Nomor 28 Tahun 2018 tentang Kerja Sama Daerah, dengan ketentuan "
        "sebagai berikut:"
    ) in text
    assert "1.\tPeraturan" not in text


def test_party_terms_are_capitals_and_bold_also_in_drafter_text(registry: TemplateRegistry):
    data = sample_data("KB")
    data["maksud"] = "sebagai pedoman bagi Para Pihak dalam kerja sama dengan pihak ketiga"
    data["ruang_lingkup"] = ["koordinasi pihak kedua & PIHAK KESATU <segera>", "pertukaran data"]
    docx = render_docx(standard(registry, "KB"), data)
    runs = bold_runs(docx)
    for term in ("PARA PIHAK", "PIHAK KEDUA", "PIHAK KESATU"):
        assert all(bold for text, bold in runs if term in text), term
    assert ("PARA PIHAK", True) in runs and ("PIHAK KEDUA", True) in runs
    assert (
        "(1)\tMaksud Kesepakatan Bersama ini adalah sebagai pedoman bagi PARA PIHAK dalam kerja sama dengan pihak "
        "ketiga." in doc_lines(docx)
    )
    assert any("koordinasi PIHAK KEDUA & PIHAK KESATU <segera>; dan" in line for line in doc_lines(docx))
    # the pengakhiran's PARA PIHAK was plain text before
    assert ("disepakati oleh ", False) in runs and (" untuk diakhiri; atau", False) in runs


@pytest.mark.parametrize("jenis", ["KB", "NK", "PKS"])
def test_abbreviations_are_defined_where_first_used(registry: TemplateRegistry, jenis: str):
    """An abbreviation (TPA, APBD) first appears as "Nama Lengkap (SINGKATAN)", in the body and the lampiran."""
    lines = doc_lines(render_docx(standard(registry, jenis), sample_data(jenis)))
    # headings, the title and the signature headings ("a.n. BUPATI PASER") are capitals throughout
    body = [line for line in lines if line != line.upper() and not line.startswith("a.n. ")]
    allowed = {"PIHAK", "PARA", "KESATU", "KEDUA", "NIP", "NOMOR", "TANGGAL", "TENTANG", "LAMPIRAN", "RENCANA"}
    seen: set[str] = set()
    for line in body:
        for match in re.finditer(r"(\(?)\b([A-Z]{2,6})\b(\)?)", line):
            abbr = match.group(2)
            if abbr in allowed or abbr in seen:
                continue
            assert match.group(1) == "(" and match.group(3) == ")", f"{abbr} used before it is defined: {line}"
            seen.add(abbr)


def test_pks_signers_under_a_kuasa_read_a_n_in_the_printed_block(registry: TemplateRegistry):
    data = sample_data("PKS")
    docx = render_docx(standard(registry, "PKS"), data)
    text = doc_text(docx)
    sign = next(t for t in Document(io.BytesIO(docx)).tables if t.cell(0, 0).paragraphs[0].text == "PIHAK KEDUA,")
    assert [p.text for p in sign.cell(0, 1).paragraphs if p.text][:3] == [
        "PIHAK KESATU,",
        "a.n. BUPATI PASER",
        "KEPALA DINAS LINGKUNGAN HIDUP KABUPATEN PASER,",
    ]
    assert [p.text for p in sign.cell(0, 0).paragraphs if p.text][:3] == [
        "PIHAK KEDUA,",
        "a.n. WALI KOTA BALIKPAPAN",
        "KEPALA DINAS LINGKUNGAN HIDUP KOTA BALIKPAPAN,",
    ]
    assert (
        "dalam hal ini bertindak dalam jabatannya berdasarkan Surat Kuasa Wali Kota Balikpapan Nomor "
        "100.3.7.1/14/Pem/2027 tanggal 10 Februari 2027, untuk dan atas nama Pemerintah Kota Balikpapan"
    ) in text
    # without its kuasa, PIHAK KEDUA signs in his own jabatan: no a.n.
    del data["kuasa_pihak_kedua"]
    sign = next(
        t
        for t in Document(io.BytesIO(render_docx(standard(registry, "PKS"), data))).tables
        if t.cell(0, 0).paragraphs[0].text == "PIHAK KEDUA,"
    )
    assert [p.text for p in sign.cell(0, 0).paragraphs if p.text][:2] == [
        "PIHAK KEDUA,",
        "KEPALA DINAS LINGKUNGAN HIDUP KOTA BALIKPAPAN,",
    ]


def test_nota_kesepakatan_prints_its_signature_blocks_once(registry: TemplateRegistry):
    """The Rencana Kerja is part of the one signed file: no second set of blocks nobody would sign."""
    doc = Document(io.BytesIO(render_docx(standard(registry, "NK"), sample_data("NK"))))
    blocks = [t for t in doc.tables if t.cell(0, 0).paragraphs[0].text == "PIHAK KEDUA,"]
    paraf = [t for t in doc.tables if t.cell(0, 0).text == "Paraf"]
    assert len(blocks) == 1 and len(paraf) == 1
    lines = doc_lines(render_docx(standard(registry, "NK"), sample_data("NK")))
    assert "Anggaran Pendapatan dan Belanja Daerah (APBD)" in "\n".join(lines)


def png(width: int = 64, height: int = 80, color: tuple[int, int, int] = (20, 110, 50)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def test_each_partys_lambang_heads_the_naskah_and_none_leaves_no_trace(registry: TemplateRegistry):
    info = standard(registry, "KB")
    images = {"lambang_pihak_kesatu": png(), "lambang_pihak_kedua": png(color=(30, 60, 160))}
    doc = Document(io.BytesIO(render_docx(info, sample_data("KB"), images=images)))
    heading = doc.tables[0]
    assert len(heading.rows) == 1 and len(heading.columns) == 2
    assert [len(c._tc.xpath(".//pic:pic")) for c in heading.rows[0].cells] == [1, 1]
    assert sorted(p.blob for p in doc.part.package.image_parts) == sorted(images.values())
    # the title follows the lambang
    assert doc.paragraphs[[p.text for p in doc.paragraphs].index("KESEPAKATAN BERSAMA")].text
    plain = Document(io.BytesIO(render_docx(info, sample_data("KB"))))
    assert not plain.inline_shapes and plain.tables[0].cell(0, 1).text.startswith("NOMOR")  # no empty row
    # a Surat Kuasa: the Kepala Daerah's lambang above his kop
    sk = Document(io.BytesIO(render_docx(standard(registry, "SK"), sample_data("SK"), images=images)))
    assert len(sk.inline_shapes) == 1 and sk.paragraphs[1].text == "BUPATI PASER"


def test_dasar_hukum_defaults_per_jenis_include_permendagri_22_2020(registry: TemplateRegistry):
    from pipeline.drafting.templates import DASAR_HUKUM_BAKU

    for jenis in ("KSDD", "KSDPK", "KSIV"):
        laws = DASAR_HUKUM_BAKU[jenis]
        assert any(law.startswith("Undang-Undang Nomor 23 Tahun 2014 tentang Pemerintahan Daerah") for law in laws)
        assert "Peraturan Pemerintah Nomor 28 Tahun 2018 tentang Kerja Sama Daerah" in laws
        assert any(law.startswith("Peraturan Menteri Dalam Negeri Nomor 22 Tahun 2020") for law in laws)
    public = standard(registry, "NK").public()
    assert public["dasar_hukum_baku"] == {"KSIV": list(DASAR_HUKUM_BAKU["KSIV"])}
    assert set(standard(registry, "KB").public()["dasar_hukum_baku"]) == {"KSDD", "KSDPK"}
    assert next(f for f in public["fields"] if f["name"] == "dasar_hukum")["required"] is True


def test_rendered_docx_carries_the_naskahs_properties_and_language(registry: TemplateRegistry):
    data = sample_data("KB")
    doc = Document(io.BytesIO(render_docx(standard(registry, "KB"), data)))
    props = doc.core_properties
    assert props.title == data["judul"]
    assert props.author == "Pemerintah Kabupaten Paser"
    assert props.subject == "Kesepakatan Bersama Nomor 100.3.7.1/123/Tapem/2026 dan 100.3.7.1/456/Pem/2026"
    assert props.language == "id-ID" and "templates/build.py" not in (props.author, props.comments)
    default_lang = doc.styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr/w:lang/@w:val")
    assert default_lang == ["id-ID"]
    sk = Document(io.BytesIO(render_docx(standard(registry, "SK"), sample_data("SK")))).core_properties
    assert sk.subject == "Surat Kuasa Nomor 100.3.7.1/31/Tapem/2027" and sk.title.startswith("Surat Kuasa")


def test_huruf_and_pihak_tebal_filters():
    from pipeline.drafting.templates import huruf, pihak_tebal

    assert [huruf(n) for n in (1, 2, 26, 27, 28)] == ["a", "b", "z", "aa", "ab"]
    with pytest.raises(ValueError):
        huruf(0)
    out = str(pihak_tebal("bagi para  pihak & <Pihak Ketiga>"))
    assert "PARA PIHAK" in out and "&amp; &lt;Pihak Ketiga&gt;" in out and "<w:b/>" in out
