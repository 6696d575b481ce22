"""Development mail: one `.eml` file per message, which any mail client opens.

Django's file backend appends every message of a connection to one `.log` file with
dashes between them, which no mail client reads. This writes each message on its own, as
the RFC 5322 bytes an SMTP server would have received, under a name that sorts by time.
"""

import secrets
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.utils import timezone


class EmlFileBackend(FileBackend):
    """`OPTIONS: {"file_path": ...}` as for Django's file backend (it checks the folder)."""

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            try:
                self._write(message)
            except Exception:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _write(self, message) -> Path:
        folder = Path(self.file_path)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        # Written aside then renamed: a reader never sees half a message.
        partial = path.with_suffix(".part")
        partial.write_bytes(message.message().as_bytes())
        partial.replace(path)
        return path
