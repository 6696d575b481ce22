"""A person's data as one zip, streamed: a JSON file per section and their files.

The zip is written into a pipe that the response drains after each piece (zipfile writes
to a stream it cannot seek with data descriptors), so neither the JSON nor the files sit
in memory whole: a file is copied from storage in 64 KiB chunks. No database transaction
is open while the storage is read (rule 6); storage calls are bounded by the client's own
timeouts (`attachments.storage.client_config`). A file missing from storage is listed in
`missing_files.json` instead of failing the whole export half-way through a download.
"""

import json
import zipfile
from collections.abc import Iterator

from django.core.files.storage import Storage

from portal.accounts.models import User
from portal.attachments.storage import translated_errors
from portal.retention.person_data import SECTIONS

CHUNK = 64 * 1024

README = """Everything the portal held about {email} on {when} (UTC).

One JSON file per section (codes as stored, times in ISO 8601); files/ holds the files
they uploaded, named <attachment id>-<name> as listed in attachments.json. Section
sign_in never holds secrets (passwords, token values, two-factor keys).
"""


class _Pipe:
    """A write-only stream that hands what was written to the response, piece by piece."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        pieces, self.pieces = self.pieces, []
        yield from pieces


def person_zip(user: User, storage: Storage, *, when: str) -> Iterator[bytes]:
    """The zip's bytes, in pieces, as they are written."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        archive.writestr("README.txt", README.format(email=user.email, when=when))
        yield from pipe.drain()
        files = []
        for name, read in SECTIONS.items():
            rows = read(user)
            if name == "attachments":
                files = rows
            archive.writestr(f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=1))
            yield from pipe.drain()
        missing = []
        for row in files:
            try:
                with translated_errors("read a file"):
                    source = storage.open(row["storage_key"], "rb")
            except FileNotFoundError:
                missing.append(row["file"])
                continue
            with source, archive.open(row["file"], "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield from pipe.drain()
            yield from pipe.drain()
        if missing:
            archive.writestr("missing_files.json", json.dumps(missing, ensure_ascii=False))
    yield from pipe.drain()
