"""Issue #27 item 3: PNG/JPEG request inputs are measured from their header before anything decodes them.

Before the fix a 388 KB PNG declaring 20000x20000 pixels sent to `translate_png` was decoded by the graph (the
server's RSS rose by ~400 MB) and only then rejected by the size assertion.
"""

import io
import os
import resource
import struct
import sys
import zlib

import keras
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.images import declared_size  # noqa: E402
from tfgan_app.serving import BadRequestError, GrpcClient, LocalModelServer, RestClient  # noqa: E402


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(height: int = 20000, width: int = 20000) -> bytes:
    """A valid-looking grey PNG declaring `height x width` whose few KB of IDAT inflate to the full image."""
    rows = zlib.compress(b"\0" * ((width + 1) * height), 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", rows) + _chunk(b"IEND", b""))


def encoded(size, fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (size[1], size[0]), 128).save(buffer, fmt)
    return buffer.getvalue()


def tiny_translator() -> keras.Model:
    """8x8x1 -> 8x8x1 (tanh), an image-to-image generator with the `translate_png` signature when exported."""
    keras.utils.set_random_seed(0)
    x = keras.Input((8, 8, 1))
    return keras.Model(x, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(x))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("png_headers"))
    export_generator(tiny_translator(), "pix", root, quantizations=())
    return root


def test_declared_size_reads_png_and_jpeg_headers_only():
    assert declared_size(encoded((5, 7))) == (5, 7)
    assert declared_size(encoded((5, 7), "JPEG")) == (5, 7)
    assert declared_size(huge_png()) == (20000, 20000)
    assert declared_size(b"not an image") is None
    with pytest.raises(ValueError, match="PNG header"):
        declared_size(b"\x89PNG\r\n\x1a\n\0")


def test_oversized_png_is_rejected_from_its_header_before_decoding(base):
    png = huge_png()
    assert len(png) < 1024 * 1024
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with LocalModelServer(base, rest_port=0, grpc_port=0, poll_wait_seconds=0) as server:
        rest, grpc_client = RestClient(server.rest_url, 30), GrpcClient(server.grpc_target, 30)
        try:
            for client in (rest, grpc_client):
                with pytest.raises(BadRequestError, match=r"declares 20000x20000 pixels .* takes exactly 8x8"):
                    client.predict("pix", {"png_bytes": np.array([png] * 4, dtype=object)},
                                   signature="translate_png")
                with pytest.raises(BadRequestError, match=r"declares 9x8 pixels"):
                    client.predict("pix", {"png_bytes": np.array([encoded((9, 8), "JPEG")], dtype=object)},
                                   signature="translate_png")
                out = client.predict("pix", {"png_bytes": np.array([encoded((8, 8))], dtype=object)},
                                     signature="translate_png")["png_bytes"]
                assert declared_size(out[0]) == (8, 8)
        finally:
            grpc_client.close()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 200, grown_mb  # decoding one 20000x20000 grey PNG would need 400 MB


def test_max_image_pixels_limits_models_without_a_fixed_image_size(base):
    from tfgan_app.serving.repository import ModelRepository  # pylint: disable=import-outside-toplevel
    repository = ModelRepository(base, poll_wait_seconds=0, max_image_pixels=32).start()
    try:
        servable = repository.get("pix")
        assert servable.image_size == (8, 8)  # read from serving_default's [None, 8, 8, 1] input
        inputs = {"png_bytes": np.array([encoded((8, 8))], dtype=object)}
        servable.predict("translate_png", inputs)  # a fixed size is checked exactly; the limit is not needed
        servable.image_size = None  # as for a model whose image input has no fixed size
        with pytest.raises(Exception, match=r"declares 8x8 pixels, more than the server's limit of 32"):
            servable.predict("translate_png", inputs)
    finally:
        repository.stop()
