"""A request reads each cache version from its store once (portal/lib/cache_versions.py):
the ticket page asked for "masters" three times, each a file opened and unpickled without
CACHE_URL. What another process bumps is read by the next request, and a request's own
bump at once."""

import time
from collections import Counter

import pytest

from portal.catalog.models import Team
from portal.lib import cache_versions
from portal.lib.cache_versions import PREFIX, bump, version


def _counted_reads(monkeypatch) -> Counter:
    reads: Counter = Counter()
    store = cache_versions._versions()
    read = store.get

    def counted(key, *args, **kwargs):
        reads[key] += 1
        return read(key, *args, **kwargs)

    monkeypatch.setattr(store, "get", counted)
    return reads


def test_a_ticket_page_reads_each_version_once(client_for, personas, ticket, monkeypatch):
    client = client_for(personas.admin)
    client.get(ticket.get_absolute_url())  # versions created, entries cached
    reads = _counted_reads(monkeypatch)
    assert client.get(ticket.get_absolute_url()).status_code == 200
    assert reads[PREFIX + "masters"] == 1  # the ticket's group and team, the teams, its form
    assert set(reads.values()) == {1}
    reads.clear()
    client.get(ticket.get_absolute_url())
    assert reads[PREFIX + "masters"] == 1  # the next request reads again


def test_a_bump_by_another_process_is_read_by_the_next_request(
    client_for, personas, ticket, monkeypatch
):
    client = client_for(personas.admin)
    assert "Team A" in client.get(ticket.get_absolute_url()).content.decode()
    assert cache_versions._request_versions.get() is None  # nothing outlives the request
    # Another process renames the team and bumps: its write reaches only the shared store.
    Team.objects.filter(pk=ticket.team_id).update(name="Renamed & <moved>")
    cache_versions._versions().set(PREFIX + "masters", time.time_ns(), timeout=None)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Renamed &amp; &lt;moved&gt;" in page


@pytest.fixture
def in_a_request():
    cache_versions._request_began()
    yield
    cache_versions._request_ended()


def test_within_a_request_a_version_is_read_once_and_its_own_bump_at_once(in_a_request):
    store = cache_versions._versions()
    first = version("masters")
    store.set(PREFIX + "masters", first + 1, timeout=None)  # another process, meanwhile
    assert version("masters") == first  # this request goes on with what it read
    bump("masters")  # no transaction: written at once
    mine = store.get(PREFIX + "masters")
    assert mine not in (first, first + 1)
    assert version("masters") == mine


def test_outside_a_request_every_read_goes_to_the_store():
    store = cache_versions._versions()
    first = version("masters")
    store.set(PREFIX + "masters", first + 1, timeout=None)
    assert version("masters") == first + 1


def test_a_bump_the_store_refuses_is_not_kept_by_the_request(in_a_request, monkeypatch):
    store = cache_versions._versions()
    first = version("masters")

    def refuse(*args, **kwargs):
        raise OSError("the versions' files are unwritable")

    monkeypatch.setattr(store, "set_many", refuse)
    with pytest.raises(OSError):
        bump("masters")
    monkeypatch.undo()
    store.set(PREFIX + "masters", first + 5, timeout=None)
    assert version("masters") == first + 5  # asked the store again
