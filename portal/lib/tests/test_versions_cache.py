"""The versions' file cache reads a file again only when another file holds the name,
and never serves what another process replaced (portal/lib/versions_cache.py)."""

import os

import pytest

from portal.lib import versions_cache
from portal.lib.versions_cache import VersionsFileCache


@pytest.fixture
def folder(tmp_path):
    return str(tmp_path / "versions")


def _process(folder: str) -> VersionsFileCache:
    """One process's view of the host's versions folder (each keeps its own reads)."""
    return VersionsFileCache(folder, {})


def test_every_write_by_another_process_is_read_however_soon_it_follows(folder):
    """Two writes within one tick of the file system's clock, the second possibly given
    the inode the first one freed: the reader still sees the last (it holds the file it
    read open, so that inode is never another file's while it compares against it)."""
    reader, writer = _process(folder), _process(folder)
    for n in range(0, 300, 3):
        writer.set("version:masters", n, None)
        assert reader.get("version:masters") == n
        writer.set("version:masters", n + 1, None)
        writer.set("version:masters", n + 2, None)
        assert reader.get("version:masters") == n + 2


def test_a_file_is_opened_again_only_after_it_changed(folder, monkeypatch):
    reader, writer = _process(folder), _process(folder)
    opened = []

    def counting_open(name, *args, **kwargs):
        opened.append(name)
        return open(name, *args, **kwargs)

    monkeypatch.setattr(versions_cache, "open", counting_open, raising=False)
    writer.set("version:roles", 10, None)
    for _ in range(5):
        assert reader.get("version:roles") == 10
    assert len(opened) == 1
    writer.set("version:roles", 11, None)
    assert [reader.get("version:roles") for _ in range(3)] == [11, 11, 11]
    assert len(opened) == 2


def test_gone_and_expired_entries_read_as_missing(folder):
    reader, writer = _process(folder), _process(folder)
    writer.set("version:sla", 5, None)
    assert reader.get("version:sla") == 5
    writer.clear()
    assert reader.get("version:sla", "missing") == "missing"
    writer.set("version:sla", 6, 0)  # a timeout of 0 expires at once
    assert reader.get("version:sla", "missing") == "missing"
    assert not writer.has_key("version:sla")


def test_a_new_expiry_reaches_a_reader_that_holds_the_file(folder):
    """Django's `touch` rewrites the file in place (same inode); here it writes a new one,
    or a reader would keep the old expiry."""
    reader, writer = _process(folder), _process(folder)
    writer.set("version:hooks", 7, None)
    assert reader.get("version:hooks") == 7
    assert writer.touch("version:hooks", 0)  # expire now
    assert reader.get("version:hooks", "missing") == "missing"
    assert not writer.touch("version:hooks", 60)


def test_an_empty_file_reads_as_missing_as_in_djangos_cache(folder):
    reader, writer = _process(folder), _process(folder)
    writer.set("version:people", 3, None)
    name = writer._file("version:people", None)
    with open(name, "wb"):
        pass  # cut short: no expiry, no value
    assert reader.get("version:people", "missing") == "missing"
    assert not os.path.exists(name)  # removed, as Django removes it


def test_callers_never_share_a_value(folder):
    cache = _process(folder)
    cache.set("families", ["printers"], None)
    first = cache.get("families")
    first.append("changed by a caller")
    assert cache.get("families") == ["printers"]
