"""`tinyinfer bench`: time a model, optionally side by side with another runtime in this process.

    report = bench(path, shapes={"x": (1, 3, 640, 640)}, threads=1, compare="onnxruntime")
    print(format_bench(report))

Per runtime: load time, the first (cold) run, `warmup` more untimed runs, then `runs` timed runs
summarised as median, min, p90 and IQR (p75 - p25). With a comparison the timed runs alternate
(tinyinfer, other, tinyinfer, ...) so slow drift on a busy machine hits both alike; the ratio is
tinyinfer / other on the medians. Both runtimes see the same random inputs; the max abs difference
of every output is printed. onnxruntime and onnx are imported here, lazily, only when asked for.
Peak RSS is the process high-water mark (getrusage): the runtimes share the process, so the figure
after the second runtime covers both.

    report = memory(path, shapes, threads=1, runtimes=("tinyinfer", "onnxruntime"))
    print(format_memory(report))      # `tinyinfer bench MODEL --memory [--compare onnxruntime]`

measures each runtime in its own fresh Python process (`python -m tinyinfer.bench`, this file):
the peak RSS after its imports, and after loading the model and running it `runs` times.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from . import feeds as fd
from .errors import InputError

COMPARE = ("onnxruntime", "reference")


@dataclass
class Timing:
    name: str
    load: float = 0.0
    cold: float = 0.0
    runs: List[float] = field(default_factory=list)
    rss: Optional[int] = None           # peak RSS in bytes after this runtime ran (high-water)

    def stat(self, what: str) -> float:
        t = np.asarray(self.runs)
        return {"median": np.median(t), "min": t.min(), "p90": np.percentile(t, 90),
                "iqr": np.percentile(t, 75) - np.percentile(t, 25)}[what]


@dataclass
class BenchReport:
    model: str
    inputs: Dict[str, np.ndarray]
    threads: int
    thread_setup: Dict[str, str]
    warmup: int
    timings: List[Timing]
    max_abs_diff: Dict[str, float] = field(default_factory=dict)
    rss_before: Optional[int] = None
    clock: str = "wall clock"


def peak_rss() -> Optional[int]:
    """The process's peak resident set size in bytes, or None where `resource` is missing."""
    try:
        import resource
        import sys
    except ImportError:  # Windows
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb if sys.platform == "darwin" else kb * 1024  # macOS reports bytes, Linux KiB


def _timed(fn: Callable, clock: Callable = time.perf_counter) -> float:
    t0 = clock()
    fn()
    return clock() - t0


def _other(kind: str, path: str, threads: int):
    """Load the other runtime; returns (load seconds, run(feeds) -> list of outputs)."""
    t0 = time.perf_counter()
    if kind == "onnxruntime":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = max(threads, 0)
        so.inter_op_num_threads = 1 if threads > 0 else 0
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        run = lambda feeds: sess.run(None, feeds)  # noqa: E731
    elif kind == "reference":
        from onnx.reference import ReferenceEvaluator

        ref = ReferenceEvaluator(path)
        run = lambda feeds: ref.run(None, feeds)  # noqa: E731
    else:
        raise InputError(f"--compare must be one of {', '.join(COMPARE)}, got {kind!r}")
    return time.perf_counter() - t0, run


def bench(path: str, shapes: Dict[str, tuple] = None, threads: int = 0, compare: str = None,
          runs: int = 10, warmup: int = 2, seed: int = 0, cpu_time: bool = False) -> BenchReport:
    """cpu_time: time the runs with this thread's CPU clock (time.thread_time) instead of the
    wall clock, so time slices lost to other processes on a busy machine are not counted; with
    one thread every runtime computes in the calling thread, so it needs threads == 1."""
    from .session import InferenceSession, SessionOptions

    if runs < 1 or warmup < 0:
        raise InputError(f"--runs must be at least 1 and --warmup at least 0 (got {runs}, {warmup})")
    if cpu_time and threads != 1:
        raise InputError("--cpu-time needs --threads 1: other threads' CPU time would not be counted")
    clock = time.thread_time if cpu_time else time.perf_counter
    rss0 = peak_rss()
    opts = SessionOptions()
    opts.intra_op_num_threads = threads
    t0 = time.perf_counter()
    sess = InferenceSession(path, opts)
    mine = Timing("tinyinfer", load=time.perf_counter() - t0)
    names = [a.name for a in sess.get_inputs()]
    for k in shapes or {}:
        if k not in names:
            raise InputError(f"{k!r} is not an input of the model; inputs are {names}")
    feeds = fd.random_feeds(sess, shapes or {}, seed=seed)
    out = []
    mine.cold = _timed(lambda: out.append(sess.run(None, feeds)))
    for _ in range(warmup):
        sess.run(None, feeds)
    timings = [mine]
    other_run = None
    if compare:
        mine.rss = peak_rss()  # before the other runtime loads: tinyinfer's own high-water
        load, other_run = _other(compare, path, threads)
        other = Timing(compare, load=load)
        other.cold = _timed(lambda: out.append(other_run(dict(feeds))))
        for _ in range(warmup):
            other_run(dict(feeds))
        timings.append(other)
    for _ in range(runs):  # interleaved when comparing
        mine.runs.append(_timed(lambda: sess.run(None, feeds), clock))
        if other_run is not None:
            other.runs.append(_timed(lambda: other_run(dict(feeds)), clock))
    timings[-1].rss = peak_rss()
    report = BenchReport(path, feeds, threads, sess.threads, warmup, timings, rss_before=rss0,
                         clock="timed runs by this thread's CPU time; load and first run by the "
                               "wall clock" if cpu_time else "wall clock")
    if compare:
        for arg, a, b in zip(sess.get_outputs(), out[0], out[1]):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                report.max_abs_diff[arg.name] = float("nan")
            elif a.dtype.kind in "fiub" and a.size:
                report.max_abs_diff[arg.name] = float(np.max(np.abs(a.astype(np.float64) - b)))
            else:
                report.max_abs_diff[arg.name] = float(not np.array_equal(a, b))
    return report


def _ms(s: float) -> str:
    return f"{s * 1e3:10.2f} ms"


def _mb(b: Optional[int]) -> str:
    return "n/a" if b is None else f"{b / 2 ** 20:.0f} MB"


def format_bench(r: BenchReport) -> str:
    ins = ", ".join(f"{k} {v.dtype} {list(v.shape)}" for k, v in r.inputs.items())
    t = r.timings
    lines = [f"model      {r.model}",
             f"inputs     {ins} (random)",
             f"threads    {r.threads or 'default'} (tinyinfer: numba {r.thread_setup['numba']}, "
             f"BLAS {r.thread_setup['blas']})",
             f"runs       {len(t[0].runs)} timed after 1 cold + {r.warmup} warm-up"
             + (", interleaved" if len(t) > 1 else "") + f" ({r.clock})",
             "",
             f"{'':18s}" + "".join(f"{x.name:>14s}" for x in t) + ("     ratio" if len(t) > 1 else "")]
    rows = [("load", lambda x: x.load), ("first run (cold)", lambda x: x.cold)]
    rows += [(w, lambda x, w=w: x.stat(w)) for w in ("median", "min", "p90", "iqr")]
    for label, get in rows:
        vals = [get(x) for x in t]
        ratio = f"{vals[0] / vals[1]:10.2f}" if len(t) > 1 and vals[1] > 0 and label != "iqr" else ""
        lines.append(f"{label:18s}" + "".join(_ms(v) for v in vals) + ratio)
    lines.append("")
    if len(t) > 1:
        lines.append(f"ratio      tinyinfer/{t[1].name} = {t[0].stat('median') / t[1].stat('median'):.2f} "
                     "(medians; above 1 means tinyinfer is slower)")
        for name, d in r.max_abs_diff.items():
            lines.append(f"max |diff| {name}: {d:.3g}")
        lines.append(f"peak RSS   {_mb(r.rss_before)} before loading, {_mb(t[0].rss)} after tinyinfer, "
                     f"{_mb(t[1].rss)} after {t[1].name} too (one process: a high-water mark)")
    else:
        lines.append(f"peak RSS   {_mb(r.rss_before)} before loading, {_mb(t[0].rss)} after tinyinfer")
    return "\n".join(lines)


# ---------------------------------------------------------------- peak memory, one process each

MEMORY_RUNTIMES = ("tinyinfer", "onnxruntime")
_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
           "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
           "tensor(bool)": np.bool_, "tensor(float16)": np.float16}


@dataclass
class MemoryReport:
    model: str
    threads: int
    runs: int
    rows: List[dict]  # per runtime: name, rss_imported, rss_peak (bytes), run_s (median seconds)


def _own_peak_rss() -> Optional[int]:
    """This process's own high-water RSS: VmHWM where /proc exists (ru_maxrss of a child starts
    at its parent's peak on Linux, which would count the parent's memory), else peak_rss()."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return peak_rss()


def _child(kind: str, path: str, threads: int, shapes: Dict[str, tuple], runs: int) -> dict:
    """Runs in the child process: import one runtime, load, run; the peaks are this process's."""
    if kind == "tinyinfer":
        from . import kernels
        from .session import InferenceSession, SessionOptions
        kernels.available()  # imports Numba (when installed and allowed), as a load would
        imported = _own_peak_rss()
        opts = SessionOptions()
        opts.intra_op_num_threads = threads
        sess = InferenceSession(path, opts)
        feeds = fd.random_feeds(sess, shapes, seed=0)
        run = lambda: sess.run(None, feeds)  # noqa: E731
    elif kind == "onnxruntime":
        import onnxruntime as ort
        imported = _own_peak_rss()
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(threads, 0)
        so.inter_op_num_threads = 1 if threads > 0 else 0
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feeds = {}
        for a in sess.get_inputs():
            shape = shapes.get(a.name) or tuple(d if isinstance(d, int) and d > 0 else 1
                                                for d in a.shape)
            feeds[a.name] = rng.random(shape).astype(_DTYPES.get(a.type, np.float32))
        run = lambda: sess.run(None, feeds)  # noqa: E731
    else:
        raise InputError(f"--memory measures {', '.join(MEMORY_RUNTIMES)}, got {kind!r}")
    times = [_timed(run) for _ in range(max(1, runs))]
    return {"name": kind, "rss_imported": imported, "rss_peak": _own_peak_rss(),
            "run_s": float(np.median(times))}


def memory(path: str, shapes: Dict[str, tuple] = None, threads: int = 0,
           runtimes=MEMORY_RUNTIMES, runs: int = 3) -> MemoryReport:
    """Peak RSS of each runtime in a fresh process of its own (nothing else imported)."""
    import json
    import os
    import subprocess
    import sys

    rows = []
    for kind in runtimes:
        arg = json.dumps({"kind": kind, "path": os.path.abspath(path), "threads": threads,
                          "shapes": {k: list(v) for k, v in (shapes or {}).items()}, "runs": runs})
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # this tinyinfer
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        if threads > 0:  # BLAS pools size themselves at import, before any option is read
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(var, str(threads))
        proc = subprocess.run([sys.executable, "-m", "tinyinfer.bench", arg], env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode
            raise InputError(f"measuring the memory of {kind} on {path} failed: {last}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return MemoryReport(path, threads, runs, rows)


def format_memory(r: MemoryReport) -> str:
    lines = [f"model      {r.model}",
             f"threads    {r.threads or 'default'}; each runtime in its own process, "
             f"{r.runs} run(s) after loading",
             "",
             f"{'':14s}{'after imports':>15s}{'peak':>10s}{'peak - imports':>16s}{'run (median)':>14s}"]
    for row in r.rows:
        a, p = row["rss_imported"], row["rss_peak"]
        lines.append(f"{row['name']:14s}{_mb(a):>15s}{_mb(p):>10s}"
                     f"{_mb(None if a is None or p is None else p - a):>16s}"
                     f"{row['run_s'] * 1e3:11.1f} ms")
    if len(r.rows) == 2 and all(x["rss_peak"] for x in r.rows):
        lines.append("")
        lines.append(f"peak RSS   {r.rows[0]['name']}/{r.rows[1]['name']} = "
                     f"{r.rows[0]['rss_peak'] / r.rows[1]['rss_peak']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":  # the child of memory(): one runtime, its peaks as one JSON line
    import json
    import sys

    _a = json.loads(sys.argv[1])
    print(json.dumps(_child(_a["kind"], _a["path"], int(_a["threads"]),
                            {k: tuple(v) for k, v in _a["shapes"].items()}, int(_a["runs"]))))
