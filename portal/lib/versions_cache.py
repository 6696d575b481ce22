"""The file cache that holds the cache versions of a host without Redis, read only when
a file changed.

Every page reads one to four versions (`portal.lib.cache_versions.version`), once per
request each. Django's file cache opens the file, reads its expiry and its compressed
value and unpickles both at every read: about a quarter of `cached`'s time in a create,
and 5 % of a signed-in page with no work of its own (docs/benchmarks.md). A version
changes only when someone writes what it covers, so this cache keeps each file's bytes
and re-reads the file only when `os.stat` says it is another one: a write (Django's `set`)
renames a new file over the old, so the inode changes, and an in-place rewrite (`touch`)
changes the modification time. The stat comes before the read, so a file replaced
between the two is read again at the next call: what is kept is never older than what
the stat saw.

Values are unpickled at every read, as Django's caches do, so no caller shares an object
with another. Meant for a handful of keys (the version names): it keeps one entry per key
it was asked for.
"""

import os
import pickle
import time
import zlib

from django.core.cache.backends.filebased import FileBasedCache


class VersionsFileCache(FileBasedCache):
    def __init__(self, dir: str, params: dict):
        super().__init__(dir, params)
        self._files: dict[tuple[str, int | None], str] = {}
        # file name → (its stat signature, expiry, the value's pickle)
        self._read: dict[str, tuple[tuple[int, int, int], float | None, bytes]] = {}

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
            self._read.pop(name, None)
            return default
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        kept = self._read.get(name)
        if kept is None or kept[0] != signature:
            try:
                with open(name, "rb") as file:
                    expiry = pickle.load(file)  # noqa: S301 (our own files, as Django's)
                    value = zlib.decompress(file.read())
            except FileNotFoundError:
                return default
            kept = self._read[name] = (signature, expiry, value)
        _signature, expiry, value = kept
        if expiry is not None and expiry < time.time():
            # Django's read removes an expired file; let it.
            return super().get(key, default, version)
        return pickle.loads(value)  # noqa: S301 (our own files, as Django's)
