"""The API answers what its OpenAPI document declares, for every role (schemathesis).

Every operation gets a bounded, seeded set of generated requests against a real server over a
copy of the sample, as an anonymous viewer, an operator and an admin. Each answer must be one of
the operation's declared status codes, with a declared content type, declared headers and a
body matching the declared schema, and nothing may answer 5xx.

Two of schemathesis' default checks do not apply and are left out: the authentication checks
(a key is optional by design: without one the caller is a viewer), and the acceptance of every
schema-valid request (some rules cannot be said in OpenAPI: a bbox's corners in order, an admin
naming the operator it plans for; those answer a documented 400).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from tests.api.conftest import KEYS, serving

ROLES: dict[str, dict[str, str]] = {
    "anonymous": {},
    "operator": {"X-API-Key": KEYS["viettel"]},
    "admin": {"X-API-Key": KEYS["admin"]},
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Generated requests per operation and role.
EXAMPLES = 20


def _schema() -> Any:
    # The document depends on the routes only, not on the store's content.
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(GeoPackageStore(Path(folder) / "openapi.gpkg"), ApiSettings())
        return schemathesis.openapi.from_dict(app.openapi())


SCHEMA = _schema()
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


@pytest.fixture(scope="module")
def conformance_server(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A server of its own: admin cases import into its store. The anonymous cases' wrong
    keys must not lock the other roles out, so the wrong-key limit is lifted."""
    folder = tmp_path_factory.mktemp("conformance")
    target = folder / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    env = {"GIS_PLANNER_KEY_FAILURES_MAX": "1000000"}
    with serving(GeoPackageStore(target), api_settings, folder / "serve.log", env) as url:
        yield url


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("label", list(OPERATIONS))
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_api_conforms(conformance_server: str, label: str, role: str, data: st.DataObject) -> None:
    case = data.draw(OPERATIONS[label].as_strategy())
    case.call_and_validate(base_url=conformance_server, headers=ROLES[role], checks=CHECKS)
