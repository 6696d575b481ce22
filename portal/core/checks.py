"""System checks Django cannot make for us."""

from django.conf import settings
from django.core.checks import Error, Tags, register

DEVELOPMENT_MAILERS = {"portal.lib.mail_files.EmlFileBackend"}


@register(Tags.mail, deploy=True)
def check_mail_is_sent_in_production(app_configs, **kwargs):
    """Django's own deploy check knows its file and console backends, not ours: without
    this, production with no SMTP settings would pass and write its mail to files."""
    backend = settings.MAILERS.get("default", {}).get("BACKEND", "")
    if backend not in DEVELOPMENT_MAILERS:
        return []
    return [
        Error(
            f"Your MAILERS setting uses a development-only email backend ({backend}).",
            hint="Set GMAIL_USER/GMAIL_APP_PASSWORD or SMTP_HOST so email is sent.",
            id="portal.E001",
        )
    ]
