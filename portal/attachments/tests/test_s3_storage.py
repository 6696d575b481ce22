"""The R2 configuration against real HTTP servers on loopback: moto's S3 server, a stub
that refuses checksum headers as Cloudflare R2 has, and a server that never answers."""

import io
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from portal.attachments.downloads import download_response
from portal.attachments.names import storage_key
from portal.attachments.storage import StorageUnavailable, s3_storage_config, save_file
from portal.attachments.tests import files
from portal.attachments.validation import validate_upload
from portal.testing.s3 import ACCESS_KEY, SECRET_KEY
from portal.testing.smtp import free_port


def fetch(url: str):
    """GET over real HTTP: (body, headers) with case-insensitive header lookup."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return response.read(), response.headers


def test_upload_then_presigned_download_returns_the_same_bytes(s3_storage, s3_server):
    data = files.png()
    with validate_upload("Bildschirmfoto größer.png", io.BytesIO(data)) as upload:
        key = save_file(s3_storage, storage_key(["tickets", "7"], upload.safe_name), upload.file)

    response = download_response(
        s3_storage, key, original_name="Bildschirmfoto größer.png", content_type="image/png"
    )
    assert response.status_code == 302
    body, headers = fetch(response["Location"])
    assert body == data
    # The bucket answers with the headers the signed URL asked for.
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == response_disposition(response["Location"])
    assert headers["Content-Disposition"].startswith("attachment;")
    # And the stored object itself carries the sniffed type.
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=key)
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(data)


def response_disposition(url: str) -> str:
    return parse_qs(urlsplit(url).query)["response-content-disposition"][0]


def test_the_redirect_itself_carries_the_safe_headers(s3_storage):
    key = save_file(s3_storage, "tickets/1/x.pdf", ContentFile(files.pdf()))
    response = download_response(
        s3_storage, key, original_name="x.pdf", content_type="application/pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(("configured", "expected"), [(None, 300), (60, 60), (3600, 300)])
def test_presigned_urls_expire_within_five_minutes(s3_storage, settings, configured, expected):
    if configured is not None:
        settings.ATTACHMENT_DOWNLOAD_URL_SECONDS = configured
    key = save_file(s3_storage, "tickets/1/x.pdf", ContentFile(files.pdf()))
    response = download_response(
        s3_storage, key, original_name="x.pdf", content_type="application/pdf"
    )
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["X-Amz-Expires"] == [str(expected)]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4


def test_objects_are_private(s3_storage, s3_server):
    key = save_file(s3_storage, "tickets/1/secret.txt", ContentFile(b"salary list"))
    with pytest.raises(urllib.error.HTTPError) as caught:
        fetch(f"{s3_server.endpoint}/{s3_server.bucket}/{key}")  # unsigned
    assert caught.value.code == 403
    grants = s3_server.client().get_object_acl(Bucket=s3_server.bucket, Key=key)["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers/AuthUsers


def test_an_existing_key_is_never_overwritten(s3_storage, s3_server):
    first = save_file(s3_storage, "tickets/1/same.txt", ContentFile(b"first"))
    second = save_file(s3_storage, "tickets/1/same.txt", ContentFile(b"second"))
    assert first == "tickets/1/same.txt"
    assert second != first and second.startswith("tickets/1/same")
    client = s3_server.client()
    assert client.get_object(Bucket=s3_server.bucket, Key=first)["Body"].read() == b"first"
    assert client.get_object(Bucket=s3_server.bucket, Key=second)["Body"].read() == b"second"


def test_storage_outage_raises_a_clear_error_quickly(s3_storage, s3_server):
    s3_server.stop()
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        save_file(s3_storage, "tickets/1/x.txt", ContentFile(b"data"))
    # Connection refused, retried at most twice with short backoff: seconds, not minutes.
    assert time.monotonic() - started < 10
    assert "store a file" in str(caught.value)
    assert caught.value.__cause__ is not None


# --- An endpoint that accepts connections and never answers ------------------------------


@pytest.fixture
def silent_endpoint():
    """A TCP port that accepts connections and never sends a byte (a hung endpoint)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_hanging_endpoint_is_given_up_on_by_the_read_timeout(settings, silent_endpoint):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_storage_config(
            endpoint_url=silent_endpoint,
            bucket_name="bucket",
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            read_timeout=1,
            max_attempts=1,
        ),
    }
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        save_file(storages["attachments"], "tickets/1/x.txt", ContentFile(b"data"))
    # botocore's default (60 s, retried) would hold a worker for minutes.
    assert time.monotonic() - started < 5


# --- A stub that refuses checksum headers, as Cloudflare R2 has ---------------------------


class ChecksumRefusingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    refused_prefixes = ("x-amz-checksum-", "x-amz-sdk-checksum-algorithm", "x-amz-trailer")

    def log_message(self, *args):  # keep test output quiet
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self._reply(404)  # "no such key": lets the storage use the name it asked for

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        sent = [name.lower() for name in self.headers]
        if any(name.startswith(self.refused_prefixes) for name in sent):
            self.server.refused.append(self.path)
            error = (
                b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NotImplemented</Code>"
                b"<Message>Header x-amz-checksum not implemented</Message></Error>"
            )
            self._reply(501, error, {"Content-Type": "application/xml"})
            return
        self.server.stored[self.path] = body
        self._reply(200, headers={"ETag": '"0"'})


@pytest.fixture
def checksum_refusing_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ChecksumRefusingHandler)
    server.stored = {}
    server.refused = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_uploads_succeed_against_an_endpoint_that_refuses_checksum_headers(
    settings, checksum_refusing_endpoint
):
    server = checksum_refusing_endpoint
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": s3_storage_config(
            endpoint_url=endpoint, bucket_name="bucket", access_key="k", secret_key="s"
        ),
    }
    data = files.pdf()
    key = save_file(storages["attachments"], "tickets/3/a.pdf", ContentFile(data))
    assert server.stored == {f"/bucket/{key}": data}  # path-style, body unchanged
    assert server.refused == []


def test_the_checksum_stub_does_refuse_botocore_defaults(checksum_refusing_endpoint):
    # Proves the test above can fail: boto3's default configuration sends checksums.
    server = checksum_refusing_endpoint
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
        region_name="auto",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket="bucket", Key="a.txt", Body=b"data")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert server.refused
