"""Generated digit images and the checks shared by the batch tests."""
import glob
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "tinyinfer", "data")


def make_digits(folder, n, seed=0, corrupt=True):
    """n PNG digit images (the bundled ones, shifted, scaled and noised), a corrupt PNG and a
    text file that a folder walk must ignore. Returns the good image paths."""
    from PIL import Image

    from tinyinfer.vision.image import read_image

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = [read_image(p) for p in sorted(glob.glob(os.path.join(DATA, "digit_*.png")))]
    paths = []
    for i in range(n):
        img = np.roll(base[i % len(base)], tuple(rng.integers(-2, 3, 2)), axis=(0, 1)).astype(float)
        img = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
        size = int(rng.choice([16, 24, 32]))
        p = os.path.join(folder, f"d{i:04d}.png")
        Image.fromarray(img).resize((size, size), Image.BILINEAR).save(p)
        paths.append(os.path.abspath(p))
    if corrupt:
        with open(os.path.join(folder, "corrupt.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
        with open(os.path.join(folder, "notes.txt"), "w") as f:
            f.write("not an image")
    return paths


def single_image(path):
    """The single-image run the batch must reproduce (tinyinfer demo's preprocessing)."""
    from tinyinfer import InferenceSession
    from tinyinfer.vision.image import read_image, resize_area, to_gray

    sess = InferenceSession(os.path.join(DATA, "digits_mobilenet.onnx"))
    x = (resize_area(to_gray(read_image(path)), 8, 8) / 255.0).astype(np.float32)[None, None]
    (z,) = sess.run(None, {"image": x})
    p = np.exp(z[0] - z[0].max())
    p /= p.sum()
    return str(int(p.argmax())), float(p.max())


def check_records(records, good, corrupt_path):
    """Exactly one record per input; results equal single-image runs; the corrupt one an error."""
    by_path = {}
    for r in records:
        assert r["path"] not in by_path, f"duplicate record for {r['path']}"
        by_path[r["path"]] = r
    assert set(by_path) == set(good) | {corrupt_path}
    bad = by_path[corrupt_path]
    assert bad["result"] is None and bad["error"].startswith("InputError") and "corrupt.png" in bad["error"]
    for p in good:
        r = by_path[p]
        assert r["error"] is None, r
        label, score = single_image(p)
        assert r["result"]["label"] == label and abs(r["result"]["score"] - score) < 1e-5, (r, label, score)
        assert r["timings"]["total"] >= r["timings"]["infer"] > 0
