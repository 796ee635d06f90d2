"""What every answer of the API promises beyond its own route: the method it does not serve is a 405
(never a 422 from a neighbouring route that happened to match the path), and every point in time it
sends carries its zone (RFC 3339: ``Z`` or an offset), on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import re

import pytest

from tests.test_api import create_case, create_naskah
from tests.test_error_envelope import assert_envelope

METHODS = ("get", "post", "put", "patch", "delete")


def concrete(path: str, value: str = "1") -> str:
    """An OpenAPI path template with every parameter filled in."""
    return re.sub(r"{[^}]+}", value, path)


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_method_a_path_does_not_serve_is_405_with_allow_even_beside_a_path_parameter(api):
    """``GET …/revisions/render`` reached ``GET …/revisions/{number}`` with number="render": a 422 naming
    ``number``.  Every path is asked with every method it does not serve, as a signed-in user with every
    role (a 401 would hide the routing behind authentication), on an existing naskah."""
    nid = create_naskah(api, create_case(api))["id"]
    paths = api.client.app.openapi()["paths"]
    asked = 0
    wrong: list[str] = []
    for template, operations in sorted(paths.items()):
        served = {m.upper() for m in operations if m in METHODS}
        for method in METHODS:
            if method.upper() in served:
                continue
            path = concrete(template, str(nid))
            r = api.client.request(method.upper(), path, headers=api.auth("admin"))
            asked += 1
            allow = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
            if r.status_code != 405 or not served <= allow:
                wrong.append(f"{method.upper()} {path}: {r.status_code} allow={sorted(allow)} {r.text[:120]}")
                continue
            body = assert_envelope(r, f"{method.upper()} {path}")
            assert body["code"] == "http_405", body
    assert asked > 100
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_get_on_revisions_render_and_upload_is_405_and_revision_numbers_still_route(api):
    nid = create_naskah(api, create_case(api))["id"]
    for action in ("render", "upload"):
        r = api.client.get(f"/api/v1/naskah/{nid}/revisions/{action}", headers=api.auth("drafter"))
        assert r.status_code == 405 and r.headers["allow"] == "POST", (action, r.status_code, r.text)
    assert api.client.get(f"/api/v1/naskah/{nid}/revisions/1", headers=api.auth("drafter")).json()["number"] == 1
    pdf = api.client.get(f"/api/v1/naskah/{nid}/revisions/1/pdf", headers=api.auth("drafter"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    r = api.client.get(f"/api/v1/naskah/{nid}/revisions/{2**40}", headers=api.auth("drafter"))
    assert r.status_code == 422 and r.json()["detail"]["fields"][0]["field"].endswith("number"), r.text
