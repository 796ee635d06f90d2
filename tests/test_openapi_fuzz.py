"""schemathesis against the project's own OpenAPI document: no 5xx over the generated cases, every
answer as the document declares it (status code, content type, headers, body schema), and every 4xx
the Indonesian ``{code, message, detail}`` envelope without pydantic's English.

Every operation of ``create_app(...).openapi()`` gets generated requests (valid ones and, for the
same budget again, invalid ones) with a bearer token of a user holding every role, on SQLite with
the local store and a few real records to hit (a KB in drafting, one awaiting paraf, one signed and
archived, with the test PKIs as trust roots and TSA), so ids and states the generator picks often reach
the pipeline and not only the 404 path.
The run is derandomised (the same cases each time) and each server error is collected with its
request, so one run names them all.  The number of cases is printed (``pytest -s``) and recorded
as the test's ``schemathesis_cases`` property (in the JUnit XML report).
"""

from __future__ import annotations

import time
import traceback
from collections import Counter

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pipeline.auth import create_user, issue_token
from pipeline.lifecycle import Role
from storage.db import session_scope
from tests.test_api import create_case, create_naskah
from tests.test_archive import signed_kb
from tests.test_error_envelope import assert_envelope
from tests.test_workflow import approved_kb

MAX_EXAMPLES = 30  # per operation, valid and invalid requests mixed
#: What each answer is judged by: no server error, and a status code, content type, headers and body the
#: operation declares (a ``date-time`` without its zone is a schema violation).  Not schemathesis'
#: ``negative_data_rejection``: it counts a query parameter the API does not know (``?x=1``) as invalid
#: data that must be refused, and the API ignores unknown query parameters, as HTTP APIs commonly do.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_generated_requests_never_get_a_server_error_nor_an_answer_off_the_schema(
    signers_api, dev_pki, counterparty_pki, record_property
):
    api = signers_api
    with session_scope(api.services.engine) as session:
        every_role = create_user(
            session,
            username="fuzz",
            nama="Pengguna Uji Semua Peran",
            jabatan="Penguji",
            roles=[r.value for r in Role],
            posisi=list(api.services.profile.positions),
        )
        token = issue_token(session, every_role)
    create_naskah(api, create_case(api))  # naskah 1: drafting
    approved_kb(api)  # naskah 2: paraf
    archived = signed_kb(api, dev_pki, counterparty_pki)  # naskah 3: signed, then archived (arsip 1)
    assert api.client.post(f"/api/v1/naskah/{archived}/archive", headers=api.auth("secretariat")).status_code == 201

    app = api.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    settings = hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
        suppress_health_check=list(HealthCheck),
    )
    cases = 0
    statuses: Counter[int] = Counter()
    operations = 0
    errors: dict[str, str] = {}  # what went wrong where -> the first request that showed it
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings
        @given(case=strategy)
        def run(case) -> None:
            nonlocal cases
            cases += 1
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the app raised instead of answering: a server error too
                where = f"{case.operation.label}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                errors.setdefault(where, f"{case.as_curl_command()}\n{traceback.format_exc(limit=-8)}")
                return
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
                if response.status_code >= 400:  # every error is the Indonesian envelope
                    assert_envelope(response, case.operation.label)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
                where = f"{case.operation.label}: HTTP {response.status_code}: {first}"
                errors.setdefault(where, f"{case.as_curl_command()}\n{str(exc)[:1500]}\n{response.text[:300]}")

        run()
    elapsed = time.monotonic() - started
    record_property("schemathesis_cases", cases)
    record_property("schemathesis_operations", operations)
    print(
        f"\nschemathesis: {cases} cases over {operations} operations in {elapsed:.1f} s, "
        f"{len(errors)} failures (server errors, answers off the schema); statuses: {dict(sorted(statuses.items()))}"
    )
    assert operations >= 30
    assert not errors, "\n\n".join(f"{where}\n{example}" for where, example in errors.items())


@pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
def test_ids_beyond_an_integer_column_are_invalid_input_not_a_server_error(api):
    """What the fuzzing found first: ids past 2**31-1 were a 500 (SQLite cannot bind them, PostgreSQL refuses)."""
    huge = 2**63
    for method, path, body in (
        ("GET", f"/api/v1/naskah/{huge}", None),
        ("GET", f"/api/v1/naskah/1/revisions/{huge}/pdf", None),
        ("GET", f"/api/v1/cases?offset={huge}", None),
        ("GET", f"/api/v1/arsip?offset={huge}", None),
        ("POST", "/api/v1/cases/1/naskah", {"jenis": "PKS", "nomor": {"1": "x"}, "parent_id": huge}),
    ):
        r = api.client.request(method, path, json=body, headers=api.auth("drafter"))
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", (path, r.text)
    r = api.client.get(f"/api/v1/naskah/{2**31 - 1}", headers=api.auth("drafter"))
    assert r.status_code == 404  # the largest id there can be is simply not found
