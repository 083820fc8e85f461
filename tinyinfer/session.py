"""InferenceSession — onnxruntime's API, so a script swaps `import onnxruntime as ort` for
`import tinyinfer as ort` and runs unchanged.

    sess = InferenceSession("model.onnx")            # or the model's bytes
    [y] = sess.run(None, {"x": x})                   # output_names=None: all outputs
    sess.get_inputs()[0].name / .shape / .type       # 'x', [1, 3, 'h', None], 'tensor(float)'
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import budgets, dtypes, ir
from .errors import InputError, ModelError
from .onnx import load_model
from .onnx.checks import check_model
from .plan import BuildContext, Plan, topological_order
from .profiling import Profiler
from .threads import set_threads


class GraphOptimizationLevel(enum.IntEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


class ExecutionMode(enum.IntEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


@dataclass
class SessionOptions:
    """Options shaped like onnxruntime.SessionOptions (unused ones are accepted and ignored)."""

    graph_optimization_level: GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL
    intra_op_num_threads: int = 0          # 0 = library default
    inter_op_num_threads: int = 0
    execution_mode: ExecutionMode = ExecutionMode.ORT_SEQUENTIAL
    enable_profiling: bool = False
    profile_file_prefix: str = "tinyinfer_profile"
    log_severity_level: int = 2
    log_verbosity_level: int = 0
    logid: str = ""
    optimized_model_filepath: str = ""
    enable_mem_pattern: bool = True
    enable_cpu_mem_arena: bool = True
    use_deterministic_compute: bool = True
    config: Dict[str, str] = field(default_factory=dict)
    # resource budgets for untrusted models (budgets.py): None = the default, 0 = no limit
    max_tensor_bytes: Optional[int] = None
    max_live_bytes: Optional[int] = None
    max_loop_iterations: Optional[int] = None
    max_run_seconds: Optional[float] = None
    max_subgraph_depth: Optional[int] = None
    max_protobuf_nesting: Optional[int] = None
    max_nodes: Optional[int] = None
    enable_int8_audit: bool = False  # audit.py; also config "tinyinfer.int8_audit"="1"

    def add_session_config_entry(self, key: str, value: str) -> None:
        self.config[key] = value

    def get_session_config_entry(self, key: str) -> str:
        return self.config[key]


class RunOptions:
    def __init__(self):
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self.logid = ""
        self.terminate = False


@dataclass(frozen=True)
class NodeArg:
    """An input or output as get_inputs()/get_outputs() describe it."""

    name: str
    shape: Optional[list]
    type: str

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


@dataclass(frozen=True)
class ModelMetadata:
    producer_name: str
    graph_name: str
    domain: str
    description: str
    graph_description: str
    version: int
    custom_metadata_map: Dict[str, str]


def _type_string(t: Optional[ir.TypeInfo]) -> str:
    if t is None or t.kind is None:
        return "unknown"
    if t.kind == "tensor":
        return dtypes.type_string(t.elem_type)
    if t.kind == "sparse_tensor":
        return dtypes.type_string(t.elem_type).replace("tensor", "sparse_tensor")
    if t.kind in ("sequence", "optional"):
        return f"{t.kind}({_type_string(t.elem)})"
    if t.kind == "map":
        return f"map({dtypes.ONNX_NAMES.get(t.elem_type, '?')},{_type_string(t.elem)})"
    return "unknown"


def _shape_list(t: Optional[ir.TypeInfo]):
    if t is None or t.kind not in ("tensor", "sparse_tensor") or t.shape is None:
        return None if t is None or t.kind not in ("tensor", "sparse_tensor") else []
    # static ints; symbolic names as str; unknown (or negative, as some exporters write) as None
    return [d if isinstance(d, str) else (d if d is not None and d >= 0 else None) for d in t.shape]


def _node_arg(v: ir.Value) -> NodeArg:
    return NodeArg(v.name, _shape_list(v.type), _type_string(v.type))


def _check_as_written(graph: ir.Graph) -> None:
    """Structural errors (cycles, undefined inputs, duplicate producers, outputs never produced)
    are reported on the graph as written, even where a pass would remove the offending nodes."""
    known = {v.name for v in graph.inputs} | set(graph.initializers)
    produced = known.union(*(n.outputs for n in topological_order(graph, known)))
    for v in graph.outputs:
        if v.name not in produced:
            raise ModelError(f"graph output {v.name!r} is not produced by any node, input or "
                             "initializer")


def _initializers_as_constants(model: ir.Model) -> ir.Model:
    """Drop initializers from the graph inputs (IR < 4 files list every weight there)."""
    from dataclasses import replace

    g = model.graph
    inputs = tuple(v for v in g.inputs if v.name not in g.initializers)
    return replace(model, graph=replace(g, inputs=inputs, initializers=dict(g.initializers)))


class InferenceSession:
    def __init__(self, path_or_bytes, sess_options: Optional[SessionOptions] = None,
                 providers: Optional[Sequence] = None, provider_options=None, **kwargs):
        self._options = sess_options or SessionOptions()
        self._budgets = budgets.from_options(self._options)
        model = (path_or_bytes if isinstance(path_or_bytes, ir.Model)
                 else load_model(path_or_bytes, budgets=self._budgets))
        check_model(model, self._budgets)  # opsets, node count, required inputs (onnx/checks.py)
        self._model_path = model.path
        self.model = model
        if model.ir_version and model.ir_version < 4:
            # Before IR version 4 every initializer also had to be listed as a graph input, so
            # those inputs are weights, not feeds: like onnxruntime (CanOverrideInitializer is
            # ir_version >= 4), treat them as constants, which lets the passes fold them.
            model = _initializers_as_constants(model)
        self._overridable = [v for v in model.graph.inputs if v.name in model.graph.initializers]
        level = int(getattr(self._options, "graph_optimization_level", 0) or 0)
        if level > 0:  # load-time rewrites (tinyinfer/passes); 0 runs the graph as written
            from .passes import optimize

            _check_as_written(model.graph)  # report cycles etc. before passes prune dead nodes
            qdq = self._options.config.get("tinyinfer.qdq", "integer")  # passes/fuse_qdq.py
            model = optimize(model, level, qdq=qdq)
        self.optimized_model = model
        self._ctx = BuildContext(dict(model.opset_import), self._options, model.path)
        self._plan = Plan(model.graph, self._ctx)
        graph = self.model.graph  # the API describes the model as written, whatever passes did
        self._inputs = [v for v in graph.real_inputs]
        self._outputs = list(graph.outputs)
        self.threads = set_threads(self._options.intra_op_num_threads)  # per process, see threads.py
        opts = self._options
        self._profiler = Profiler(opts.profile_file_prefix) if opts.enable_profiling else None
        from . import audit
        self._audit = audit.Int8Audit() if audit.enabled(opts) else None

    # -- description --------------------------------------------------------------------------
    def get_inputs(self) -> List[NodeArg]:
        return [_node_arg(v) for v in self._inputs]

    def get_outputs(self) -> List[NodeArg]:
        return [_node_arg(v) for v in self._outputs]

    def get_overridable_initializers(self) -> List[NodeArg]:
        return [_node_arg(v) for v in self._overridable]

    def get_modelmeta(self) -> ModelMetadata:
        m = self.model
        return ModelMetadata(m.producer_name, m.graph.name, m.domain, m.doc_string,
                             m.graph.doc_string, m.model_version, dict(m.metadata_props))

    def get_providers(self) -> List[str]:
        return ["CPUExecutionProvider"]

    def get_session_options(self) -> SessionOptions:
        return self._options

    # -- running ------------------------------------------------------------------------------
    def run(self, output_names: Optional[Sequence[str]], input_feed: Dict[str, Any],
            run_options: Optional[RunOptions] = None, *, capture=None, until=None) -> list:
        """capture="all" or [value names] (and/or until=NODE, which stops after that node) makes
        run return (outputs, {name: intermediate}) — see verify/capture.py."""
        feeds = self._check_feeds(input_feed)
        all_names = [v.name for v in self._outputs]
        if output_names:
            unknown = [n for n in output_names if n not in all_names]
            if unknown:
                raise InputError(f"requested output {unknown[0]!r} is not an output of the model; "
                                 f"outputs are {all_names}")
        with budgets.running(self._budgets, run_options):  # bytes, live bytes, deadline
            if capture is not None or until is not None:
                from .verify.capture import run_captured
                return run_captured(self, output_names, all_names, feeds, capture, until)
            if self._profiler is None and self._audit is None:
                results = self._plan.run(feeds)
            else:
                t0 = time.perf_counter()
                results = self._plan.run(feeds, timer=self._step_hook)
                if self._profiler is not None:
                    self._profiler.record_run(t0, time.perf_counter())
        if not output_names:
            return results
        by_name = dict(zip(all_names, results))
        return [by_name[n] for n in output_names]

    def _step_hook(self, *step_args) -> None:
        """Plan.run's per-step `timer`: profiling and/or the int8 audit."""
        if self._profiler is not None:
            self._profiler.record(*step_args)
        if self._audit is not None:
            self._audit.record(*step_args)

    def int8_audit(self):
        """The int8 audit so far (audit.Int8Audit: .rows(), .at_risk(), .format()), or None
        unless SessionOptions.enable_int8_audit / config "tinyinfer.int8_audit" was set."""
        return self._audit

    def end_profiling(self) -> str:
        """Stop profiling and write the Chrome trace; returns its file name ('' if it was off)."""
        if self._profiler is None:
            return ""
        path, self._profiler = self._profiler.write(), None
        return path

    def _check_feeds(self, input_feed: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(input_feed, dict):
            raise InputError(f"input_feed must be a dict of name -> array, got {type(input_feed).__name__}")
        declared = {v.name: v for v in self._inputs}
        overridable = {v.name: v for v in self._overridable}
        for name in input_feed:
            if name not in declared and name not in overridable:
                raise InputError(f"input {name!r} is not an input of the model; inputs are "
                                 f"{list(declared)}")
        missing = [n for n in declared if n not in input_feed]
        if missing:
            v = declared[missing[0]]
            raise InputError(f"input {v.name!r} is missing: expected {_type_string(v.type)} with "
                             f"shape {_shape_list(v.type)}")
        feeds = {}
        for name, value in input_feed.items():
            v = declared.get(name) or overridable[name]
            feeds[name] = _check_one(v, value)
        return feeds


def _check_one(v: ir.Value, value):
    t = v.type
    if t is None or t.kind not in ("tensor", None):
        return value  # sequences, optionals and maps are passed through as given
    if not isinstance(value, np.ndarray):
        if isinstance(value, (list, tuple, int, float, bool, np.generic)):
            value = np.asarray(value)
        else:
            raise InputError(f"input {v.name!r}: expected a NumPy array, got {type(value).__name__}")
    if t.kind is None:
        return value
    if t.elem_type:
        want = dtypes.ONNX_TO_NUMPY.get(t.elem_type)
        ok = want is not None and (value.dtype == want or
                                   (t.elem_type == dtypes.STRING and value.dtype.kind in "OUS"))
        if not ok:
            raise InputError(f"input {v.name!r}: expected {_type_string(t)}, got an array of "
                             f"{value.dtype} ({dtypes.name(value.dtype)})")
        if t.elem_type == dtypes.STRING and value.dtype != object:
            value = value.astype(object)
    if t.shape is not None:
        if value.ndim != len(t.shape):
            raise InputError(f"input {v.name!r}: expected rank {len(t.shape)} (shape "
                             f"{_shape_list(t)}), got rank {value.ndim} (shape {list(value.shape)})")
        for axis, (want, got) in enumerate(zip(t.shape, value.shape)):
            if isinstance(want, int) and want >= 0 and want != got:
                raise InputError(f"input {v.name!r}: dimension {axis} must be {want}, got {got} "
                                 f"(expected shape {_shape_list(t)}, given {list(value.shape)})")
    return value
