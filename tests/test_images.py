"""Photo uploads: sniffing, limits, decompression bombs and metadata-free re-encoding."""

import datetime
import hashlib
import io
import struct
import zlib
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils import translation
from PIL import ExifTags, Image, ImageCms

from wuye.accounts.actor import Actor
from wuye.core.images import clean_image, save_photo
from wuye.core.models import Photo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def noise(size=(200, 150)) -> Image.Image:
    """A photo-like image that does not compress to nothing."""
    return Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)])


def jpeg_markers(data: bytes) -> list[int]:
    """The marker bytes of every segment before the image data (SOS)."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: pixels follow
            return markers
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` with next to no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def rejected(uploaded, code: str, field: str = "photo") -> str:
    """Assert clean_image refuses ``uploaded`` with ``code``; return the message."""
    with translation.override("en"), pytest.raises(ValidationError) as info:
        clean_image(uploaded, field=field)
    errors = info.value.error_dict
    assert list(errors) == [field]
    assert [error.code for error in errors[field]] == [code]
    return info.value.message_dict[field][0]


# --- metadata ------------------------------------------------------------------
def test_gps_exif_xmp_icc_and_comments_are_all_dropped():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (31.0, 14.0, 2.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 28.0, 7.25),
    }
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = encode(
        noise(),
        "JPEG",
        exif=exif,
        icc_profile=srgb,
        comment=b"Room 1-1-0101, Zhang Wei",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">31.2340N</x:xmpmeta>',
    )
    with Image.open(io.BytesIO(source)) as original:  # the fixture really carries it all
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert original.info["icc_profile"] and original.info["comment"]
        assert "xmp" in original.info

    clean = clean_image(upload(source))
    data = clean.content.read()

    with Image.open(io.BytesIO(data)) as result:
        assert dict(result.getexif()) == {}
        assert "GPSInfo" not in {ExifTags.TAGS.get(tag) for tag in result.getexif()}
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(result.info)
    # Only SOI-level structure and JFIF (APP0): no APP1 (EXIF/XMP), APP2 (ICC),
    # APP13 (IPTC) or COM segment anywhere before the pixels.
    markers = jpeg_markers(data)
    assert 0xE0 in markers
    assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE]
    assert b"Apple" not in data and b"Zhang" not in data and b"xmpmeta" not in data


def test_png_text_chunks_do_not_survive():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "GPS 31.2340N 121.4700E")
    info.add_text("Description", "Zhang Wei's kitchen")
    data = clean_image(upload(encode(noise(), "PNG", pnginfo=info), "a.png")).content.read()
    assert b"GPS" not in data and b"Zhang" not in data
    assert not [m for m in jpeg_markers(data) if 0xE1 <= m <= 0xEF or m == 0xFE]


def test_a_broken_colour_profile_is_ignored_not_fatal():
    clean = clean_image(upload(encode(noise(), "JPEG", icc_profile=b"not a profile" * 20)))
    with Image.open(clean.content) as result:
        assert "icc_profile" not in result.info


def test_colour_profile_is_applied_before_it_is_dropped():
    # A greyscale source tagged with an sRGB profile: converted, then the tag goes.
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    clean = clean_image(
        upload(encode(Image.new("RGB", (40, 40), (200, 30, 30)), "PNG", icc_profile=srgb), "a.png")
    )
    with Image.open(clean.content) as result:
        red, green, blue = result.getpixel((20, 20))
    assert abs(red - 200) <= 3 and green < 40 and blue < 40


# --- orientation, modes, size ---------------------------------------------------
def test_exif_orientation_is_applied():
    # Stored landscape, red on the left; orientation 6 means "rotate 90° clockwise
    # to display", so the photo is portrait with red at the top.
    image = Image.new("RGB", (80, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    clean = clean_image(upload(encode(image, "JPEG", exif=exif, quality=95)))

    assert (clean.width, clean.height) == (40, 80)
    with Image.open(clean.content) as result:
        assert result.size == (40, 80)
        top, bottom = result.getpixel((20, 10)), result.getpixel((20, 70))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_with_alpha_is_accepted_and_flattened_onto_white():
    image = Image.new("RGBA", (60, 30), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (30, 0, 60, 30))
    clean = clean_image(upload(encode(image, "PNG"), "screenshot.png", "image/png"))

    assert clean.source_format == "PNG" and clean.format == "JPEG"
    assert clean.content.name.endswith(".jpg")
    with Image.open(clean.content) as result:
        assert result.format == "JPEG" and result.mode == "RGB"
        assert min(result.getpixel((10, 15))) > 245  # transparent → white
        red, green, blue = result.getpixel((50, 15))
        assert green > 100 and red < 40 and blue < 40


@pytest.mark.parametrize(
    ("image", "fmt"),
    [
        (Image.new("P", (30, 20)), "PNG"),
        (Image.new("LA", (30, 20), (90, 200)), "PNG"),
        (Image.new("L", (30, 20), 90), "JPEG"),
        (Image.new("CMYK", (30, 20), (0, 0, 0, 0)), "JPEG"),
        (Image.new("RGB", (30, 20), (1, 2, 3)), "WEBP"),
        (Image.new("RGBA", (30, 20), (1, 2, 3, 100)), "WEBP"),
    ],
    ids=["palette-png", "grey-alpha-png", "grey-jpeg", "cmyk-jpeg", "webp", "webp-alpha"],
)
def test_every_accepted_mode_becomes_an_rgb_jpeg(image, fmt):
    clean = clean_image(upload(encode(image, fmt), "x"))
    with Image.open(clean.content) as result:
        assert (result.format, result.mode, result.size) == ("JPEG", "RGB", (30, 20))


def test_sixteen_bit_grey_png_is_scaled_not_clipped_to_white():
    clean = clean_image(upload(encode(Image.new("I;16", (20, 20), 30000), "PNG"), "x.png"))
    with Image.open(clean.content) as result:
        assert abs(result.getpixel((10, 10))[0] - 30000 // 256) <= 2


def test_multi_picture_jpeg_from_a_phone_is_accepted():
    data = encode(
        Image.new("RGB", (40, 30), "red"),
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", (40, 30), "blue")],
    )
    clean = clean_image(upload(data))
    assert clean.source_format == "MPO"
    with Image.open(clean.content) as result:
        assert result.format == "JPEG" and result.getpixel((20, 15))[0] > 200


def test_large_photo_is_scaled_to_the_max_side(settings):
    assert settings.PHOTO_MAX_SIDE == 2560
    gradient = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    clean = clean_image(upload(encode(gradient, "JPEG")))
    assert (clean.width, clean.height) == (2560, 1707)
    with Image.open(clean.content) as result:
        assert result.size == (2560, 1707)


def test_tall_png_is_scaled_by_its_longer_side(settings):
    settings.PHOTO_MAX_SIDE = 100
    clean = clean_image(upload(encode(Image.new("RGB", (50, 400), "white"), "PNG"), "x.png"))
    assert (clean.width, clean.height) == (12, 100)


def test_small_photo_is_not_enlarged():
    clean = clean_image(upload(encode(noise((120, 90)), "JPEG")))
    assert (clean.width, clean.height) == (120, 90)


# --- naming ---------------------------------------------------------------------
def test_output_name_is_the_sha256_of_the_output_and_deterministic():
    source = encode(noise(), "JPEG")
    first, second = clean_image(upload(source, "a.jpg")), clean_image(upload(source, "b.jpg"))
    data = first.content.read()

    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.content.name == f"{first.sha256}.jpg"
    assert (second.sha256, second.content.name) == (first.sha256, first.content.name)
    assert second.content.read() == data

    other = clean_image(upload(encode(noise(), "JPEG")))
    assert other.sha256 != first.sha256


# --- refused uploads ------------------------------------------------------------
def test_text_file_named_jpg_is_refused():
    message = rejected(upload(b"just some text, not a photo\n" * 10, "photo.jpg"), "photo_type")
    assert message == "Upload a JPEG, PNG or WebP photo."


@pytest.mark.parametrize(
    "data",
    [
        b"",
        encode(Image.new("RGB", (10, 10)), "GIF"),
        encode(Image.new("RGB", (10, 10)), "BMP"),
        encode(Image.new("RGB", (10, 10)), "TIFF"),
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    ],
    ids=["empty", "gif", "bmp", "tiff", "svg", "pdf"],
)
def test_other_formats_are_refused_whatever_the_name(data):
    rejected(upload(data, "photo.jpg"), "photo_type")


def test_error_is_named_after_the_given_field():
    rejected(upload(b"nope", "a.png"), "photo_type", field="photos")


def test_truncated_jpeg_is_refused():
    data = encode(noise((400, 300)), "JPEG")
    message = rejected(upload(data[: len(data) // 2]), "photo_damaged")
    assert message == "The photo is damaged or incomplete. Take or choose it again."


def test_truncated_png_is_refused():
    data = encode(noise((400, 300)), "PNG")
    rejected(upload(data[: len(data) // 2], "a.png"), "photo_damaged")


@pytest.mark.parametrize("where", ["data", "checksum"])
def test_png_with_a_corrupt_chunk_is_refused(where):
    data = bytearray(encode(noise((100, 100)), "PNG"))
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    # Either the compressed pixels or only the chunk's CRC (which decoding alone
    # does not look at; verify() does).
    data[idat + 20 if where == "data" else idat + 4 + length] ^= 0xFF
    rejected(upload(bytes(data), "a.png"), "photo_damaged")


class Unreadable:
    """An upload whose size is known from the request; reading it fails the test."""

    name = "huge.jpg"

    def __init__(self, size):
        self.size = size

    def seek(self, position):
        raise AssertionError("the file was opened")

    def read(self, amount=-1):
        raise AssertionError("the file was read")


def test_oversized_upload_is_refused_before_reading(settings):
    assert settings.PHOTO_MAX_BYTES == 10 * 1024 * 1024
    message = rejected(Unreadable(10 * 1024 * 1024 + 1), "photo_too_large")
    assert message == "The photo is larger than 10 MB."


class Stream(io.BytesIO):
    """An upload that understates its size; counts the bytes handed out."""

    name = "stream.jpg"
    size = 10
    handed_out = 0

    def read(self, amount=-1):
        chunk = super().read(amount)
        self.handed_out += len(chunk)
        return chunk


def test_upload_lying_about_its_size_is_read_only_up_to_the_limit(settings):
    settings.PHOTO_MAX_BYTES = 1000
    stream = Stream(encode(noise((400, 300)), "PNG"))
    assert len(stream.getvalue()) > 10_000
    rejected(stream, "photo_too_large")
    assert stream.handed_out == 1001


def test_upload_at_exactly_the_limit_is_accepted(settings):
    data = encode(noise((40, 30)), "PNG")
    settings.PHOTO_MAX_BYTES = len(data)
    assert clean_image(upload(data, "a.png")).width == 40


@pytest.mark.parametrize(
    ("width", "height"),
    [(50_000, 50_000), (8_000, 6_000)],
    ids=["beyond-pillow-limit", "beyond-our-limit"],
)
def test_decompression_bomb_header_is_refused_before_decoding(width, height):
    message = rejected(upload(png_header_only(width, height), "bomb.png"), "photo_pixels")
    assert message == "The photo is larger than 40 megapixels."


def test_real_decompression_bomb_is_refused():
    # 42 megapixels of white, a few kilobytes on the wire.
    data = encode(Image.new("1", (7_000, 6_000), 1), "PNG", optimize=True)
    assert len(data) < 100_000
    rejected(upload(data, "bomb.png"), "photo_pixels")


def test_pixel_limit_is_a_setting(settings):
    settings.PHOTO_MAX_PIXELS = 1_000_000
    message = rejected(
        upload(encode(Image.new("RGB", (1001, 1000)), "PNG"), "a.png"), "photo_pixels"
    )
    assert message == "The photo is larger than 1 megapixels."
    assert clean_image(upload(encode(Image.new("RGB", (1000, 1000)), "PNG"), "a.png"))


# --- storing --------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_save_photo_writes_the_clean_file_under_media_root(cast, media, time_machine):
    time_machine.move_to(datetime.datetime(2025, 3, 9, 10, 0, tzinfo=SHANGHAI), tick=False)
    actor = cast.actor("resident_a")
    exif = Image.Exif()
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N"}
    source = encode(noise(), "JPEG", exif=exif)

    photo = save_photo(actor=actor, uploaded=upload(source), company=cast.company)

    photo.refresh_from_db()
    expected = clean_image(upload(source))
    assert photo.file.name == f"photos/2025/03/{expected.sha256}.jpg"
    assert stored_files(media) == [photo.file.name]
    assert (media / photo.file.name).read_bytes() == expected.content.read()
    assert (photo.width, photo.height, photo.sha256) == (200, 150, expected.sha256)
    assert (photo.company, photo.uploaded_by) == (cast.company, cast.users["resident_a"])
    with Image.open(media / photo.file.name) as stored:
        assert dict(stored.getexif()) == {}


def test_staff_may_save_photos_for_their_company(cast, media):
    photo = save_photo(
        actor=cast.actor("technician"),
        uploaded=upload(encode(noise(), "PNG"), "a.png"),
        company=cast.company,
    )
    assert photo.uploaded_by == cast.users["technician"]


@pytest.mark.parametrize("who", ["other_resident", "other_admin", "nobody", "anonymous"])
def test_outsiders_cannot_save_photos_for_a_company(cast, media, who):
    actor = Actor(AnonymousUser()) if who == "anonymous" else cast.actor(who)
    with pytest.raises(PermissionDenied):
        save_photo(actor=actor, uploaded=upload(encode(noise(), "JPEG")), company=cast.company)
    assert not Photo.objects.exists()
    assert not media.exists() or stored_files(media) == []


def test_refused_upload_stores_nothing(cast, media):
    with pytest.raises(ValidationError) as info:
        save_photo(
            actor=cast.actor("resident_a"),
            uploaded=upload(b"not a photo", "a.jpg"),
            company=cast.company,
            field="photos",
        )
    assert list(info.value.error_dict) == ["photos"]
    assert not Photo.objects.exists()
    assert not media.exists() or stored_files(media) == []


def test_failed_row_write_removes_the_file(cast, media, monkeypatch):
    def fail(self, *args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(Photo, "save", fail)
    with pytest.raises(IntegrityError):
        save_photo(
            actor=cast.actor("resident_a"),
            uploaded=upload(encode(noise(), "JPEG")),
            company=cast.company,
        )
    assert stored_files(media) == []


def test_photos_visible_to_their_uploader_only(cast, media):
    mine = save_photo(
        actor=cast.actor("resident_a"),
        uploaded=upload(encode(noise(), "JPEG")),
        company=cast.company,
    )
    assert list(Photo.objects.visible_to(cast.actor("resident_a"))) == [mine]
    for other in ("resident_b", "technician", "company_admin", "other_admin"):
        assert not Photo.objects.visible_to(cast.actor(other)).exists()
