"""The op registry: ``@op("Conv", since=11)`` and lookup by the model's opset.

An implementation is valid from opset ``since`` until the next registered version of the same
(domain, op). Lookup takes the highest ``since`` that is ≤ the model's opset for that domain.

Two ways to write an op (see ops/ for many of each):

    @op("LeakyRelu", since=6)
    def LeakyRelu(x, *, alpha=0.01):          # positional = inputs, keyword-only = attributes
        return np.where(x >= 0, x, x * alpha).astype(x.dtype)

    @op("Conv", since=11)
    class Conv(Op):                            # when there is something to check or pack once
        def __init__(self, node, *, group=1, ...): ...
        def prepare(self, *inputs): ...        # validate shapes/types/attributes (once)
        def run(self, x, w, b=None): ...       # compute (every call)

Inputs absent from the node (an empty name, or trailing inputs left out) arrive as ``None``.
``run`` returns one value, or a tuple with one value per node output.
"""
from __future__ import annotations

import inspect
import keyword
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import ModelError, UnsupportedOpError

_REGISTRY: Dict[Tuple[str, str], List[Tuple[int, type]]] = {}


def canonical_domain(domain: str) -> str:
    return "" if domain in ("", "ai.onnx") else domain


@dataclass
class InputInfo:
    """What ``prepare`` knows about one input before any data flows."""

    name: str
    type: Any = None          # ir.TypeInfo or None when undeclared
    const: Any = None         # the value, when it is an initializer or folded constant

    @property
    def shape(self):
        if self.const is not None and hasattr(self.const, "shape"):
            return tuple(self.const.shape)
        if self.type is None or self.type.shape is None:
            return None
        # symbolic dims stay str; unknown and negative (some exporters write -1) become None
        return tuple(None if isinstance(d, int) and d < 0 else d for d in self.type.shape)

    @property
    def dtype(self):
        if self.const is not None and hasattr(self.const, "dtype"):
            return self.const.dtype
        return None


class Op:
    """Base class of class-style ops. Subclasses set ``node`` and their attributes in __init__."""

    node: Any = None
    ctx: Any = None            # the BuildContext (opsets, subgraph compiler, session options)
    opset: int = 0             # the model's opset for this op's domain
    uses_scope: bool = False   # True: run() also gets scope= (control flow needs outer values)

    def __init__(self, node, **attrs):
        self.node = node
        for k, v in attrs.items():
            setattr(self, k, v)

    def prepare(self, *inputs: InputInfo) -> None:
        """Validate what can be validated before running. Default: nothing to check."""

    def run(self, *inputs):  # pragma: no cover - always overridden
        raise NotImplementedError


def _function_op(fn: Callable) -> type:
    """Wrap ``def Op(x, y, *, attr=default)`` as an Op class."""

    class FunctionOp(Op):
        __doc__ = fn.__doc__
        impl = staticmethod(fn)

        def __init__(self, node, **attrs):
            self.node = node
            self.attrs = attrs

        def run(self, *inputs):
            return fn(*inputs, **self.attrs)

    FunctionOp.__name__ = FunctionOp.__qualname__ = fn.__name__
    FunctionOp.__module__ = fn.__module__
    FunctionOp.signature_source = fn
    return FunctionOp


def op(op_type: str, since: int = 1, domain: str = "") -> Callable:
    """Register a function or Op subclass as ``op_type`` of ``domain``, valid from opset ``since``."""

    def register(obj):
        cls = obj if isinstance(obj, type) else _function_op(obj)
        versions = _REGISTRY.setdefault((canonical_domain(domain), op_type), [])
        versions[:] = [v for v in versions if v[0] != since] + [(since, cls)]
        versions.sort(key=lambda v: v[0])
        return obj

    return register


def lookup(op_type: str, domain: str, opset: int, node=None) -> type:
    """The implementation for (domain, op_type) at ``opset``; UnsupportedOpError if none."""
    _load_ops()
    dom = canonical_domain(domain)
    versions = _REGISTRY.get((dom, op_type))
    where = node if node is not None else f"op {op_type}"
    shown = f"{dom}.{op_type}" if dom else op_type
    if not versions:
        similar = sorted(o for (d, o) in _REGISTRY if d == dom and o.lower() == op_type.lower())
        hint = f" (did you mean {similar[0]}?)" if similar else ""
        raise UnsupportedOpError(
            where, f"op {shown} (domain '{dom or 'ai.onnx'}') is not implemented in tinyinfer{hint}"
        )
    best = None
    for since, cls in versions:
        if since <= opset:
            best = cls
    if best is None:
        have = ", ".join(str(s) for s, _ in versions)
        raise UnsupportedOpError(
            where, f"op {shown} has implementations for opset {have}, none for the model's opset {opset}"
        )
    return best


def attribute_names(cls: type) -> Tuple[Optional[set], set]:
    """(accepted attribute names or None for 'any', required names) from the signature."""
    fn = getattr(cls, "signature_source", None)
    if fn is not None:
        params = inspect.signature(fn).parameters.values()
        kw = [p for p in params if p.kind == p.KEYWORD_ONLY]
        var = any(p.kind == p.VAR_KEYWORD for p in params)
    else:
        params = list(inspect.signature(cls.__init__).parameters.values())[2:]  # self, node
        kw = [p for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        var = any(p.kind == p.VAR_KEYWORD for p in params)
    accepted = None if var else {p.name for p in kw}
    required = {p.name for p in kw if p.default is inspect.Parameter.empty}
    return accepted, required


def python_name(attr: str) -> str:
    """ONNX attribute name as a Python keyword argument ('lambda' -> 'lambda_')."""
    return attr + "_" if keyword.iskeyword(attr) else attr


def instantiate(cls: type, node, attributes: dict) -> Op:
    """Build an op from a node: attributes become keyword arguments, checked against the signature."""
    accepted, required = attribute_names(cls)
    kwargs = {}
    for k, v in attributes.items():
        name = python_name(k)
        if accepted is None or name in accepted:
            kwargs[name] = v
        # attributes the implementation does not know are ignored, as onnxruntime does
    missing = sorted(required - set(kwargs))
    if missing:
        raise ModelError(node, f"required attribute {missing[0]!r} is missing")
    try:
        return cls(node, **kwargs)
    except (TypeError, ValueError, IndexError, KeyError) as e:  # a wrongly typed or empty
        # attribute, or bytes that are not UTF-8
        raise ModelError(node, f"bad attributes: {type(e).__name__}: {e}") from e


def registered() -> Dict[Tuple[str, str], List[int]]:
    """{(domain, op): [since, ...]} — for `tinyinfer info`, docs and coverage reports."""
    _load_ops()
    return {k: [s for s, _ in v] for k, v in sorted(_REGISTRY.items())}


_loaded = False


def _load_ops() -> None:
    """Import every module under tinyinfer/ops once, so their @op decorators run."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil

    from . import ops

    for info in pkgutil.walk_packages(ops.__path__, ops.__name__ + "."):
        importlib.import_module(info.name)
