"""Template data is bounded: a text field, a list, and the data as a whole (the issue: one render with a
5.5 MB field held the converter for 60 s).  Each refusal is a 422 naming the field; nothing is stored."""

from __future__ import annotations

import pytest

from pipeline.drafting.templates import (
    MAX_DATA_BYTES,
    MAX_LIST_ITEMS,
    MAX_TEXT_CHARS,
    TemplateRegistry,
    default_template_root,
    sample_data,
    validate_data,
)
from pipeline.errors import TemplateDataError
from tests.test_api import create_case, create_naskah, naskah_body, revision_count


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return TemplateRegistry.load(default_template_root())


def test_the_limits_leave_room_for_any_real_naskah():
    # a long pasal is 2-3 pages (~8,000 characters); a long ruang lingkup or rencana kerja a few dozen items
    assert MAX_TEXT_CHARS == 10_000 and MAX_LIST_ITEMS == 200 and MAX_DATA_BYTES == 256 * 1024


def test_a_text_field_over_the_limit_is_refused_naming_the_field(registry):
    kb = registry.get("kb/standar")
    validate_data(kb, {**sample_data("KB"), "maksud": "a" * MAX_TEXT_CHARS})  # at the limit: fine
    with pytest.raises(TemplateDataError) as err:
        validate_data(kb, {**sample_data("KB"), "maksud": "a" * (MAX_TEXT_CHARS + 1)})
    assert err.value.detail["reason"] == "data_too_large"
    assert err.value.detail["invalid"] == [
        {"field": "maksud", "message": "paling banyak 10.000 karakter (diberikan 10.001)"}
    ]
    assert "maksud" in err.value.message


def test_a_list_over_the_limit_and_a_long_item_deep_in_a_table_are_refused_naming_them(registry):
    kb = registry.get("kb/standar")
    with pytest.raises(TemplateDataError) as err:
        validate_data(kb, {**sample_data("KB"), "ruang_lingkup": ["kegiatan"] * (MAX_LIST_ITEMS + 1)})
    assert err.value.detail["invalid"][0]["field"] == "ruang_lingkup"
    assert "paling banyak 200 butir" in err.value.detail["invalid"][0]["message"]

    nk = registry.get("nk/standar")
    data = sample_data("NK")
    rows = [dict(row) for row in data["rencana_kerja"]]
    rows[1]["program"] = "p" * 20_000
    with pytest.raises(TemplateDataError) as err:
        validate_data(nk, {**data, "rencana_kerja": rows})
    assert [i["field"] for i in err.value.detail["invalid"]] == ["rencana_kerja[1].program"]


def test_the_whole_data_over_the_limit_is_refused_even_when_each_field_is_within_its_own(registry):
    kb = registry.get("kb/standar")
    items = ["k" * 9_000] * 30  # 270 KB in fields that are each fine
    with pytest.raises(TemplateDataError) as err:
        validate_data(kb, {**sample_data("KB"), "ruang_lingkup": items})
    invalid = err.value.detail["invalid"]
    assert invalid[0]["field"] == "(seluruh data)" and "256 KB" in invalid[0]["message"]


def test_a_lambang_image_does_not_count_as_template_text(registry):
    from tests.test_api import _png

    kb = registry.get("kb/standar")
    big_png = _png(1200, 1200)  # a few KB..MB of bytes: images are checked by pipeline.drafting.lambang, not here
    validate_data(kb, {**sample_data("KB"), "lambang_pihak_kesatu": big_png})


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)  # refused before anything is stored
def test_the_api_refuses_a_long_field_with_422_and_stores_nothing(api):
    case_id = create_case(api)
    body = naskah_body("KB")
    body["data"]["tujuan"] = "t" * (MAX_TEXT_CHARS + 1)
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=body, headers=api.auth("drafter"))
    assert r.status_code == 422, r.text
    assert "data.tujuan" in r.json()["message"] and "10.000 karakter" in r.json()["message"]
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json()["naskah"] == []

    nid = create_naskah(api, case_id)["id"]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render",
        json={"data": {"ruang_lingkup": ["butir"] * (MAX_LIST_ITEMS + 1)}},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 422, r.text
    assert "data.ruang_lingkup" in r.json()["message"] and "200 butir" in r.json()["message"]
    assert revision_count(api, nid) == 1


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_the_issues_5_mb_field_is_refused_before_it_is_parsed(api):
    case_id = create_case(api)
    body = naskah_body("KB")
    body["data"]["maksud"] = "m" * (5_500_000)
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=body, headers=api.auth("drafter"))
    assert r.status_code == 413 and r.json()["code"] == "document_too_large"
