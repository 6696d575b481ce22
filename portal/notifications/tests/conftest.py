import pytest

from portal.notifications import kinds
from portal.notifications.kinds import Kind, register_kind

# The registry the process holds between tests: what a test registers must never be in it.
PROCESS_KINDS = kinds._kinds

TEST_KIND = Kind(
    name="test_event",
    label="Test events",
    email_template="notice",
    sample_context=lambda: {"text": "Sample text", "body": "Sample body"},
)


@pytest.fixture
def kind_registry(monkeypatch) -> dict[str, Kind]:
    """The registry of notification kinds as this test's own copy: what a test registers
    (or removes, to make a notice fail) is gone when it ends, so no later test, of this
    app or another in the same process, sees it on the preferences page, in the template
    previews or as a kind that delivers."""
    monkeypatch.setattr(kinds, "_kinds", dict(kinds._kinds))
    return kinds._kinds


@pytest.fixture(autouse=True)
def test_kind(kind_registry):
    register_kind(TEST_KIND)
    return TEST_KIND
