"""NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.

    NLL(input: (N, C, d...), target: (N, d...) int, weight?: (C,))
        loss[n, d] = -input[n, target[n, d], d] * w[n, d],   w = weight[target] (1 without weight),
                     and w = 0 where target == ignore_index
        reduction 'none' -> (N, d...);  'sum' -> sum(loss);  'mean' -> sum(loss) / sum(w)
    SoftmaxCrossEntropyLoss(scores, labels, weights?) = NLL(log_softmax(scores, axis=1), labels)
        second output (optional): log_prob = log_softmax(scores, axis=1), shape of scores
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op

REDUCTIONS = ("none", "sum", "mean")


class _Loss(Op):
    def __init__(self, node, *, ignore_index=None, reduction: str = "mean"):
        reduction = reduction.decode() if isinstance(reduction, bytes) else reduction
        if reduction not in REDUCTIONS:
            raise ModelError(node, f"reduction={reduction!r} must be one of {list(REDUCTIONS)}")
        self.node, self.ignore_index, self.reduction = node, ignore_index, reduction

    def nll(self, logp, target, weight):
        """logp: (N, C, d...) float64, target: (N, d...) -> loss in float64 (reduced)."""
        node = self.node
        if logp.ndim < 2:
            raise RuntimeFailure(node, f"input must be (N, C, d...); got shape {list(logp.shape)}")
        n, c = logp.shape[:2]
        if target.shape != (n, *logp.shape[2:]):
            raise RuntimeFailure(node, f"target shape {list(target.shape)} must be "
                                       f"{[n, *logp.shape[2:]]} for input shape {list(logp.shape)}")
        if target.dtype.kind not in "iu":
            raise RuntimeFailure(node, f"target must hold integers; got {target.dtype}")
        t = target.astype(np.int64)
        ignored = np.zeros(t.shape, bool) if self.ignore_index is None else t == self.ignore_index
        bad = ~ignored & ((t < 0) | (t >= c))
        if bad.any():
            raise RuntimeFailure(node, f"target value {int(t[bad][0])} is outside the {c} classes "
                                       f"and is not ignore_index={self.ignore_index}")
        safe = np.where(ignored, 0, t)
        picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]   # (N, d...)
        if weight is None:
            w = np.where(ignored, 0.0, 1.0)
        else:
            if weight.shape != (c,):
                raise RuntimeFailure(node, f"weight must have shape [{c}]; got {list(weight.shape)}")
            w = np.where(ignored, 0.0, weight.astype(np.float64)[safe])
        loss = -picked * w
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return np.asarray(loss.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(loss.sum() / w.sum())


@op("NegativeLogLikelihoodLoss", since=12)
class NegativeLogLikelihoodLoss(_Loss):
    """NegativeLogLikelihoodLoss(input, target, weight?) -> loss."""

    def run(self, x, target, weight=None):
        return self.nll(x.astype(np.float64), target, weight).astype(x.dtype)


@op("SoftmaxCrossEntropyLoss", since=12)
class SoftmaxCrossEntropyLoss(_Loss):
    """SoftmaxCrossEntropyLoss(scores, labels, weights?) -> (loss, log_prob?)."""

    def run(self, scores, labels, weights=None):
        if scores.ndim < 2:
            raise RuntimeFailure(self.node, f"scores must be (N, C, d...); got {list(scores.shape)}")
        s = scores.astype(np.float64)
        m = s.max(axis=1, keepdims=True)
        logp = s - m - np.log(np.exp(s - m).sum(axis=1, keepdims=True))
        loss = self.nll(logp, labels, weights).astype(scores.dtype)
        if len(self.node.outputs) > 1:
            return loss, logp.astype(scores.dtype)
        return loss
