"""A model name's versions share one serving signature (issue #13 item 9).

`tfgan export` names a model after its preset, so a preset trained on other data (a
`dcgan_mnist` preset on a 32x32 RGB folder) must not become the next version of the
28x28 grayscale model its clients call.
"""

import os

import pytest

from tfgan_app.architectures import dcgan_generator
from tfgan_app.errors import UsageError
from tfgan_app.export import export_generator
from tfgan_app.export.serving_config import list_versions


def tiny(image_shape, num_classes=None, latent_dim=8):
    return dcgan_generator(latent_dim, image_shape, num_classes, base_filters=4)


def test_same_signature_adds_a_version(tmp_path):
    base = str(tmp_path / "export")
    export_generator(tiny((8, 8, 1)), "digits", base, quantizations=())
    result = export_generator(tiny((8, 8, 1)), "digits", base, quantizations=())
    assert result.version == 2


@pytest.mark.parametrize("other, difference", [
    (lambda: tiny((8, 8, 3)), r"image_shape \[8, 8, 1\] -> \[8, 8, 3\]"),
    (lambda: tiny((8, 8, 1), latent_dim=16), r"latent_dim 8 -> 16"),
    (lambda: tiny((8, 8, 1), num_classes=10), r"num_classes None -> 10"),
])
def test_other_signature_is_refused_naming_name(tmp_path, other, difference):
    base = str(tmp_path / "export")
    export_generator(tiny((8, 8, 1)), "digits", base, quantizations=())
    num_classes = 10 if "num_classes" in difference else None
    with pytest.raises(UsageError, match=rf"version 1 with another signature \({difference}\).*--name"):
        export_generator(other(), "digits", base, num_classes=num_classes, quantizations=())
    assert list_versions(os.path.join(base, "digits")) == [1]
    assert sorted(os.listdir(os.path.join(base, "digits"))) == ["1"]  # no staging folder left behind
