"""The versions' file cache reads a file again only when it changed, and never serves
what another process replaced (portal/lib/versions_cache.py)."""

import pytest

from portal.lib import versions_cache
from portal.lib.versions_cache import VersionsFileCache


@pytest.fixture
def folder(tmp_path):
    return str(tmp_path / "versions")


def _process(folder: str) -> VersionsFileCache:
    """One process's view of the host's versions folder (each keeps its own reads)."""
    return VersionsFileCache(folder, {})


def test_a_write_by_another_process_is_read_at_once_however_soon_it_follows(folder):
    reader, writer = _process(folder), _process(folder)
    writer.set("version:masters", 1, None)
    assert reader.get("version:masters") == 1
    # Two writes within the same moment: each is a new file, so neither is missed.
    writer.set("version:masters", 2, None)
    writer.set("version:masters", 3, None)
    assert reader.get("version:masters") == 3
    assert reader.get("version:masters") == 3


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


def test_callers_never_share_a_value(folder):
    cache = _process(folder)
    cache.set("families", ["printers"], None)
    first = cache.get("families")
    first.append("changed by a caller")
    assert cache.get("families") == ["printers"]
