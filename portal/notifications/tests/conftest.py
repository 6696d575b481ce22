import pytest

from portal.notifications.kinds import Kind, register_kind

TEST_KIND = Kind(
    name="test_event",
    label="Test events",
    email_template="notice",
    sample_context=lambda: {"text": "Sample text", "body": "Sample body"},
)


@pytest.fixture(autouse=True)
def test_kind():
    register_kind(TEST_KIND)
    return TEST_KIND
