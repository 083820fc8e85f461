"""OCR with tinyinfer: DB text detection, line crops, direction classification, CTC recognition.

    from tinyinfer.ocr import OCR
    OCR()("page.png")["lines"]        # [{"text", "score", "box", "chars"}, ...]

NumPy only (Numba speeds up CTC greedy decoding when installed); Pillow only to read formats
other than PNG/PGM/PPM. See pipeline.py for the stages and det.py, ctc.py for the algorithms.
"""
from .ctc import Decoded, decode, greedy, load_characters, prefix_beam  # noqa: F401
from .pipeline import OCR, default_models, load_image  # noqa: F401
