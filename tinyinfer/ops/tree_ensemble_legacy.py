"""ai.onnx.ml TreeEnsembleRegressor and TreeEnsembleClassifier (opsets 1 and 3).

    x: (N, F)  ->  Regressor: y: (N, n_targets) float32
                   Classifier: label: (N,) int64 or string, scores: (N, n_classes) float32
    Trees are given node by node: (nodes_treeids, nodes_nodeids) name a node; nodes_modes is
    BRANCH_LEQ / BRANCH_LT / BRANCH_GTE / BRANCH_GT / BRANCH_EQ / BRANCH_NEQ / LEAF; a branch
    goes to nodes_truenodeids when x[feature] <op> value (or x is NaN and
    nodes_missing_value_tracks_true), else to nodes_falsenodeids (ids within the same tree).
    Each leaf adds (target_/class_)weights to its ids. Then base_values are added,
    aggregate_function applies (regressor: SUM, AVERAGE, MIN, MAX) and post_transform.

Binary classifiers whose weights all go to one class follow onnxruntime: with s the summed
score, label = classlabels[1] when s > 0.5 (all weights >= 0) or s > 0 (otherwise); scores are
post_transform([0, s]) when that class is 1, and [1 - s, s] (or [-s, s] for weights of both
signs; [1 - σ(s), σ(s)] for LOGISTIC) when it is 0.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op
from .ml_linear import POST_TRANSFORMS, post_transform

ML = "ai.onnx.ml"
_MODES = {"BRANCH_LEQ": 0, "BRANCH_LT": 1, "BRANCH_GTE": 2, "BRANCH_GT": 3, "BRANCH_EQ": 4,
          "BRANCH_NEQ": 5, "LEAF": 6}


def _text(s):
    return s.decode("utf-8") if isinstance(s, bytes) else s


class _Forest:
    """The node arrays of a legacy tree ensemble and a vectorised walk to the leaves."""

    def __init__(self, node, treeids, nodeids, featureids, values, modes, trueids, falseids,
                 missing):
        n = len(nodeids)
        for what, a in (("nodes_treeids", treeids), ("nodes_featureids", featureids),
                        ("nodes_values", values), ("nodes_modes", modes),
                        ("nodes_truenodeids", trueids), ("nodes_falsenodeids", falseids)):
            if a is None or len(a) != n:
                raise ModelError(node, f"{what} must have one entry per node ({n})")
        try:
            self.mode = np.array([_MODES[_text(m)] for m in modes], np.int64)
        except KeyError as e:
            raise ModelError(node, f"unknown node mode {e.args[0]!r}") from None
        self.index = {(int(t), int(i)): k for k, (t, i) in enumerate(zip(treeids, nodeids))}
        if len(self.index) != n:
            raise ModelError(node, "two nodes share the same (tree id, node id)")
        tree = [int(t) for t in treeids]
        self.feature = np.asarray(featureids, np.int64)
        self.value = np.asarray(values, np.float64)
        leaf = self.mode == 6
        try:
            self.true_next = np.array([k if leaf[k] else self.index[(tree[k], int(trueids[k]))]
                                       for k in range(n)], np.int64)
            self.false_next = np.array([k if leaf[k] else self.index[(tree[k], int(falseids[k]))]
                                        for k in range(n)], np.int64)
        except KeyError as e:
            raise ModelError(node, f"a branch points to the missing node {e.args[0]}") from None
        self.leaf = leaf
        self.missing = (np.zeros(n, bool) if not missing else
                        np.asarray(missing, np.int64).astype(bool))
        # roots: the node of each tree that no other node points to
        pointed = set(self.true_next[~leaf].tolist()) | set(self.false_next[~leaf].tolist())
        self.trees = sorted(set(tree))
        roots = {}
        for k, t in enumerate(tree):
            if k not in pointed and t not in roots:
                roots[t] = k
        self.roots = [roots[t] for t in self.trees if t in roots]
        if len(self.roots) != len(self.trees):
            raise ModelError(node, "some tree has no root (its nodes form a cycle)")
        self.n = n

    def leaves(self, node, x: np.ndarray) -> np.ndarray:
        """(N, n_trees) index of the leaf each row reaches in each tree."""
        if self.feature.size and self.feature[~self.leaf].max(initial=-1) >= x.shape[1]:
            raise RuntimeFailure(node, f"a node reads feature {int(self.feature.max())} but x has "
                                       f"{x.shape[1]} features")
        rows = np.arange(x.shape[0])
        out = np.empty((x.shape[0], len(self.roots)), np.int64)
        for t, root in enumerate(self.roots):
            cur = np.full(x.shape[0], root)
            for _ in range(self.n + 1):
                active = ~self.leaf[cur]
                if not active.any():
                    break
                k = cur[active]
                v, s, m = x[rows[active], self.feature[k]], self.value[k], self.mode[k]
                with np.errstate(invalid="ignore"):
                    go = np.select([m == 0, m == 1, m == 2, m == 3, m == 4, m == 5],
                                   [v <= s, v < s, v >= s, v > s, v == s, v != s], False)
                go |= np.isnan(v) & self.missing[k]
                cur[active] = np.where(go, self.true_next[k], self.false_next[k])
            else:
                raise RuntimeFailure(node, "a tree walk did not reach a leaf (cycle)")
            out[:, t] = cur
        return out


def _leaf_table(node, forest, treeids, nodeids, ids, weights, width):
    """(n_nodes, width) summed weights per leaf, and which (leaf, id) pairs have any weight."""
    if not (len(treeids) == len(nodeids) == len(ids) == len(weights)):
        raise ModelError(node, "the leaf weight lists (tree ids, node ids, ids, weights) differ "
                               "in length")
    table = np.zeros((forest.n, width))
    has = np.zeros((forest.n, width), bool)
    for t, i, c, w in zip(treeids, nodeids, ids, weights):
        k = forest.index.get((int(t), int(i)))
        if k is None or not 0 <= int(c) < width:
            raise ModelError(node, f"leaf weight for tree {t} node {i} id {c} names no leaf or an "
                                   f"id outside 0..{width - 1}")
        table[k, int(c)] += float(w)
        has[k, int(c)] = True
    return table, has


def _attr(values, as_tensor):
    if as_tensor is not None:
        return np.asarray(as_tensor).reshape(-1).tolist()
    return values


@op("TreeEnsembleRegressor", since=1, domain=ML)
class TreeEnsembleRegressor(Op):
    """y = post_transform(aggregate over trees of the leaf weights + base_values)."""

    def __init__(self, node, *, aggregate_function="SUM", base_values=None,
                 base_values_as_tensor=None, n_targets=None, nodes_falsenodeids=None,
                 nodes_featureids=None, nodes_hitrates=None, nodes_hitrates_as_tensor=None,
                 nodes_missing_value_tracks_true=None, nodes_modes=None, nodes_nodeids=None,
                 nodes_treeids=None, nodes_truenodeids=None, nodes_values=None,
                 nodes_values_as_tensor=None, post_transform="NONE", target_ids=None,
                 target_nodeids=None, target_treeids=None, target_weights=None,
                 target_weights_as_tensor=None):
        self.node = node
        if aggregate_function not in ("SUM", "AVERAGE", "MIN", "MAX"):
            raise ModelError(node, f"aggregate_function {aggregate_function!r} is not SUM, "
                                   "AVERAGE, MIN or MAX")
        if post_transform not in POST_TRANSFORMS:
            raise ModelError(node, f"post_transform {post_transform!r} is not known")
        self.aggregate, self.post = aggregate_function, post_transform
        self.forest = _Forest(node, nodes_treeids, nodes_nodeids, nodes_featureids,
                              _attr(nodes_values, nodes_values_as_tensor), nodes_modes,
                              nodes_truenodeids, nodes_falsenodeids,
                              nodes_missing_value_tracks_true)
        ids = list(target_ids or [])
        self.width = int(n_targets) if n_targets else (max(ids) + 1 if ids else 1)
        self.table, self.has = _leaf_table(node, self.forest, target_treeids or [],
                                           target_nodeids or [], ids,
                                           _attr(target_weights, target_weights_as_tensor) or [],
                                           self.width)
        base = _attr(base_values, base_values_as_tensor)
        self.base = None if not base else np.asarray(base, np.float64)

    def run(self, x):
        x = np.asarray(x)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        if x.ndim != 2:
            raise RuntimeFailure(self.node, f"x has shape {list(x.shape)}; expected (N, F)")
        leaves = self.forest.leaves(self.node, x.astype(np.float64))  # (N, T)
        vals, has = self.table[leaves], self.has[leaves]               # (N, T, width)
        if self.aggregate in ("SUM", "AVERAGE"):
            y = vals.sum(axis=1)
            if self.aggregate == "AVERAGE":
                y = y / max(len(self.forest.roots), 1)
        else:
            fill = np.inf if self.aggregate == "MIN" else -np.inf
            red = np.min if self.aggregate == "MIN" else np.max
            y = red(np.where(has, vals, fill), axis=1)
            y = np.where(has.any(axis=1), y, 0.0)
        if self.base is not None:
            y = y + self.base
        return post_transform(y, self.post).astype(np.float32)


@op("TreeEnsembleClassifier", since=1, domain=ML)
class TreeEnsembleClassifier(Op):
    """(label, scores): scores = post_transform(summed class weights + base_values),
    label = classlabels[argmax]; binary single-class ensembles as the module docstring says."""

    def __init__(self, node, *, base_values=None, base_values_as_tensor=None, class_ids=None,
                 class_nodeids=None, class_treeids=None, class_weights=None,
                 class_weights_as_tensor=None, classlabels_int64s=None, classlabels_strings=None,
                 nodes_falsenodeids=None, nodes_featureids=None, nodes_hitrates=None,
                 nodes_hitrates_as_tensor=None, nodes_missing_value_tracks_true=None,
                 nodes_modes=None, nodes_nodeids=None, nodes_treeids=None, nodes_truenodeids=None,
                 nodes_values=None, nodes_values_as_tensor=None, post_transform="NONE"):
        self.node = node
        if post_transform not in POST_TRANSFORMS:
            raise ModelError(node, f"post_transform {post_transform!r} is not known")
        self.post = post_transform
        if classlabels_strings:
            self.labels = np.empty(len(classlabels_strings), dtype=object)
            self.labels[:] = [_text(s) for s in classlabels_strings]
        elif classlabels_int64s:
            self.labels = np.asarray(classlabels_int64s, np.int64)
        else:
            raise ModelError(node, "classlabels_int64s or classlabels_strings is required")
        self.forest = _Forest(node, nodes_treeids, nodes_nodeids, nodes_featureids,
                              _attr(nodes_values, nodes_values_as_tensor), nodes_modes,
                              nodes_truenodeids, nodes_falsenodeids,
                              nodes_missing_value_tracks_true)
        ids = [int(c) for c in (class_ids or [])]
        weights = _attr(class_weights, class_weights_as_tensor) or []
        self.width = len(self.labels)
        self.table, _ = _leaf_table(node, self.forest, class_treeids or [], class_nodeids or [],
                                    ids, weights, self.width)
        base = _attr(base_values, base_values_as_tensor)
        self.base = None if not base else np.asarray(base, np.float64)
        used = set(ids)
        self.binary_class = used.pop() if self.width == 2 and len(used) == 1 else None
        self.all_positive = all(float(w) >= 0 for w in weights)

    def run(self, x):
        x = np.asarray(x)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        if x.ndim != 2:
            raise RuntimeFailure(self.node, f"x has shape {list(x.shape)}; expected (N, F)")
        leaves = self.forest.leaves(self.node, x.astype(np.float64))
        raw = self.table[leaves].sum(axis=1)  # (N, n_classes)
        if self.binary_class is None:
            if self.base is not None:
                raw = raw + self.base
            scores = post_transform(raw, self.post)
            return self.labels[np.argmax(scores, axis=1)], scores.astype(np.float32)
        k = self.binary_class
        s = raw[:, k] + (self.base[k if self.base.size > k else 0] if self.base is not None else 0)
        label = self.labels[(s > (0.5 if self.all_positive else 0.0)).astype(np.int64)]
        if k == 1:
            scores = post_transform(np.stack([np.zeros_like(s), s], axis=1), self.post)
        elif self.post == "LOGISTIC":
            p = post_transform(s, "LOGISTIC")
            scores = np.stack([1.0 - p, p], axis=1)
        elif self.post == "PROBIT":
            scores = post_transform(np.stack([1.0 - s, s], axis=1), "PROBIT")
        else:
            scores = np.stack([(1.0 - s) if self.all_positive else -s, s], axis=1)
        return label, scores.astype(np.float32)
