import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.lib.env import load_env_file


def test_env_file_fills_missing_names_and_never_overrides(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("# comment\n\nPORTAL_X=1\nPORTAL_Y='two words'\n")
    monkeypatch.delenv("PORTAL_X", raising=False)
    monkeypatch.setenv("PORTAL_Y", "from the environment")
    assert load_env_file(path) == ["PORTAL_X"]
    import os

    assert os.environ["PORTAL_X"] == "1"
    assert os.environ["PORTAL_Y"] == "from the environment"
    monkeypatch.delenv("PORTAL_X")


def test_missing_env_file_is_fine_and_a_bad_line_names_itself(tmp_path):
    assert load_env_file(tmp_path / "absent") == []
    bad = tmp_path / ".env"
    bad.write_text("DEBUG=1\nnot a setting\n")
    with pytest.raises(ImproperlyConfigured, match=":2: expected NAME=value"):
        load_env_file(bad)
