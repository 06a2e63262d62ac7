"""Media in an S3-compatible bucket (MEDIA_STORAGE=s3): a photo is uploaded, stored in the
bucket (not on this disk), served back through its permission-checked view, and its
thumbnail is made from and kept in the bucket. The bucket is moto's S3 server, spoken to
over HTTP as a real one would be."""

import io

import boto3
import pytest
from api_helpers import API, bearer_client
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer
from PIL import Image

from wuye.core.models import Photo

BUCKET = "wuye-test-media"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.MEDIA_ROOT = tmp_path  # must stay empty
    options = {
        **settings.MEDIA_BACKENDS["s3"]["OPTIONS"],
        "bucket_name": BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.MEDIA_BACKENDS["s3"], "OPTIONS": options},
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def a_photo(size=(1200, 900)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, "JPEG")
    return SimpleUploadedFile("漏水.jpg", buffer.getvalue(), content_type="image/jpeg")


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_photos_live_in_the_bucket_and_are_served_through_their_view(cast, bucket, tmp_path):
    resident = bearer_client(cast.users["resident_a"])
    response = resident.post(API + "/photos", {"file": a_photo()})
    assert response.status_code == 201, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    assert keys(bucket) == {f"media/{photo.file.name}"}
    assert not any(tmp_path.iterdir())  # nothing on this machine's disk

    cast.client("resident_a")  # a session for the page views
    page = cast.client("resident_a").get(f"/photos/{photo.id}/")
    assert page.status_code == 200
    with Image.open(io.BytesIO(b"".join(page.streaming_content))) as served:
        assert served.size == (photo.width, photo.height)

    thumb = cast.client("resident_a").get(f"/photos/{photo.id}/thumb/")
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as small:
        assert max(small.size) == 360
    assert len(keys(bucket)) == 2  # the thumbnail is kept beside the photo

    # Someone who may not see it gets nothing from the bucket either.
    assert cast.client("resident_b").get(f"/photos/{photo.id}/").status_code == 404
