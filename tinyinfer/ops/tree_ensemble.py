"""ai.onnx.ml TreeEnsemble (opset 5) — sum (or average, min, max) of decision-tree leaves.

    x: (N, F) float  ->  y: (N, n_targets) in x's type
    each tree walks from tree_roots[t]: at interior node i go to the true branch when
    x[:, nodes_featureids[i]]  <mode>  nodes_splits[i]   (mode: 0 <=, 1 <, 2 >=, 3 >, 4 ==, 5 !=,
    6 member of a set) or when it is NaN and nodes_missing_value_tracks_true[i]; a branch whose
    nodes_trueleafs/falseleafs flag is set points into the leaf arrays instead.
    leaf j adds leaf_weights[j] to target leaf_targetids[j]; then aggregate_function
    (0 average, 1 sum, 2 min, 3 max) and post_transform (0 none, 1 softmax, 2 logistic,
    3 softmax_zero, 4 probit).
All rows walk together: one vectorised step per tree level.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from .ml_linear import probit

LEQ, LT, GTE, GT, EQ, NEQ, MEMBER = range(7)


def _arr(v, dtype=None):
    return None if v is None else np.asarray(v, dtype=dtype).reshape(-1)


@op("TreeEnsemble", since=5, domain="ai.onnx.ml")
class TreeEnsemble(Op):
    """y[n, t] = aggregate over trees of the leaf weights for target t; see the module docstring."""

    def __init__(self, node, *, nodes_splits, nodes_featureids, nodes_modes, nodes_truenodeids,
                 nodes_falsenodeids, nodes_trueleafs, nodes_falseleafs, leaf_targetids,
                 leaf_weights, tree_roots, n_targets=None, aggregate_function=1,
                 post_transform=0, nodes_hitrates=None, nodes_missing_value_tracks_true=None,
                 membership_values=None):
        self.node = node
        self.splits = _arr(nodes_splits, np.float64)
        self.feature = _arr(nodes_featureids, np.int64)
        self.modes = _arr(nodes_modes, np.int64)
        self.true_id = _arr(nodes_truenodeids, np.int64)
        self.false_id = _arr(nodes_falsenodeids, np.int64)
        self.true_leaf = _arr(nodes_trueleafs, np.int64).astype(bool)
        self.false_leaf = _arr(nodes_falseleafs, np.int64).astype(bool)
        self.leaf_target = _arr(leaf_targetids, np.int64)
        self.leaf_weight = _arr(leaf_weights, np.float64)
        self.roots = _arr(tree_roots, np.int64)
        n = len(self.splits)
        for what, a in (("nodes_featureids", self.feature), ("nodes_modes", self.modes),
                        ("nodes_truenodeids", self.true_id), ("nodes_falsenodeids", self.false_id),
                        ("nodes_trueleafs", self.true_leaf), ("nodes_falseleafs", self.false_leaf)):
            if len(a) != n:
                raise ModelError(node, f"{what} has {len(a)} entries; expected {n} (one per node)")
        if len(self.leaf_target) != len(self.leaf_weight):
            raise ModelError(node, "leaf_targetids and leaf_weights differ in length")
        if self.modes.size and (self.modes.min() < 0 or self.modes.max() > MEMBER):
            raise ModelError(node, f"nodes_modes holds {int(self.modes.max())}; expected 0..6")
        if aggregate_function not in (0, 1, 2, 3) or post_transform not in (0, 1, 2, 3, 4):
            raise ModelError(node, f"aggregate_function={aggregate_function} or post_transform="
                                   f"{post_transform} is not a known value")
        for ids, leaf in ((self.true_id, self.true_leaf), (self.false_id, self.false_leaf)):
            limit = np.where(leaf, len(self.leaf_weight), n)
            if ids.size and ((ids < 0) | (ids >= limit)).any():
                raise ModelError(node, "a node or leaf id is out of range")
        if self.roots.size and (self.roots.min() < 0 or self.roots.max() >= max(n, 1)):
            raise ModelError(node, "a tree root is out of range")
        self.n_targets = int(n_targets) if n_targets is not None else \
            int(self.leaf_target.max(initial=-1)) + 1
        self.aggregate, self.post = int(aggregate_function), int(post_transform)
        self.missing_true = (np.zeros(n, bool) if nodes_missing_value_tracks_true is None else
                             _arr(nodes_missing_value_tracks_true, np.int64).astype(bool))
        # set membership: the values of each MEMBER node, in node order, NaN-separated
        self.members = {}
        member_nodes = np.nonzero(self.modes == MEMBER)[0]
        if member_nodes.size:
            if membership_values is None:
                raise ModelError(node, "MEMBER nodes need membership_values")
            values = _arr(membership_values, np.float64)
            groups, cur = [], []
            for v in values:
                if math.isnan(v):
                    groups.append(cur)
                    cur = []
                else:
                    cur.append(v)
            if cur:
                groups.append(cur)
            if len(groups) < member_nodes.size:
                raise ModelError(node, f"membership_values has {len(groups)} sets for "
                                       f"{member_nodes.size} MEMBER nodes")
            for i, g in zip(member_nodes, groups):
                self.members[int(i)] = np.array(g, np.float64)

    def _go_true(self, idx: np.ndarray, v: np.ndarray) -> np.ndarray:
        """For rows at interior nodes idx with feature values v: take the true branch?"""
        s, m = self.splits[idx], self.modes[idx]
        with np.errstate(invalid="ignore"):
            res = np.select([m == LEQ, m == LT, m == GTE, m == GT, m == EQ, m == NEQ],
                            [v <= s, v < s, v >= s, v > s, v == s, v != s], False)
        for i in np.unique(idx[m == MEMBER]):
            sel = idx == i
            res[sel] = np.isin(v[sel], self.members[int(i)])
        return res | (np.isnan(v) & self.missing_true[idx])

    def run(self, x):
        x = np.asarray(x)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.dtype.kind != "f":
            raise RuntimeFailure(self.node, f"x must be a (N, F) float tensor; found "
                                            f"{x.dtype} {list(x.shape)}")
        if self.feature.size and self.feature.max() >= x.shape[1]:
            raise RuntimeFailure(self.node, f"a node reads feature {int(self.feature.max())} but x "
                                            f"has {x.shape[1]} features")
        xf = x.astype(np.float64)
        rows = np.arange(x.shape[0])
        n, t = x.shape[0], self.n_targets
        if self.aggregate in (0, 1):
            y = np.zeros((n, t))
        else:
            y = np.full((n, t), np.inf if self.aggregate == 2 else -np.inf)
        seen = np.zeros((n, t), bool)
        for root in self.roots:
            cur = np.full(n, root)
            leaf = np.zeros(n, bool)
            if self.true_leaf[root] and self.false_leaf[root] and \
                    self.true_id[root] == self.false_id[root]:
                cur[:], leaf[:] = self.true_id[root], True
            for _ in range(len(self.splits) + 1):
                active = ~leaf
                if not active.any():
                    break
                idx = cur[active]
                go = self._go_true(idx, xf[rows[active], self.feature[idx]])
                cur[active] = np.where(go, self.true_id[idx], self.false_id[idx])
                leaf[active] = np.where(go, self.true_leaf[idx], self.false_leaf[idx])
            else:
                raise RuntimeFailure(self.node, f"tree rooted at node {root} has a cycle")
            tid, w = self.leaf_target[cur], self.leaf_weight[cur]
            if self.aggregate == 0:
                np.add.at(y, (rows, tid), w / len(self.roots))
            elif self.aggregate == 1:
                np.add.at(y, (rows, tid), w)
            elif self.aggregate == 2:
                np.minimum.at(y, (rows, tid), w)
            else:
                np.maximum.at(y, (rows, tid), w)
            seen[rows, tid] = True
        if self.aggregate in (2, 3):
            y[~seen] = 0.0
        y = self._post(y)
        return y.astype(x.dtype)

    def _post(self, y):
        if self.post == 1:
            e = np.exp(y - y.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        if self.post == 2:
            return 1.0 / (1.0 + np.exp(-y))
        if self.post == 3:
            nz = y != 0
            e = np.where(nz, np.exp(y - np.where(nz, y, -np.inf).max(axis=1, keepdims=True)), 0.0)
            s = e.sum(axis=1, keepdims=True)
            return np.where(s > 0, e / np.where(s > 0, s, 1), 0.0)
        if self.post == 4:
            return probit(y)
        return y
