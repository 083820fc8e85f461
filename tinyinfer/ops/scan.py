"""Scan — run a body once per slice of the scan inputs, carrying state between iterations.

    opset 9+:  Scan(s_0..s_N-1, x_0..x_M-1)            x_j sliced along scan_input_axes[j]
        for t in 0..L-1:  (s..., y_t...) = body(s..., x_0[t], ..., x_M-1[t])
        -> (s_final..., Y_0..Y_K-1)   Y_k = y_t stacked along scan_output_axes[k]
        direction 1 walks an input backwards / builds an output back to front.

    opset 8:   Scan(sequence_lens?, s..., x...)         every tensor has a leading batch axis
        s: (B, ...), x: (B, L, ...); each batch row b runs sequence_lens[b] steps on its own
        -> (s_final: (B, ...), Y: (B, L, ...))           steps past sequence_lens[b] are zero
"""
from __future__ import annotations

import numpy as np

from ..errors import IterationLimitError, ModelError, RuntimeFailure
from ..registry import Op, op
from ._common import empty_like_type, loop_budget, normalize_axis
from .control_flow import compile_body


def _pad(values, n, default):
    values = list(values or [])
    return values + [default] * (n - len(values))


class _ScanBase(Op):
    uses_scope = True

    def _setup(self, n_inputs: int):
        self.plan = compile_body(self, self.body, "body")
        m = self.num_scan_inputs
        n_state = n_inputs - m
        if m < 1 or n_state < 0:
            raise ModelError(self.node, f"num_scan_inputs={m} does not fit the node's {n_inputs} "
                                        "state and scan inputs")
        if len(self.body.inputs) != n_inputs:
            raise ModelError(self.node, f"body has {len(self.body.inputs)} inputs; expected "
                                        f"{n_state} state + {m} scan inputs")
        if len(self.body.outputs) < n_state:
            raise ModelError(self.node, f"body has {len(self.body.outputs)} outputs; expected at "
                                        f"least {n_state} state outputs")
        self.n_state = n_state
        self.n_scan_out = len(self.body.outputs) - n_state
        self.budget = loop_budget(self.ctx)

    def _iterate(self, states, xs, axes, directions, steps, scope):
        """Run the body `steps` times; (final states, per-output lists of per-step values)."""
        if steps > self.budget:
            raise IterationLimitError(f"{self.node.describe()}: the scan would run {steps} "
                                     f"iterations, more than {self.budget} (max_loop_iterations)")
        names = self.plan.input_names
        collected = [[] for _ in range(self.n_scan_out)]
        states = list(states)
        for t in range(steps):
            feeds = dict(zip(names[: self.n_state], states))
            for name, x, ax, d in zip(names[self.n_state:], xs, axes, directions):
                feeds[name] = np.take(x, steps - 1 - t if d else t, axis=ax)
            outs = self.plan.run(feeds, outer=scope)
            states = list(outs[: self.n_state])
            for k in range(self.n_scan_out):
                collected[k].append(outs[self.n_state + k])
        return states, collected

    def _stack(self, values, k, axis: int, direction: int):
        body_out = self.body.outputs[self.n_state + k]
        if not values:
            like = empty_like_type(body_out.type)     # the declared element type and dims
            shape = list(like.shape)
            shape.insert(normalize_axis(axis, len(shape) + 1, self.node, "scan_output_axes"), 0)
            return np.zeros(shape, dtype=like.dtype)
        for t, v in enumerate(values):
            if not isinstance(v, np.ndarray) or v.shape != values[0].shape:
                raise RuntimeFailure(self.node, f"scan output {body_out.name!r} must be a tensor of "
                                                f"the same shape every iteration (step {t})")
        if direction:
            values = values[::-1]
        ax = normalize_axis(axis, values[0].ndim + 1, self.node, "scan_output_axes")
        return np.stack(values, axis=ax)


@op("Scan", since=9)
class Scan(_ScanBase):
    """Scan(state..., scan_inputs...) -> (final_state..., scan_outputs...)  (opset 9+)."""

    def __init__(self, node, *, body, num_scan_inputs, scan_input_axes=None,
                 scan_input_directions=None, scan_output_axes=None, scan_output_directions=None):
        self.node, self.body, self.num_scan_inputs = node, body, int(num_scan_inputs)
        self.scan_input_axes, self.scan_input_directions = scan_input_axes, scan_input_directions
        self.scan_output_axes, self.scan_output_directions = scan_output_axes, scan_output_directions

    def prepare(self, *inputs):
        self._setup(len(self.node.inputs))
        m, k = self.num_scan_inputs, self.n_scan_out
        self.in_axes = _pad(self.scan_input_axes, m, 0)
        self.in_dirs = _pad(self.scan_input_directions, m, 0)
        self.out_axes = _pad(self.scan_output_axes, k, 0)
        self.out_dirs = _pad(self.scan_output_directions, k, 0)
        for what, vals, n in (("scan_input_axes", self.scan_input_axes, m),
                              ("scan_input_directions", self.scan_input_directions, m),
                              ("scan_output_axes", self.scan_output_axes, k),
                              ("scan_output_directions", self.scan_output_directions, k)):
            if vals is not None and len(vals) != n:
                raise ModelError(self.node, f"{what} has {len(vals)} entries; expected {n}")

    def run(self, *args, scope=None):
        states, xs = args[: self.n_state], args[self.n_state:]
        axes = [normalize_axis(a, x.ndim, self.node, "scan_input_axes") for a, x in zip(self.in_axes, xs)]
        lengths = {x.shape[a] for x, a in zip(xs, axes)}
        if len(lengths) != 1:
            raise RuntimeFailure(self.node, f"scan inputs have different lengths along their scan "
                                            f"axes: {sorted(lengths)}")
        steps = lengths.pop()
        states, collected = self._iterate(states, xs, axes, self.in_dirs, steps, scope)
        outs = [self._stack(v, k, self.out_axes[k], self.out_dirs[k]) for k, v in enumerate(collected)]
        return tuple(states + outs)


@op("Scan", since=8)
class Scan_8(_ScanBase):
    """Scan(sequence_lens?, state..., scan_inputs...) with a leading batch axis  (opset 8)."""

    def __init__(self, node, *, body, num_scan_inputs, directions=None):
        self.node, self.body, self.num_scan_inputs = node, body, int(num_scan_inputs)
        self.directions = directions

    def prepare(self, *inputs):
        self._setup(len(self.node.inputs) - 1)
        self.dirs = _pad(self.directions, self.num_scan_inputs, 0)

    def run(self, sequence_lens, *args, scope=None):
        states, xs = args[: self.n_state], args[self.n_state:]
        if any(x.ndim < 2 for x in xs):
            raise RuntimeFailure(self.node, "scan inputs must be at least (batch, sequence)")
        batch, max_len = xs[0].shape[0], xs[0].shape[1]
        if any(x.shape[:2] != (batch, max_len) for x in xs):
            raise RuntimeFailure(self.node, "scan inputs disagree on (batch, sequence) sizes")
        lens = [max_len] * batch if sequence_lens is None else [int(v) for v in np.asarray(sequence_lens).reshape(-1)]
        if len(lens) != batch or any(not 0 <= n <= max_len for n in lens):
            raise RuntimeFailure(self.node, f"sequence_lens={lens} must hold {batch} values in "
                                            f"[0, {max_len}]")
        final_states, per_batch = [], []
        for b in range(batch):
            xb = [x[b, : lens[b]] for x in xs]
            s, collected = self._iterate([st[b] for st in states], xb, [0] * len(xb),
                                         self.dirs, lens[b], scope)
            final_states.append(s)
            per_batch.append(collected)
        outs = [np.stack([fs[i] for fs in final_states]) for i in range(self.n_state)]
        for k in range(self.n_scan_out):
            rows = []
            for b in range(batch):
                y = self._stack(per_batch[b][k], k, 0, 0)
                if y.shape[0] < max_len:  # pad short sequences with zeros
                    y = np.concatenate([y, np.zeros((max_len - y.shape[0], *y.shape[1:]), y.dtype)])
                rows.append(y)
            outs.append(np.stack(rows))
        return tuple(outs)
