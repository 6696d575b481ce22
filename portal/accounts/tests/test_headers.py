"""Security headers on every response."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


@pytest.mark.parametrize("path", ["/login", "/healthz", "/dashboard"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    assert response["X-XSS-Protection"] == "0"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_scripts_on_pages_carry_the_csp_nonce(client):
    response = client.get("/login")
    csp = response["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    assert html.count("<script") == html.count(f'nonce="{nonce}"') > 0
    # A fresh nonce per response.
    assert nonce not in client.get("/login")["Content-Security-Policy"]


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/login").content.decode()
    assert "<script>" not in html
    assert "style=" not in html and "<style" not in html
