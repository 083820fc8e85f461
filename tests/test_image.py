"""The NumPy-only image reader against Pillow, and its refusals."""
import numpy as np
import pytest

from tinyinfer.errors import InputError
from tinyinfer.vision.image import read_image

Image = pytest.importorskip("PIL.Image")


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "LA"])
def test_png_matches_pillow(tmp_path, mode):
    rng = np.random.default_rng(0)
    # smooth content makes the encoder choose Sub/Up/Average/Paeth filters, not only None
    base = (np.add.outer(np.arange(37), np.arange(53)) * 3 % 256).astype(np.uint8)
    rgb = np.stack([base, base[::-1], rng.integers(0, 256, base.shape).astype(np.uint8)], -1)
    im = Image.fromarray(rgb, "RGB").convert(mode)
    p = tmp_path / f"x_{mode}.png"
    im.save(p)
    ours = read_image(str(p))
    ref = np.asarray(Image.open(p).convert("L" if mode in ("L", "LA") else "RGB"))
    np.testing.assert_array_equal(ours, ref)


def test_pgm(tmp_path):
    img = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    p = tmp_path / "x.pgm"
    p.write_bytes(b"P5\n# comment\n4 3\n255\n" + img.tobytes())
    np.testing.assert_array_equal(read_image(str(p)), img)


def test_truncated_and_forged_images_are_refused(tmp_path):
    p = tmp_path / "x.png"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(p)
    data = p.read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated|damaged"):
        read_image(str(tmp_path / "t.png"))
    huge = bytearray(data)
    huge[16:24] = (100000).to_bytes(4, "big") + (100000).to_bytes(4, "big")  # IHDR width, height
    (tmp_path / "h.png").write_bytes(bytes(huge))
    with pytest.raises(InputError, match="at most"):
        read_image(str(tmp_path / "h.png"))
    (tmp_path / "n.png").write_bytes(b"not an image at all")
    with pytest.raises(InputError):
        read_image(str(tmp_path / "n.png"))
