"""TfIdfVectorizer — count the pool's n-grams (with skips) in each row of tokens.

    x: (C,) or (B, C) of int32/int64/string   ->   y: (O,) or (B, O) float32, O = max(ngram_indexes)+1
    count[i] = number of (n-gram with skip s) in the row equal to pool n-gram k, ngram_indexes[k] = i
    an n-gram with skip s takes tokens t, t+(s+1), ..., t+(n-1)(s+1); min_gram_length <= n <=
    max_gram_length, 0 <= s <= max_skip_count; unigrams are counted once (skips do not apply).
    mode TF: y = count;  IDF: y = weight * (count > 0);  TFIDF: y = weight * count
    (weight = weights[i], or 1 when no weights are given).

The pool lists all 1-grams, then all 2-grams, ...; ngram_counts[n-1] is where the n-grams start.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError, RuntimeFailure
from ..registry import Op, op


@op("TfIdfVectorizer", since=9)
class TfIdfVectorizer(Op):
    """y = n-gram counts (TF), presence (IDF) or weighted counts (TFIDF); see the module docstring."""

    def __init__(self, node, *, max_gram_length, max_skip_count, min_gram_length, mode,
                 ngram_counts, ngram_indexes, pool_int64s=None, pool_strings=None, weights=None):
        self.node = node
        self.min_n, self.max_n = int(min_gram_length), int(max_gram_length)
        self.max_skip = int(max_skip_count)
        if not 1 <= self.min_n <= self.max_n or self.max_skip < 0:
            raise ModelError(node, f"need 1 <= min_gram_length ({min_gram_length}) <= "
                                   f"max_gram_length ({max_gram_length}) and max_skip_count >= 0")
        if mode not in ("TF", "IDF", "TFIDF"):
            raise ModelError(node, f"mode must be TF, IDF or TFIDF, not {mode!r}")
        self.mode = mode
        if (pool_int64s is None) == (pool_strings is None):
            raise ModelError(node, "exactly one of pool_int64s and pool_strings must be given")
        self.strings = pool_strings is not None
        pool = list(pool_strings) if self.strings else [int(v) for v in pool_int64s]
        if self.strings:
            pool = [p.decode("utf-8") if isinstance(p, bytes) else p for p in pool]
        indexes = [int(i) for i in ngram_indexes]
        if not indexes or min(indexes) < 0:
            raise ModelError(node, "ngram_indexes must be a non-empty list of non-negative indices")
        self.size = max(indexes) + 1
        self.weights = None if not weights else np.asarray(weights, np.float32)
        if self.weights is not None and len(self.weights) < self.size:
            raise ModelError(node, f"weights has {len(self.weights)} values; expected {self.size}")
        self.grams = {}  # tuple of tokens -> output index
        starts = [int(c) for c in ngram_counts] + [len(pool)]
        k = 0
        for i in range(len(starts) - 1):
            n, lo, hi = i + 1, starts[i], starts[i + 1]
            if lo > hi or (hi - lo) % n:
                raise ModelError(node, f"ngram_counts={list(ngram_counts)} does not split a pool "
                                       f"of {len(pool)} tokens into whole {n}-grams")
            for j in range(lo, hi, n):
                if k >= len(indexes):
                    raise ModelError(node, "ngram_indexes has fewer entries than the pool has "
                                           "n-grams")
                self.grams[tuple(pool[j:j + n])] = indexes[k]
                k += 1

    def _count_row(self, row, out):
        c = len(row)
        for skip in range(1, self.max_skip + 2):
            first_n = self.min_n if skip == 1 else max(self.min_n, 2)
            for start in range(c):
                for n in range(first_n, self.max_n + 1):
                    last = start + (n - 1) * skip
                    if last >= c:
                        break
                    idx = self.grams.get(tuple(row[start:last + 1:skip]))
                    if idx is not None:
                        out[idx] += 1

    def run(self, x):
        x = np.asarray(x)
        if x.ndim > 2 or (x.ndim == 2 and x.shape[0] < 1):
            raise RuntimeFailure(self.node, f"x has shape {list(x.shape)}; expected (C,) or (B, C)")
        is_str = x.dtype.kind in "OUS"
        if is_str != self.strings:
            raise RuntimeFailure(self.node, f"x holds {x.dtype} but the pool holds "
                                            f"{'strings' if self.strings else 'integers'}")
        rows = x.reshape(1, -1) if x.ndim < 2 else x
        counts = np.zeros((rows.shape[0], self.size), np.float32)
        for b in range(rows.shape[0]):
            row = [str(v) for v in rows[b]] if is_str else [int(v) for v in rows[b]]
            self._count_row(row, counts[b])
        w = self.weights[: self.size] if self.weights is not None else None
        if self.mode == "IDF":
            counts = (counts > 0).astype(np.float32) * (w if w is not None else 1)
        elif self.mode == "TFIDF" and w is not None:
            counts = counts * w
        return counts.astype(np.float32).reshape(-1) if x.ndim < 2 else counts.astype(np.float32)
