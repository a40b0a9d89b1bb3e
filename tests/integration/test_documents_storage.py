"""Where documents are kept, through both back-ends of one contract: a local folder, and S3-compatible object storage
served for real by moto's S3 server on a local port (boto3 speaks HTTP to it as to any S3). And the whole way
through S3: the shop configured with a bucket, a PDF uploaded on the staff Documents page and downloaded back the
same, byte for byte, from the bucket."""
from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import boto3
import pytest
from flask import Flask

from shop.platform.extensions import db
from shop.platform.storage import LocalStorage, S3Storage, Storage, StoredFileMissing
from tests.support.documents import pdf_bytes, png_bytes
from tests.support.staff import sign_in

moto_server = pytest.importorskip("moto.server", reason="moto's S3 server (moto[server]) is not installed")

REGION = "eu-central-1"
NOT_GENERATED = ["../secret.pdf", "x.pdf", "9F" * 16 + ".pdf", "0" * 32 + ".exe", "0" * 32 + ".pdf/../a",
                 "/etc/passwd", "", "0" * 31 + ".pdf"]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free local port, for this module's tests."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch, tmp_path) -> None:
    """Credentials as boto3 reads them from the environment; no profile or config file of this machine."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_CONFIG_FILE", str(tmp_path / "none")),
                        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bucket(s3_endpoint, aws_credentials) -> str:
    """A new, empty bucket of the S3 server."""
    name = f"shop-documents-{uuid.uuid4().hex[:12]}"
    _client(s3_endpoint).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def _client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def _objects(endpoint: str, bucket: str) -> list[str]:
    return [item["Key"] for item in _client(endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "documents")
    endpoint, name = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("bucket")
    return S3Storage(name, prefix="documents", endpoint_url=endpoint, region=REGION)


def test_a_stored_file_reads_back_the_same_under_a_generated_name_until_deleted(storage):
    pdf, png = pdf_bytes("SDS"), png_bytes()
    first, second = storage.put(pdf, suffix=".pdf"), storage.put(png, suffix=".png")
    assert first != second and first.endswith(".pdf") and second.endswith(".png") and len(first) == 36
    assert storage.get(first) == pdf and storage.get(second) == png
    assert storage.put(pdf, suffix=".pdf") not in (first, second)  # the same bytes again: a file of their own
    storage.delete(first)
    with pytest.raises(StoredFileMissing):
        storage.get(first)
    assert storage.get(second) == png
    storage.delete(first)  # deleting what is gone is nothing


def test_a_name_never_generated_is_missing(storage):
    with pytest.raises(StoredFileMissing):
        storage.get("0123456789abcdef0123456789abcdef.pdf")


@pytest.mark.parametrize("key", NOT_GENERATED)
def test_a_key_that_is_not_a_generated_name_is_refused_before_storage_is_asked(storage, key):
    with pytest.raises(StoredFileMissing):
        storage.get(key)
    with pytest.raises(StoredFileMissing):
        storage.delete(key)


def test_s3_keeps_each_file_under_the_prefix_as_its_generated_name(s3_endpoint, bucket):
    key = S3Storage(bucket, prefix="shop/documents", endpoint_url=s3_endpoint, region=REGION).put(
        pdf_bytes(), suffix=".pdf")
    assert _objects(s3_endpoint, bucket) == [f"shop/documents/{key}"]


@pytest.fixture
def app(make_app, s3_endpoint, bucket, tmp_path) -> Iterator[Flask]:
    """The shop configured to keep documents in the bucket (and a local folder that must stay empty)."""
    app = make_app(DOCUMENTS_S3_BUCKET=bucket, DOCUMENTS_S3_ENDPOINT_URL=s3_endpoint, DOCUMENTS_S3_REGION=REGION,
                   DOCUMENTS_S3_PREFIX="documents", DOCUMENTS_DIR=str(tmp_path / "not-used"))
    with app.app_context():
        yield app
        db.session.remove()


@pytest.mark.usefixtures("staff_clients")
def test_a_document_uploaded_on_the_staff_page_is_kept_in_the_bucket_and_downloads_the_same(
        app, client, product, s3_endpoint, bucket, tmp_path):
    sign_in(client, "quality")
    pdf = pdf_bytes("Kosher certificate, kept in S3", pages=2)
    posted = client.post("/staff/documents", content_type="multipart/form-data", data={
        "product": "l-leucine-usp", "kind": "kosher", "title": "Kosher certificate", "version": "2026-1",
        "issued_on": "2026-01-05", "valid_until": "2099-01-04",
        "file": (io.BytesIO(pdf), "kosher.pdf", "application/pdf")})
    assert posted.status_code == 302
    [stored] = _objects(s3_endpoint, bucket)
    assert stored.startswith("documents/") and stored.endswith(".pdf")
    assert _client(s3_endpoint).get_object(Bucket=bucket, Key=stored)["Body"].read() == pdf
    assert not (tmp_path / "not-used").exists()
    download = client.get("/documents/1/l-leucine-usp-kosher-2026-1.pdf")
    assert download.status_code == 200 and download.data == pdf
    assert download.mimetype == "application/pdf"
    # The product page and the API link the same file.
    assert 'href="/documents/1/l-leucine-usp-kosher-2026-1.pdf"' in client.get("/products/l-leucine-usp").text
