"""Resource budgets: how much an untrusted model may make tinyinfer allocate, loop or wait.

    budget                 default              checked
    max_tensor_bytes       2 GiB                each initializer when the file is read; each op
                                                output before (ops/_common.check_output_size) or
                                                right after it is computed (plan.run)
    max_live_bytes         3/4 of physical RAM  sum of the intermediates alive at once (plan.run)
    max_loop_iterations    10**7                Loop / Scan / SequenceMap trip counts
    max_run_seconds        3600                 between steps of every graph, sub-graphs included
    max_subgraph_depth     64                   If/Loop/Scan bodies inside bodies
    max_protobuf_nesting   64                   TypeProto nesting (sequence of map of ...)
    max_nodes              1_000_000            nodes in all graphs, after expanding functions

Set them as SessionOptions attributes (``opts.max_tensor_bytes = 2**28``) or as config entries
(``opts.add_session_config_entry("tinyinfer.max_tensor_bytes", "268435456")``); 0 or a negative
value means "no limit". A budget that is exceeded raises the ``ResourceLimitError`` subclass that
names it (errors.py). The wall-clock limit is checked between ops: one very slow op is not
interrupted, but no Loop, Scan or graph runs on past the deadline.
"""
from __future__ import annotations

import contextlib
import os
import time
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Optional

import numpy as np

from .errors import MemoryLimitError, TensorSizeLimitError, TimeLimitError


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 8 << 30


@dataclass(frozen=True)
class Budgets:
    max_tensor_bytes: int = 2 << 30
    max_live_bytes: int = _physical_memory() * 3 // 4
    max_loop_iterations: int = 10 ** 7
    max_run_seconds: float = 3600.0
    max_subgraph_depth: int = 64
    max_protobuf_nesting: int = 64
    max_nodes: int = 1_000_000


DEFAULTS = Budgets()
NO_LIMIT = float("inf")


def from_options(options) -> Budgets:
    """Budgets from SessionOptions attributes, else ``tinyinfer.<name>`` config entries."""
    if options is None:
        return DEFAULTS
    config = getattr(options, "config", None) or {}
    values = {}
    for f in fields(Budgets):
        v = getattr(options, f.name, None)
        if v is None:
            v = config.get(f"tinyinfer.{f.name}")
        if v is None:
            continue
        v = float(v)
        values[f.name] = NO_LIMIT if v <= 0 else (v if f.name == "max_run_seconds" else int(v))
    return Budgets(**values)


def limit_text(name: str, value) -> str:
    return f"the budget {name}={value:,} (SessionOptions.{name})" if value != NO_LIMIT else name


# -- per-run enforcement ---------------------------------------------------------------------------

_current: ContextVar[Optional["RunGuard"]] = ContextVar("tinyinfer_run_guard", default=None)


def current() -> Optional["RunGuard"]:
    """The guard of the session run in progress (None outside InferenceSession.run)."""
    return _current.get()


def max_tensor_bytes() -> float:
    g = _current.get()
    return g.budgets.max_tensor_bytes if g is not None else DEFAULTS.max_tensor_bytes


@contextlib.contextmanager
def running(budgets: Budgets, run_options=None):
    """Install a RunGuard for the duration of one InferenceSession.run."""
    token = _current.set(RunGuard(budgets, run_options))
    try:
        yield
    finally:
        _current.reset(token)


def nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (list, tuple)):  # sequences
        return sum(nbytes(v) for v in value)
    return 0


class RunGuard:
    """Counts live bytes and watches the clock for one run; plan.run calls ``frame()``."""

    def __init__(self, budgets: Budgets, run_options=None):
        self.budgets = budgets
        self.deadline = time.monotonic() + budgets.max_run_seconds
        self.run_options = run_options
        self.live = 0

    def frame(self) -> "Frame":
        return Frame(self)


class Frame:
    """One execution of one graph (the main graph, or one iteration of a body)."""

    def __init__(self, guard: RunGuard):
        self.guard = guard
        self.sizes = {}

    def account(self, step, outs) -> None:
        """After ``step`` ran: check its outputs, the live total and the clock; forget freed values."""
        g, b = self.guard, self.guard.budgets
        for name, value in zip(step.outputs, outs):
            if not name:
                continue
            n = nbytes(value)
            if n > b.max_tensor_bytes:
                raise TensorSizeLimitError(step.node, f"output {name!r} has {n:,} bytes, over "
                                                      f"{limit_text('max_tensor_bytes', b.max_tensor_bytes)}")
            g.live += n - self.sizes.get(name, 0)
            self.sizes[name] = n
        if g.live > b.max_live_bytes:
            raise MemoryLimitError(step.node, f"after this node {g.live:,} bytes of tensors are "
                                              f"alive, over {limit_text('max_live_bytes', b.max_live_bytes)}")
        for name in step.frees:
            g.live -= self.sizes.pop(name, 0)
        if time.monotonic() > g.deadline:
            raise TimeLimitError(step.node, f"the run has taken longer than "
                                            f"{limit_text('max_run_seconds', b.max_run_seconds)}; stopped after this node")
        if g.run_options is not None and getattr(g.run_options, "terminate", False):
            raise TimeLimitError(step.node, "the run was stopped by RunOptions.terminate")

    def close(self) -> None:
        """The graph finished: its remaining values are counted by whoever receives them."""
        for n in self.sizes.values():
            self.guard.live -= n
        self.sizes.clear()
