"""`tinyinfer doctor`: what this machine gives tinyinfer, and what to fix.

    tinyinfer doctor [--json]

Reports the platform (board model when the device tree names it), Python, NumPy/Numba/Pillow
versions, whether the Numba kernels are in use, the kernel cache folder and whether it is
writable, the BLAS library NumPy actually loaded (from /proc/self/maps) and its thread settings,
CPU features (NEON/ASIMD, dotprod, i8mm from the kernel's HWCAP bits, readable under qemu too),
and memory. Then one `warning:` line per problem, each with its fix. Always exits 0: it reports.
Only the standard library and NumPy are imported at module level; Numba, Pillow and threadpoolctl
are looked at lazily, and a broken install shows up as a warning instead of a traceback.
"""
from __future__ import annotations

import json
import os
import platform
import struct
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np

# Linux HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h, arch/arm/include/uapi/asm/hwcap.h)
_HWCAP_A64 = {1: "asimd", 8: "atomics", 9: "fphp", 10: "asimdhp", 20: "asimddp", 23: "asimdfhm"}
_HWCAP2_A64 = {13: "i8mm", 14: "bf16", 1: "sve2"}
_HWCAP_A32 = {12: "neon", 16: "vfpv4", 17: "idiva"}
_CORES = {"0xd03": "Cortex-A53 (Pi 3)", "0xd08": "Cortex-A72 (Pi 4)", "0xd0b": "Cortex-A76 (Pi 5)",
          "0xb76": "ARM1176 (Pi 1/Zero)", "0xc07": "Cortex-A7 (Pi 2)", "0xd04": "Cortex-A35"}


def _read(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\x00", "").strip()
    except OSError:
        return None


def _dist_version(name: str, module: str) -> Optional[str]:
    """Installed version without importing (Debian's python3-* packages ship metadata too)."""
    try:
        from importlib import metadata
        return metadata.version(name)
    except Exception:
        pass
    import importlib.util
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return str(getattr(__import__(module), "__version__", "installed"))
    except Exception as e:  # a broken install
        return f"broken ({type(e).__name__}: {e})"


def _auxv() -> Dict[int, int]:
    """AT_* entries of this process (AT_HWCAP = 16, AT_HWCAP2 = 26)."""
    raw = None
    try:
        with open("/proc/self/auxv", "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    fmt = "QQ" if struct.calcsize("P") == 8 else "II"
    size = struct.calcsize(fmt)
    out = {}
    for i in range(0, len(raw) - size + 1, size):
        k, v = struct.unpack_from(fmt, raw, i)
        if k == 0:
            break
        out[k] = v
    return out


def cpu_features() -> Tuple[str, List[str]]:
    """(CPU description, features that matter for kernels)."""
    machine = platform.machine().lower()
    info = _read("/proc/cpuinfo") or ""
    lines = [ln.split(":", 1) for ln in info.splitlines() if ":" in ln]
    fields: Dict[str, str] = {}
    for k, v in lines:
        fields.setdefault(k.strip().lower(), v.strip())
    desc = fields.get("model name") or fields.get("hardware") or machine
    part = fields.get("cpu part")
    if part in _CORES:
        desc = _CORES[part]
    feats: List[str] = []
    is_arm = machine.startswith(("arm", "aarch64")) or platform.architecture()[0] == "32bit" and "arm" in machine
    if machine.startswith(("aarch64", "arm64")) or machine.startswith("arm"):
        aux = _auxv()
        bits64 = struct.calcsize("P") == 8
        table = _HWCAP_A64 if bits64 else _HWCAP_A32
        feats = [n for b, n in sorted(table.items()) if aux.get(16, 0) >> b & 1]
        if bits64:
            feats += [n for b, n in sorted(_HWCAP2_A64.items()) if aux.get(26, 0) >> b & 1]
        if not feats:  # no auxv: the cpuinfo Features line
            feats = [f for f in fields.get("features", "").split()
                     if f in ("neon", "asimd", "asimddp", "i8mm", "vfpv4", "fphp", "asimdhp")]
    elif not is_arm:
        flags = set(fields.get("flags", "").split())
        feats = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni")
                 if f in flags]
    return desc, feats


def blas_info() -> Tuple[str, str]:
    """(the BLAS shared library NumPy loaded, thread setting)."""
    lib = None
    maps = _read("/proc/self/maps") or ""
    for ln in maps.splitlines():
        path = ln.split()[-1] if ln.split() else ""
        base = os.path.basename(path).lower()
        if any(t in base for t in ("openblas", "libblas", "mkl_rt", "libblis", "accelerate")):
            lib = os.path.realpath(path)
            if "openblas" in base or "mkl" in base or "blis" in base:
                break  # the implementation itself, not the libblas.so.3 alternatives link
    if lib is None:
        try:  # NumPy >= 1.25 describes its build; 1.24 has no dict form: guarded
            cfg = np.show_config(mode="dicts")  # type: ignore[call-arg]
            lib = cfg["Build Dependencies"]["blas"].get("name", "unknown") + " (build info)"
        except Exception:
            lib = "unknown (not a Linux /proc, or statically linked)"
    env = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                            "MKL_NUM_THREADS") if os.environ.get(k)]
    threads = ", ".join(env) if env else "library default"
    try:
        import threadpoolctl
        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            threads = f"{pools[0]['num_threads']} ({pools[0].get('internal_api')}, threadpoolctl)"
    except Exception:
        pass
    return lib, threads


def memory() -> Dict[str, Optional[int]]:
    """Bytes: total, available (MemAvailable), swap total; None where unreadable."""
    out: Dict[str, Optional[int]] = {"total": None, "available": None, "swap": None}
    for ln in (_read("/proc/meminfo") or "").splitlines():
        k, _, v = ln.partition(":")
        key = {"MemTotal": "total", "MemAvailable": "available", "SwapTotal": "swap"}.get(k)
        if key and v.split():
            out[key] = int(v.split()[0]) * 1024
    return out


def _mib(n: Optional[int]) -> str:
    return "unknown" if n is None else f"{n / 2**20:,.0f} MiB"


def collect() -> dict:
    from . import __version__
    from . import kernels

    d: dict = {"tinyinfer": __version__}
    model = _read("/proc/device-tree/model") or _read("/sys/firmware/devicetree/base/model")
    bits = platform.architecture()[0]
    d["platform"] = (f"{platform.system()} {platform.machine()}, {bits} Python"
                     + (f", {model}" if model else ""))
    d["python"] = f"{platform.python_version()} ({sys.executable})"
    d["numpy"] = f"{np.__version__}, np.intp = {np.dtype(np.intp).name}"
    d["numba"] = _dist_version("numba", "numba")
    d["pillow"] = _dist_version("pillow", "PIL") or _dist_version("Pillow", "PIL")
    impl = kernels.impl_choice()
    if impl == "reference":
        d["kernels"] = "off (TINYINFER_IMPL=reference): NumPy reference ops"
    elif d["numba"] and kernels.available():
        d["kernels"] = "Numba kernels in use (compiled on first use, then cached)"
    elif d["numba"]:
        d["kernels"] = "off: numba is installed but does not import; NumPy reference ops"
    else:
        d["kernels"] = "off: numba not installed; NumPy reference ops"
    cache = kernels.cache_dir()
    n_cached = 0
    if cache and os.path.isdir(cache):
        for _root, _dirs, files in os.walk(cache):
            n_cached += sum(f.endswith(".nbi") for f in files)
    d["cache"] = (f"{cache} (writable, {n_cached} kernel index files)" if cache else
                  "none writable: kernels compile at every start")
    d["_cache_ok"], d["_cached"] = cache is not None, n_cached
    d["blas"], d["threads"] = blas_info()
    d["cpus"] = f"{os.cpu_count()} logical" + (
        f", {len(os.sched_getaffinity(0))} usable" if hasattr(os, "sched_getaffinity") else "")
    d["cpu"], feats = cpu_features()
    d["cpu_features"] = " ".join(feats) if feats else "none detected"
    mem = memory()
    d["memory"] = f"{_mib(mem['available'])} available of {_mib(mem['total'])}, swap {_mib(mem['swap'])}"
    d["_mem"] = mem
    d["warnings"] = warnings_for(d, feats)
    return d


def warnings_for(d: dict, feats: List[str]) -> List[str]:
    w = []
    bits64 = struct.calcsize("P") == 8
    major_minor = tuple(int(x) for x in np.__version__.split(".")[:2])
    if major_minor < (1, 24):
        w.append(f"NumPy {np.__version__} is older than tested (1.24): apt install python3-numpy "
                 "from bookworm, or pip install 'numpy>=1.24'")
    if not d["numba"] and bits64:
        w.append("Numba not installed: models run on the NumPy reference path (slower Conv/pooling). "
                 "Fix: sudo apt install python3-numba (or pip install 'tinyinfer[fast]')")
    elif not d["numba"]:
        w.append("32-bit Python without Numba: the NumPy path is used (the tested 32-bit setup). "
                 "For the kernels: 64-bit Raspberry Pi OS + python3-numba (Debian armhf also has "
                 "python3-numba; untested by tinyinfer)")
    elif str(d["numba"]).startswith("broken") or d["kernels"].startswith("off: numba is installed"):
        w.append(f"numba does not import ({d['numba']}): reinstall it matching NumPy "
                 "(apt: python3-numba with python3-numpy; pip: pip install -U numba)")
    if d["numba"] and not d["_cache_ok"]:
        w.append("no writable kernel cache: every start compiles the kernels again. "
                 "Fix: export NUMBA_CACHE_DIR=/a/writable/folder")
    elif d["kernels"].startswith("Numba") and d["_cached"] == 0:
        w.append("kernel cache is empty: the first run of a model compiles its kernels (can take "
                 "minutes on a small board); later starts load them from the cache. Warm it once: "
                 "tinyinfer run MODEL")
    blas = str(d["blas"]).lower()
    if "/blas/libblas" in blas or blas.endswith("libblas.so.3"):
        w.append("NumPy uses the reference BLAS (slow MatMul/Gemm/im2col Conv). "
                 "Fix: sudo apt install libopenblas0-pthread")
    mem = d["_mem"]
    if mem["available"] is not None and mem["available"] < 512 * 2**20:
        w.append(f"only {_mib(mem['available'])} available: check a model's peak with "
                 "`tinyinfer info MODEL --memory`; add swap or use the int8 model")
    m = platform.machine().lower()
    if m.startswith("arm") and bits64 is False and not any(f in feats for f in ("neon", "asimd")) \
            and feats:
        w.append("no NEON reported: NumPy runs scalar code (ARMv6 Pi 1/Zero); expect low speed")
    if m in ("aarch64", "arm64") and not bits64:
        w.append("32-bit Python on a 64-bit kernel: a 64-bit userland gives Numba and faster NumPy")
    if not d["pillow"]:
        w.append("Pillow not installed: image input (demo, ocr) unavailable. "
                 "Fix: sudo apt install python3-pil (or pip install 'tinyinfer[image]')")
    return w


def format_report(d: dict) -> str:
    rows = [("tinyinfer", d["tinyinfer"]), ("platform", d["platform"]), ("python", d["python"]),
            ("numpy", d["numpy"]), ("numba", d["numba"] or "not installed"),
            ("pillow", d["pillow"] or "not installed"), ("kernels", d["kernels"]),
            ("cache dir", d["cache"]), ("blas", d["blas"]), ("blas threads", d["threads"]),
            ("cpus", d["cpus"]), ("cpu", d["cpu"]), ("cpu features", d["cpu_features"]),
            ("memory", d["memory"])]
    out = [f"{k:13s} {v}" for k, v in rows]
    out += [f"warning: {x}" for x in d["warnings"]] or ["no warnings"]
    return "\n".join(out)


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="tinyinfer doctor")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    d = collect()
    if a.json:
        print(json.dumps({k: v for k, v in d.items() if not k.startswith("_")}, indent=1))
    else:
        print(format_report(d))
    return 0
