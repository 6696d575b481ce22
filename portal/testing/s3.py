"""A real S3-protocol server on loopback (moto's standalone server) for storage tests.

Requests go over HTTP through boto3 exactly as they would to Cloudflare R2; nothing in
boto3 or django-storages is mocked. Fixtures:
- `s3_server`: a running server with one fresh private bucket (stop() it to test outages);
- `s3_storage`: `STORAGES["attachments"]` pointed at it with the production configuration
  (`portal.attachments.storage.s3_storage_config`), and the storage instance;
- `s3_faults`: the fault stub (`portal/testing/s3_faults.py`) in front of that server, and
  `faulty_s3_storage`: the attachments storage reaching the server through it, so a test
  can make the storage answer 500/501 or hang at any moment, and recover.

moto keeps its data in process memory shared by every server in the process, so each
server gets a uniquely named bucket.
"""

import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from moto.server import ThreadedMotoServer

from portal.testing.s3_faults import S3Faults
from portal.testing.smtp import free_port

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"


@dataclass
class S3Server:
    port: int
    bucket: str = field(default_factory=lambda: f"attachments-{uuid.uuid4().hex[:12]}")
    _server: ThreadedMotoServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket, so connections are refused.

        moto's stop() only ends the serve loop: the socket would keep accepting
        connections that are never answered (a hung server, not a stopped one).
        """
        if self._server is not None:
            http_server = getattr(self._server, "_server", None)
            self._server.stop()
            if http_server is not None:
                http_server.server_close()
            self._server = None

    def client(self):
        """A plain boto3 client (region us-east-1) for set-up and inspection."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def storage_config(self, **overrides) -> dict:
        from portal.attachments.storage import s3_storage_config

        options = {
            "endpoint_url": self.endpoint,
            "bucket_name": self.bucket,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
        }
        options.update(overrides)
        return s3_storage_config(**options)


@pytest.fixture
def s3_server():
    """A running moto S3 server on a free loopback port, with an empty private bucket."""
    server = S3Server(port=free_port())
    server.start()
    server.client().create_bucket(Bucket=server.bucket)
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings):
    """The attachments storage on the loopback server, configured as for R2."""
    from django.core.files.storage import storages

    settings.STORAGES = {**settings.STORAGES, "attachments": s3_server.storage_config()}
    return storages["attachments"]


@pytest.fixture
def s3_faults(s3_server):
    """The fault stub in front of the running server, passing everything through."""
    faults = S3Faults(s3_server.endpoint)
    faults.start()
    yield faults
    faults.stop()


@pytest.fixture
def faulty_s3_storage(s3_server, s3_faults, settings):
    """The attachments storage (configured as for R2) reaching the server through the stub."""
    from django.core.files.storage import storages

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_server.storage_config(endpoint_url=s3_faults.endpoint),
    }
    return storages["attachments"]
