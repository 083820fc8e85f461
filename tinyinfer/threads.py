"""SessionOptions.intra_op_num_threads → the thread pools tinyinfer's kernels actually use.

    set_threads(1)  ->  {"numba": "1", "blas": "1 (threadpoolctl)"}

Two pools do the work: Numba's (parallel kernels, only when numba is already imported) and the BLAS
library under NumPy (matmul, and the im2col Conv built on it). Both are per process, not per
session as in onnxruntime: the last session created with a non-zero count wins. If numba is not
imported yet, NUMBA_NUM_THREADS is set instead, which also caps its pool for the whole process.

Limitation: the BLAS pool can be resized at run time only through `threadpoolctl` (optional, not a
dependency of the runtime). Without it, NumPy's BLAS keeps the size it chose when NumPy loaded;
set OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS before starting Python instead.
"""
from __future__ import annotations

import os
import sys
from typing import Dict

_blas_limit = None  # keep threadpoolctl's limiter alive so the limit is not restored


def set_threads(n: int) -> Dict[str, str]:
    """Apply n > 0 to both pools; n <= 0 leaves the libraries' defaults. Says what happened."""
    global _blas_limit
    done = {"numba": "default", "blas": "default"}
    if n is None or n <= 0:
        return done
    numba = sys.modules.get("numba")
    if numba is None:  # numba reads this when it loads; it then caps the pool for the process
        os.environ["NUMBA_NUM_THREADS"] = str(n)
        done["numba"] = f"{n} (NUMBA_NUM_THREADS, for when numba loads)"
    else:
        top = int(numba.config.NUMBA_NUM_THREADS)
        numba.set_num_threads(min(n, top))
        done["numba"] = str(min(n, top)) + (f" (capped at NUMBA_NUM_THREADS={top})" if n > top else "")
    try:
        import threadpoolctl
    except ImportError:
        done["blas"] = "unchanged (threadpoolctl not installed; set OMP_NUM_THREADS before start)"
        return done
    _blas_limit = threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    done["blas"] = f"{n} (threadpoolctl)"
    return done
