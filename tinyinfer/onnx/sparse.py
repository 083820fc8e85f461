"""SparseTensorProto → dense array.

    values:  (NNZ,)                      the non-default elements
    indices: (NNZ,) linear indices       or (NNZ, rank) coordinates
    dims:    the dense shape; every other element is zero
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError


def densify(values: np.ndarray, indices: np.ndarray, dims, what: str) -> np.ndarray:
    if any(d < 0 for d in dims):
        raise ModelError(f"{what}: negative dimension in sparse dims {list(dims)}")
    size = math.prod(dims)
    nnz = values.shape[0]
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim == 2:
        if idx.shape != (nnz, len(dims)):
            raise ModelError(f"{what}: sparse indices of shape {idx.shape} do not fit "
                             f"{nnz} values in rank {len(dims)}")
        if np.any(idx < 0) or np.any(idx >= np.array(dims, dtype=np.int64)):
            raise ModelError(f"{what}: sparse index out of range for dims {list(dims)}")
        linear = np.ravel_multi_index(tuple(idx.T), dims) if nnz else idx[:, 0]
    else:
        linear = idx.reshape(-1)
        if linear.size != nnz:
            raise ModelError(f"{what}: {linear.size} sparse indices for {nnz} values")
        if np.any(linear < 0) or np.any(linear >= max(size, 1)) or (size == 0 and nnz):
            raise ModelError(f"{what}: sparse index out of range for {size} elements")
    out = np.zeros(size, dtype=values.dtype)
    out[linear] = values
    return out.reshape(dims)
