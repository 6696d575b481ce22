"""Fixtures for the attachments tests (`s3_server` and `s3_storage` come from
portal/testing/s3.py, a plugin of the project's conftest)."""

import pytest

from portal.attachments.storage import local_storage_config


@pytest.fixture
def local_storage(tmp_path, settings):
    """The attachments storage as in the embedded set-up, under a temporary VAR_DIR."""
    from django.core.files.storage import storages

    settings.STORAGES = {**settings.STORAGES, "attachments": local_storage_config(tmp_path)}
    return storages["attachments"]
