"""/api/v1/docs works under the site's strict CSP, from our own static files; the OpenAPI
document is 3.1 and declares every error as application/problem+json."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_docs_page_loads_its_assets_from_static_and_runs_no_unnonced_inline_script():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "the docs page must load Swagger UI"
    for attributes, body in scripts:
        assert f'nonce="{nonce}"' in attributes
        assert body.strip() == "", "no inline code"
        src = re.search(r'src="([^"]+)"', attributes).group(1)
        assert src.startswith("/static/")
        assert finders.find(src.removeprefix("/static/")), f"{src} is not a static file"
    for href in re.findall(r'<link[^>]+href="([^"]+)"', html):
        assert href.startswith("/static/")
        assert finders.find(href.removeprefix("/static/"))
    assert "cdn" not in html.lower() and "https://" not in html
    assert 'data-openapi-url="/api/v1/openapi.json"' in html


def test_openapi_document_is_3_1_with_problem_json_errors():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert schema["paths"]["/api/v1/tickets"]["get"]["security"] == [
        {"TokenAuth": []},
        {"SessionAuth": []},
    ]
    operation = schema["paths"]["/api/v1/tickets/{number}"]["patch"]
    for code in ("401", "403", "404", "412", "422", "428", "429"):
        assert list(operation["responses"][code]["content"]) == ["application/problem+json"]
    assert list(operation["responses"]["200"]["content"]) == ["application/json"]
