"""`manage.py reencrypt_secrets`: encrypt the stored mailbox secrets with the current
SECRET_KEY, after a key rotation (docs/email-in.md): the old key stays in
SECRET_KEY_FALLBACKS until this has run, then can go."""

from django.core.management.base import BaseCommand

from portal.mailin.services import mailbox_secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt the stored mailbox passwords, client secrets and tokens with SECRET_KEY."

    def handle(self, *args, **options):
        count = mailbox_secrets_reencrypt()
        self.stdout.write(f"{count} mailbox(es) re-encrypted with the current key.")
