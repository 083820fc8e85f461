"""The exception hierarchy: every failure a user can cause is a ``TinyInferError``.

All user-facing wording lives here or is built with the helpers here, so a message always names
what it is about (file, node, op, input) and says what was expected and what was found.

    TinyInferError
    ├── ModelError            the model file or graph is malformed or inconsistent
    │   ├── DecodeError       the protobuf bytes themselves are bad
    │   └── UnsupportedOpError   no implementation for (domain, op, opset)
    ├── InputError            a feed does not match what the model declares
    ├── ResourceLimitError    a budget (SessionOptions, see budgets.py) would be exceeded
    │   ├── TensorSizeLimitError     one tensor over max_tensor_bytes (also a RuntimeFailure
    │   │                            when it happens while running)
    │   ├── MemoryLimitError         all live tensors over max_live_bytes
    │   ├── IterationLimitError      a Loop/Scan/SequenceMap over max_loop_iterations
    │   ├── TimeLimitError           a run over max_run_seconds (or RunOptions.terminate)
    │   ├── NestingLimitError        sub-graphs, types or functions nested too deep
    │   └── GraphSizeLimitError      more nodes than max_nodes (after expanding functions)
    └── RuntimeFailure        an op failed at run time on data it could not check earlier
"""
from __future__ import annotations


class TinyInferError(Exception):
    """Base class of every error tinyinfer raises on purpose."""


class _NamesWhere(TinyInferError):
    """Built as Error(node, "message") -> 'node "conv1" (Conv): message', or Error("message")."""

    def __init__(self, where, message: str = ""):
        if message == "" and isinstance(where, str):
            super().__init__(where)
        else:
            super().__init__(f"{describe(where)}: {message}")


class ModelError(_NamesWhere):
    """The model (file, graph, node, attribute) is malformed or inconsistent."""


class DecodeError(ModelError):
    """The protobuf bytes are not a well-formed ONNX message."""


class UnsupportedOpError(ModelError):
    """No implementation is registered for an op at the model's opset."""


class InputError(TinyInferError):
    """A feed given to ``run`` does not match the model's declared inputs."""


class ResourceLimitError(_NamesWhere):
    """Running or loading would exceed a configured budget; ``budget`` names the option."""

    budget = ""


class MemoryLimitError(ResourceLimitError):
    """The tensors alive at one time would exceed ``max_live_bytes``."""

    budget = "max_live_bytes"


class IterationLimitError(ResourceLimitError):
    """A Loop, Scan or SequenceMap would run more than ``max_loop_iterations`` times."""

    budget = "max_loop_iterations"


class TimeLimitError(ResourceLimitError):
    """A run took longer than ``max_run_seconds``, or RunOptions.terminate was set."""

    budget = "max_run_seconds"


class NestingLimitError(ResourceLimitError):
    """Sub-graphs, type declarations or function calls nest deeper than allowed."""

    budget = "max_subgraph_depth"


class GraphSizeLimitError(ResourceLimitError):
    """The model has more nodes than ``max_nodes`` (counted after expanding functions)."""

    budget = "max_nodes"


class RuntimeFailure(_NamesWhere):
    """An op failed at run time on values that could only be checked then."""


class TensorSizeLimitError(ResourceLimitError, RuntimeFailure):
    """One tensor would be larger than ``max_tensor_bytes``."""

    budget = "max_tensor_bytes"


def describe(where) -> str:
    """Name a node (or anything with a ``describe()``), for the start of an error sentence."""
    if where is None:
        return "model"
    if hasattr(where, "describe"):
        return where.describe()
    return str(where)
