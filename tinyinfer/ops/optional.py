"""Optional values — an optional holds one tensor or sequence, or nothing (Python None).

    Optional(x?)               -> x, or an empty optional when x is absent (type attribute)
    OptionalHasElement(o?)     -> bool [] : o is present and not empty
    OptionalGetElement(o)      -> the value inside o (a plain tensor or sequence passes through)
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


@op("Optional", since=15)
class Optional(Op):
    """Optional(x?) -> x wrapped as an optional; absent x gives the empty optional (None)."""

    def __init__(self, node, *, type=None):  # noqa: A002 - the ONNX attribute is called 'type'
        self.node, self.type = node, type
        if not node.inputs or not node.inputs[0]:
            if type is None:
                raise ModelError(node, "an Optional without an input needs the 'type' attribute")

    def run(self, x=None):
        return x


@op("OptionalHasElement", since=15)
def OptionalHasElement(x=None):
    """OptionalHasElement(o?) -> bool scalar, true when o holds a value (absent input: false)."""
    return np.array(x is not None)


@op("OptionalGetElement", since=15)
class OptionalGetElement(Op):
    """OptionalGetElement(o) -> the tensor or sequence inside o; an error if o is empty."""

    def run(self, x=None):
        if x is None:
            raise RuntimeFailure(self.node, "the optional input is empty; there is no element to get")
        return x
