"""Production settings: refuse to start without a secret, pass `check --deploy`, time out SMTP.

Settings are read once per process, so these run manage.py in a subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 30 + "-Production-secret-key-of-fifty-plus-characters",
    "ALLOWED_HOSTS": "portal.example.com",
    "APP_URL": "https://portal.example.com",
    "SMTP_HOST": "smtp.example.com",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "DATABASE_URL", "VAR_DIR"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_value(expression: str, env: dict[str, str]):
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({expression}, default=str))"
    )
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.smoke
def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_production_without_a_mail_server():
    env = {k: v for k, v in PRODUCTION.items() if k != "SMTP_HOST"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "development-only email backend" in result.stderr


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_bad_boolean_in_configuration_names_the_variable():
    result = manage("check", env={**PRODUCTION, "HTTPS_ONLY": "maybe"})
    assert result.returncode != 0
    assert "HTTPS_ONLY must be one of" in result.stderr


def test_production_cookies_are_secure_and_hsts_is_on():
    values = settings_value(
        "[settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
        " settings.SECURE_HSTS_SECONDS, settings.SECURE_SSL_REDIRECT, settings.LOG_FORMAT]",
        PRODUCTION,
    )
    assert values == [True, True, 31536000, True, "json"]


def test_gmail_settings_give_smtp_with_starttls_and_a_timeout():
    mailer = settings_value(
        'settings.MAILERS["default"]',
        {**PRODUCTION, "GMAIL_USER": "desk@example.com", "GMAIL_APP_PASSWORD": "app-pass"},
    )
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"]["host"] == "smtp.gmail.com"
    assert mailer["OPTIONS"]["port"] == 587
    assert mailer["OPTIONS"]["use_tls"] is True
    assert mailer["OPTIONS"]["timeout"] == 15


def test_generic_smtp_settings_and_app_url_fallback():
    env = {k: v for k, v in PRODUCTION.items() if k != "APP_URL"}
    env.update(
        {
            "SMTP_HOST": "mail.example.com",
            "SMTP_PORT": "2525",
            "SMTP_TLS": "0",
            "SMTP_TIMEOUT": "5",
            "NEXT_PUBLIC_APP_URL": "https://desk.example.com/",
        }
    )
    mailer, app_url = settings_value('[settings.MAILERS["default"], settings.APP_URL]', env)
    assert mailer["OPTIONS"]["host"] == "mail.example.com"
    assert mailer["OPTIONS"]["port"] == 2525
    assert mailer["OPTIONS"]["use_tls"] is False
    assert mailer["OPTIONS"]["timeout"] == 5
    assert app_url == "https://desk.example.com"


def test_r2_settings_give_a_private_s3_storage_and_allow_its_thumbnails():
    env = {**PRODUCTION, "R2_ENDPOINT": "https://acct.r2.cloudflarestorage.com",
           "R2_BUCKET_NAME": "attachments", "R2_ACCESS_KEY_ID": "key",
           "R2_SECRET_ACCESS_KEY": "secret"}  # fmt: skip
    backend, img_src = settings_value(
        '[settings.STORAGES["attachments"]["BACKEND"], settings.SECURE_CSP["img-src"]]', env
    )
    assert backend == "storages.backends.s3.S3Storage"
    assert "https://acct.r2.cloudflarestorage.com" in img_src
