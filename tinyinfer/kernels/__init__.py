"""Numba hot loops, plugged in over the NumPy reference ops (DESIGN.md §3.1).

    available()            Numba importable and TINYINFER_IMPL != "reference"
    get("dwconv2d_f32_nchw")   the compiled kernel (compiled once, from the on-disk cache if any)
    set_threads(n)         Numba's threads and the BLAS pool (SessionOptions.intra_op_num_threads)
    cache_dir()            where compiled kernels are cached, or None (no cache)

Kernels are named `<op>_<dtype>_<variant>` and live in one module per op family
(`conv2d_f32_dw` -> kernels/conv2d_f32.py). A kernel module defines the plain Python function
and `SIGNATURES = {name: "void(float32[:, :, ::1], ...)"}`; compiling eagerly against that
signature at `prepare` time means a kernel never compiles mid-run, and any failure to load a
stale or corrupt cache file is caught here and retried without the cache.
Kernels take plain arrays and an explicit `out`, raise nothing, and trust the indices the op
validated before calling them: Numba does not check bounds (tests re-run with NUMBA_BOUNDSCHECK=1).

Cache directory: $NUMBA_CACHE_DIR when set, else a per-user, version-keyed folder
(~/.cache/tinyinfer/numba-<tinyinfer>-<numba>-py<X.Y>-<hash of the kernel sources>, or under
$XDG_CACHE_HOME); when nothing is writable, kernels are compiled without a cache.
"""
from __future__ import annotations

import importlib
import os
import sys
import tempfile
import threading
import warnings
from typing import Callable, Dict, Optional

_lock = threading.Lock()
_kernels: Dict[str, Callable] = {}
_numba = None          # the module, once imported
_numba_ok: Optional[bool] = None
_cache: Optional[str] = None
_cache_checked = False
_threads = 0

# kernel name prefix -> module that defines it
_MODULES = {
    "dwconv2d_f32": "conv2d_f32",
    "conv2d_f32": "conv2d_f32",
    "pool2d_f32": "pool2d_f32",
    "convtranspose2d_f32": "conv_transpose2d_f32",
    "resize2d_f32": "resize2d_f32",
    "act_f32": "elementwise_f32",
    "batchnorm_f32": "elementwise_f32",
    "conv2d_f32_im2col": "conv2d_f32",
    "qgemm_s16": "qgemm_int8",
    "qconv2d": "qgemm_int8",
    "qlookup": "qlookup_int8",
    "qlookup2": "qlookup_int8",
    "qquant": "qlookup_int8",
}


def impl_choice() -> str:
    return os.environ.get("TINYINFER_IMPL", "").strip().lower()


def _version(dist: str) -> str:
    try:
        from importlib import metadata
        return metadata.version(dist)
    except Exception:
        return "unknown"


def _writable(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe", delete=True):
            pass
        return True
    except OSError:
        return False


def _sources_digest() -> str:
    """8 hex digits of a hash over this folder's kernel sources. Numba checks a cached kernel
    against its own file only, not the helpers it inlines from other modules (act_row from
    elementwise_f32.py into conv2d_f32.py's kernels), so an edited helper would load stale
    machine code; a folder per version of the sources cannot."""
    import hashlib
    h = hashlib.sha1()
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        for name in sorted(os.listdir(here)):
            if name.endswith(".py"):
                with open(os.path.join(here, name), "rb") as f:
                    h.update(name.encode() + b"\0" + f.read())
    except OSError:
        return "nosrc"
    return h.hexdigest()[:8]


def cache_dir() -> Optional[str]:
    """The Numba cache folder to use, or None when nothing is writable (then: no cache)."""
    global _cache, _cache_checked
    if _cache_checked:
        return _cache
    _cache_checked = True
    from .. import __version__ as tv
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    if explicit:
        candidates = [explicit]
    else:
        key = (f"numba-{tv}-{_version('numba')}-py{sys.version_info[0]}.{sys.version_info[1]}"
               f"-{_sources_digest()}")
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        user = os.environ.get("USER") or str(getattr(os, "getuid", lambda: "user")())
        candidates = [os.path.join(base, "tinyinfer", key),
                      os.path.join(tempfile.gettempdir(), f"tinyinfer-{user}", key)]
    for c in candidates:
        if _writable(c):
            _cache = c
            break
    return _cache


def _import_numba():
    """Import numba once (with NUMBA_CACHE_DIR pointing at our folder); None when absent."""
    global _numba, _numba_ok
    if _numba_ok is None:
        d = cache_dir()
        if d and not os.environ.get("NUMBA_CACHE_DIR"):
            os.environ["NUMBA_CACHE_DIR"] = d  # read by numba when it is first imported
        try:
            import numba
            _numba, _numba_ok = numba, True
            _import_arraymath_without_scipy()
            _keep_freed_tensors()
            if d:
                numba.config.CACHE_DIR = d
        except Exception:  # ImportError, or a broken install (llvmlite mismatch ...)
            _numba, _numba_ok = None, False
    return _numba


MALLOC_MMAP_BYTES = 32 << 20   # glibc's own upper bound for its dynamic threshold
MALLOC_TRIM_BYTES = 128 << 20


def _keep_freed_tensors() -> None:
    """Let glibc reuse freed tensor memory instead of unmapping it (Linux/glibc only).

    glibc serves large blocks with mmap and unmaps them on free, so every run of a model pays
    page faults for its big tensors again (PP-OCRv4 det: ~5,700 faults, ~10 % of a run). With
    blocks up to 32 MB taken from the heap and up to 128 MB of free heap kept, the next run
    reuses them; the peak RSS stays what it was (measured with `tinyinfer bench --memory`).
    Process-wide, like onnxruntime's arena; TINYINFER_MALLOC=default leaves malloc alone.
    """
    if os.environ.get("TINYINFER_MALLOC", "").strip().lower() == "default":
        return
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import platform
        if platform.libc_ver()[0] != "glibc":
            return
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, MALLOC_MMAP_BYTES)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, MALLOC_TRIM_BYTES)  # M_TRIM_THRESHOLD
    except Exception:  # no libc symbol, a sandbox without ctypes: keep the defaults
        pass


def _import_arraymath_without_scipy() -> None:
    """Import numba.np.arraymath with scipy.linalg hidden (saves ~0.45 s of every start).

    Numba's CPU target imports numba.np.arraymath before its first compile or cache load, and
    that module probes BLAS once by importing scipy.linalg.cython_blas, which pulls in all of
    scipy.linalg. The probe only decides whether Numba's own np.convolve/np.correlate call BLAS
    (without it they use a plain loop); our kernels use neither. np.dot and friends still find
    scipy when a jitted function needs them, since the module is hidden only for this import.
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg.cython_blas" in sys.modules:
        return
    sys.modules["scipy.linalg.cython_blas"] = None  # makes `import scipy.linalg.cython_blas` fail
    try:
        import numba.np.arraymath  # noqa: F401
    except Exception:
        pass
    finally:
        if sys.modules.get("scipy.linalg.cython_blas", 0) is None:
            del sys.modules["scipy.linalg.cython_blas"]


def available() -> bool:
    """True when kernels may be used: Numba importable and TINYINFER_IMPL is not 'reference'."""
    if impl_choice() == "reference":
        return False
    return _import_numba() is not None


def _compile(pyfunc, signature, cache: bool):
    numba = _numba
    disp = numba.njit(signature, cache=cache, nogil=True, fastmath=False, error_model="numpy")(pyfunc)
    return disp


_helpers: Dict[int, Callable] = {}
_HELPER_NAMES = ("apply_act", "_tap_range", "_sigmoid", "act_row", "_dw3x3_row")


def _jit_helpers(mod) -> None:
    """Swap a kernel module's plain helper functions for jitted ones (resolved at compile time)."""
    for h in _HELPER_NAMES:
        f = mod.__dict__.get(h)
        if f is None or hasattr(f, "py_func"):
            continue
        j = _helpers.get(id(f))
        if j is None:
            j = _helpers[id(f)] = _numba.njit(inline="always", cache=False)(f)
        setattr(mod, h, j)


def get(name: str) -> Optional[Callable]:
    """The compiled kernel `name`, or None when kernels are unavailable or it fails to build."""
    fn = _kernels.get(name)
    if fn is not None:
        return fn
    if not available():
        return None
    with _lock:
        fn = _kernels.get(name)
        if fn is not None:
            return fn
        mod_name = next((m for p, m in _MODULES.items() if name.startswith(p + "_")), None)
        if mod_name is None:
            raise KeyError(f"no kernel module registered for {name!r}")
        mod = importlib.import_module(f"{__name__}.{mod_name}")
        _jit_helpers(importlib.import_module(f"{__name__}.elementwise_f32"))  # apply_act's own
        _jit_helpers(mod)
        pyfunc = getattr(mod, name)
        sig = mod.SIGNATURES[name]
        fn = None
        if cache_dir() is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn = _compile(pyfunc, sig, cache=True)
            except Exception:  # stale/corrupt cache file, unwritable folder: compile afresh
                fn = None
        if fn is None:
            try:
                fn = _compile(pyfunc, sig, cache=False)
            except Exception:
                return None  # the reference keeps working
        _kernels[name] = fn
        return fn


def set_threads(n: int) -> None:
    """Use n threads in Numba kernels and the BLAS pool (n <= 0: leave the library default)."""
    global _threads
    n = int(n or 0)
    if n <= 0 or n == _threads:
        return
    _threads = n
    if available():
        try:
            _numba.set_num_threads(max(1, min(n, _numba.config.NUMBA_NUM_THREADS)))
        except Exception:
            pass
    try:
        import threadpoolctl  # optional: the portable way to size OpenBLAS/MKL pools
        threadpoolctl.threadpool_limits(n, user_api="blas")
    except Exception:
        pass
