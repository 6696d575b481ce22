"""The file cache that holds the cache versions of a host without Redis, read only when
a file changed.

Every page reads one to four versions (`portal.lib.cache_versions.version`), once per
request each. Django's file cache opens the file, reads its expiry and its compressed
value and unpickles both at every read: about a third of `cached`'s time in a create,
and 5 % of a signed-in page with no work of its own (docs/benchmarks.md). A version
changes only when someone writes what it covers, so this cache keeps what it read of each
file and reads the file again only when the name stands for another file.

How it knows, on every read, with one `os.stat`: every write puts a new file in place
(Django's `set` renames a fresh file over the name; `touch`, which Django writes in place,
goes through `set` here). The file last read is kept *open*, so its inode cannot be freed
and given to a newer file: the name holds the same file, by device and inode, exactly
when nothing was written since. Times and sizes would not tell (a version is always the
same size, and two writes can fall in one tick of the file system's clock). The identity
kept is the open file's own (`fstat`), so a file replaced between the stat and the open is
simply the one kept, and the next read compares against it.

The folder must be on a local file system (`VAR_DIR`, as Django's file cache wants it):
over NFS a stat may answer from a cache of attributes. Several hosts share versions
through Redis (`CACHE_URL`, docs/scaling.md), not through files.

Values are unpickled at every read, as Django's caches do, so no caller shares an object
with another. One entry per key asked for, and a lock for the read that replaces one:
meant for the handful of version names.
"""

import os
import pickle
import threading
import time
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

# What Django's own read makes of a file cut short or not written by it: it reads an
# expiry it cannot unpickle as "expired" and deletes the file; other damage raises.
_UNREADABLE = (EOFError, pickle.UnpicklingError, zlib.error, ValueError)


@dataclass(frozen=True)
class _Read:
    file: BinaryIO  # held open: its inode cannot go to another file meanwhile
    identity: tuple[int, int]  # (device, inode) of that file
    expiry: float | None
    value: bytes  # the value's pickle


class VersionsFileCache(FileBasedCache):
    def __init__(self, dir: str, params: dict):
        super().__init__(dir, params)
        self._files: dict[tuple[str, int | None], str] = {}
        self._read: dict[str, _Read] = {}
        self._lock = threading.Lock()

    def _file(self, key: str, version: int | None) -> str:
        found = self._files.get((key, version))
        if found is None:
            # Django's own name for the key's file (private, and not in django-stubs).
            found = self._key_to_file(key, version)  # type: ignore[attr-defined]
            self._files[(key, version)] = found
        return found

    def get(self, key, default=None, version=None):
        name = self._file(key, version)
        try:
            stat = os.stat(name)
        except FileNotFoundError:
            self._forget(name)
            return default
        kept = self._read.get(name)
        if kept is None or kept.identity != (stat.st_dev, stat.st_ino):
            kept = self._read_again(name)
            if kept is None:  # gone meanwhile, or not a file this cache can read
                return super().get(key, default, version)
        if kept.expiry is not None and kept.expiry < time.time():
            # Django's read removes an expired file; let it.
            return super().get(key, default, version)
        return pickle.loads(kept.value)  # noqa: S301 (our own files, as Django's)

    def _read_again(self, name: str) -> _Read | None:
        with self._lock:
            try:
                file = open(name, "rb")  # noqa: SIM115 (kept open on purpose, see above)
            except FileNotFoundError:
                self._forget(name)
                return None
            try:
                opened = os.fstat(file.fileno())
                expiry = pickle.load(file)  # noqa: S301 (our own files, as Django's)
                value = zlib.decompress(file.read())
            except _UNREADABLE:
                file.close()
                self._forget(name)
                return None
            self._forget(name)
            kept = self._read[name] = _Read(file, (opened.st_dev, opened.st_ino), expiry, value)
            return kept

    def _forget(self, name: str) -> None:
        gone = self._read.pop(name, None)
        if gone is not None:
            gone.file.close()

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        """A new expiry through a new file (Django's rewrites the file in place, which
        a reader holding it would not see)."""
        missing = object()
        value = super().get(key, missing, version)
        if value is missing:
            return False
        self.set(key, value, timeout, version)
        return True
