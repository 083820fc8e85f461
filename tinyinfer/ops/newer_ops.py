"""Standard ops from newer opsets, also registered under the domain "ai.tinyinfer".

    HardSwish (opset 14), LayerNormalization (17), Gelu (20), Swish (24)

A model exported at opset 11 or 12 (PP-OCR) spells these as chains of Add/Mul/Clip/ReduceMean;
passes/ recognise the chains and, when the model's opset is too old for the standard op, use the
same reference implementation under our domain instead of raising the model's opset.
"""
from __future__ import annotations

from ..registry import op
from .activations import Gelu, HardSwish, Swish
from .layer_norm import LayerNormalization

DOMAIN = "ai.tinyinfer"

op("HardSwish", domain=DOMAIN)(HardSwish)
op("LayerNormalization", domain=DOMAIN)(LayerNormalization)
op("Gelu", domain=DOMAIN)(Gelu)
op("Swish", domain=DOMAIN)(Swish)
