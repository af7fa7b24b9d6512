"""The OpenAPI 3 schema and the interactive docs, which work offline."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
WARNING = re.compile(r"^(?P<file>\S+?):(?:\d+:)? (?:Warning|Error)", re.MULTILINE)


def test_schema_is_a_valid_openapi_3_document_served_without_auth():
    response = APIClient().get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/webhooks/" in schema["paths"]
    assert {"ApiKey", "Session"} <= set(schema["components"]["securitySchemes"])
    listed = schema["paths"]["/api/v1/webhooks/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["$ref"].endswith("PaginatedSubscriptionOutList")


def test_spectacular_validates_with_no_warning_from_the_platform(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn` passes as far as oms/ is concerned: the schema is valid
    and no warning comes from the platform (other apps' warnings are reported by their own tests)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "manage.py", "spectacular", "--validate", "--file", str(tmp_path / "schema.yaml")]

    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    warned = [m.group("file") for m in WARNING.finditer(result.stderr)]
    from_platform = [path for path in warned if Path(path).resolve().is_relative_to(BASE_DIR / "oms")]
    assert from_platform == [], result.stderr
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_docs_render_with_local_assets_only():
    response = APIClient().get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert assets, html
    # Swagger UI's start-up script comes from the docs view itself (?script), the rest from the static files.
    assert all(url.startswith("/static/") or url == "/api/v1/docs/?script=" for url in assets), assets
    script = APIClient().get("/api/v1/docs/?script=").content.decode()
    assert "cdn" not in html.lower() and "cdn" not in script.lower()
    assert "/api/v1/schema/" in script


def test_docs_assets_are_served(client):
    html = APIClient().get("/api/v1/docs/").content.decode()
    bundle = re.search(r'src="(/static/[^"]+swagger-ui-bundle[^"]*\.js)"', html).group(1)

    assert client.get(bundle).status_code == 200


def _schema():
    return APIClient().get("/api/v1/schema/", {"format": "json"}).json()


def test_idempotent_posts_document_the_idempotency_key_header_and_their_problems():
    schema = _schema()
    place = schema["paths"]["/api/v1/orders/"]["post"]

    headers = {p["name"]: p for p in place["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"].get("required", False) is False
    conflict = place["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert conflict["$ref"] == "#/components/schemas/Problem"
    assert {"400", "401", "403", "404", "409", "422", "429"} <= set(place["responses"])
    problem = schema["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "code", "request_id", "errors", "lines"} <= set(problem)


def test_only_idempotent_posts_carry_the_header():
    paths = _schema()["paths"]

    def header_names(operation):
        return [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]

    assert "Idempotency-Key" in header_names(paths["/api/v1/webhooks/"]["post"])
    assert "Idempotency-Key" not in header_names(paths["/api/v1/webhooks/"]["get"])
    assert "Idempotency-Key" not in header_names(paths["/api/v1/webhooks/{id}/"]["patch"])
    assert "422" not in paths["/api/v1/webhooks/{id}/"]["patch"]["responses"]
    assert "409" not in paths["/api/v1/webhooks/"]["get"]["responses"]
    assert "404" in paths["/api/v1/webhooks/{id}/"]["get"]["responses"]


def test_the_docs_authorize_with_the_bearer_scheme():
    schema = _schema()

    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        **schema["components"]["securitySchemes"]["ApiKey"],
        "type": "http",
        "scheme": "bearer",
    }
    assert {"ApiKey": []} in schema["paths"]["/api/v1/orders/"]["post"]["security"]
    script = APIClient().get("/api/v1/docs/?script=").content.decode()
    assert "persistAuthorization" in script


def test_component_descriptions_speak_of_the_api_not_of_its_implementation():
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()

    leaking = {
        name: component["description"]
        for name, component in schema["components"]["schemas"].items()
        if re.search(r"serializer|deep-cop|prototype", component.get("description", ""), re.IGNORECASE)
    }
    assert leaking == {}
