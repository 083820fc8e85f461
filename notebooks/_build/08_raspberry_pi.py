# %% [markdown]
# # 08 · Deploying on a Raspberry Pi
#
# **At the end of this notebook you will be able to** decide how to install and run tinyinfer on a
# small ARM board: measure what Numba's kernels buy over plain NumPy, why the *first* process is slow
# and the second is not (the Numba cache), what `intra_op_num_threads` changes, how much RAM a model
# needs at its peak, and how to turn spec-sheet numbers for a Raspberry Pi 4 and 5 into a first
# estimate of their speed. Every measurement runs here, on this machine; the Pi figures at the end are
# **estimates from published specs, not measurements**.
#
# Source files explained here: [tinyinfer/kernels/\_\_init\_\_.py](../tinyinfer/kernels/__init__.py)
# (`TINYINFER_IMPL=reference`, the cache folder), [tinyinfer/threads.py](../tinyinfer/threads.py)
# (`SessionOptions.intra_op_num_threads`), [tinyinfer/memory.py](../tinyinfer/memory.py)
# (`tinyinfer info MODEL --memory`), [tinyinfer/bench.py](../tinyinfer/bench.py) (`tinyinfer bench`)
# and [tinyinfer/profiling.py](../tinyinfer/profiling.py) (FLOPs per node).

# %%
import json, os, subprocess, sys, tempfile, time
import numpy as np
import matplotlib.pyplot as plt
from nbsetup import ROOT, MODELS, ppocr_dir
import tinyinfer
from tinyinfer import kernels

MODEL_SET = {   # name -> (path, input shape): the digits classifier and PP-OCR's cls and rec
    "digits": (os.path.join(MODELS, "digits_mobilenet", "digits_mobilenet.onnx"), (1, 1, 8, 8)),
    "ppocr cls": (os.path.join(ppocr_dir(), "ch_ppocr_mobile_v2.0_cls_infer.onnx"), (1, 3, 48, 192)),
    "ppocr rec": (os.path.join(ppocr_dir(), "ch_PP-OCRv4_rec_infer.onnx"), (1, 3, 48, 320)),
}
print("CPU cores here:", os.cpu_count(), "| Numba kernels available:", kernels.available(),
      "| Numba cache folder:", kernels.cache_dir())

# %% [markdown]
# ## 1. What does this machine give tinyinfer?
# On a fresh board, start with `tinyinfer doctor` (`python -m tinyinfer doctor`): versions, whether
# the Numba kernels load, where their cache lives, the BLAS under NumPy, CPU features, memory — and a
# fix for each warning. (If your checkout predates the command, the cell says so.)

# %%
def tinyinfer_cli(*args, env=None):
    """Run `python -m tinyinfer ARGS` in a child process on this checkout; returns stdout."""
    e = dict(os.environ, PYTHONPATH=ROOT, **(env or {}))
    r = subprocess.run([sys.executable, "-m", "tinyinfer", *args], env=e, capture_output=True, text=True)
    return r.stdout + r.stderr

if os.path.exists(os.path.join(ROOT, "tinyinfer", "doctor.py")):
    print("\n".join(tinyinfer_cli("doctor").splitlines()[:30]))
else:
    print("`tinyinfer doctor` is not in this checkout; kernels.available() and kernels.cache_dir() above "
          "answer the two questions that matter most here.")

# %% [markdown]
# ## 2. NumPy only, or NumPy + Numba?
# tinyinfer's runtime needs only NumPy. With `pip install "tinyinfer[fast]"` it also compiles a few hot
# loops (depthwise and small convolutions, pooling, activations) with Numba. `TINYINFER_IMPL=reference`
# switches the kernels off, so the same checkout shows both. The switch is read when a session prepares
# its ops, so each variant runs in its **own process** — which is also how a Pi service starts.
#
# The child script below times what a user waits for: `import tinyinfer`, loading the model, the
# first run (which picks and compiles kernels), the median of the next runs, and the process's peak RSS.

# %%
CHILD = r'''
import json, resource, sys, time
t0 = time.perf_counter()
import numpy as np, tinyinfer
from tinyinfer import kernels
t1 = time.perf_counter()
sess = tinyinfer.InferenceSession(sys.argv[1])
t2 = time.perf_counter()
x = np.random.default_rng(0).standard_normal([int(s) for s in sys.argv[2].split("x")]).astype(np.float32)
feeds = {sess.get_inputs()[0].name: x}
sess.run(None, feeds)
t3 = time.perf_counter()
runs = []
for _ in range(int(sys.argv[3])):
    a = time.perf_counter(); sess.run(None, feeds); runs.append(time.perf_counter() - a)
try:   # this process's own high-water mark (ru_maxrss would include the parent's, from the fork)
    rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
except OSError:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"numba": kernels.available(), "import": t1 - t0, "load": t2 - t1, "first": t3 - t2,
                  "median": float(np.median(runs)), "min": float(min(runs)), "rss_mb": rss}))
'''

def child(model, runs=7, **env):
    path, shape = MODEL_SET[model]
    e = dict(os.environ, PYTHONPATH=ROOT, **env)
    out = subprocess.run([sys.executable, "-c", CHILD, path, "x".join(map(str, shape)), str(runs)],
                         env=e, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])

impl = {}
for m in MODEL_SET:
    impl[m, "NumPy"] = child(m, TINYINFER_IMPL="reference")
    impl[m, "Numba"] = child(m)       # the default; the user's Numba cache may already be warm
print(f"{'model':10s} {'impl':6s} {'import':>8s} {'load':>8s} {'1st run':>9s} {'median':>9s} {'min':>9s} {'peak RSS':>9s}")
for (m, k), r in impl.items():
    print(f"{m:10s} {k:6s} {r['import']:7.2f}s {r['load']:7.2f}s {r['first']:8.3f}s "
          f"{r['median'] * 1e3:7.2f}ms {r['min'] * 1e3:7.2f}ms {r['rss_mb']:7.0f}MB")

# %%
fig, ax = plt.subplots(figsize=(7, 2.6))
names = list(MODEL_SET)
for j, k in enumerate(("NumPy", "Numba")):
    ax.barh(np.arange(len(names)) + 0.4 * j, [impl[m, k]["min"] * 1e3 for m in names], 0.4, label=k)
ax.set_yticks(np.arange(len(names)) + 0.2, names); ax.set_xscale("log"); ax.invert_yaxis()
ax.set_xlabel("ms per run (best of 7, log scale)"); ax.legend(fontsize=8)
ax.set_title("same model, same checkout: TINYINFER_IMPL=reference vs the default"); plt.tight_layout(); plt.show()

# %% [markdown]
# Read the table with three things in mind. The kernels help most where NumPy is weakest —
# depthwise convolutions and tiny tensors where NumPy's per-call overhead dominates — and little where
# the work is already one big BLAS matrix product (the recogniser's SVTR neck and its 1×1 convolutions).
# Numba also costs memory: importing it and LLVM adds tens of MB to the peak RSS (compare the last
# column), which matters on a 1 GB Pi but not on an 8 GB one. And the first run is slower than the rest in both variants; with Numba it
# also loads (or compiles) the kernels — next section.
#
# ## 3. The Numba cache: the first process pays, the second does not
# Kernels are compiled at `prepare` time (the first run) against fixed signatures and written to an
# on-disk cache: `$NUMBA_CACHE_DIR`, else `~/.cache/tinyinfer/numba-<tinyinfer>-<numba>-py<X.Y>`
# (see `cache_dir()` in [kernels/\_\_init\_\_.py](../tinyinfer/kernels/__init__.py)). To see a *cold*
# start we point `NUMBA_CACHE_DIR` at an empty folder and start two processes one after the other.

# %%
cache = tempfile.mkdtemp(prefix="tinyinfer-numba-")
cold = child("ppocr cls", runs=3, NUMBA_CACHE_DIR=cache)
files = [f for f in os.listdir(cache) if not f.startswith(".")] if os.path.isdir(cache) else []
for root, _, fs in os.walk(cache):
    files += [os.path.join(root, f) for f in fs if root != cache]
warm = child("ppocr cls", runs=3, NUMBA_CACHE_DIR=cache)
size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(cache) for f in fs)
print(f"cache folder after the first process: {size / 1024:.0f} KB in "
      f"{sum(len(fs) for _, _, fs in os.walk(cache))} files")
for label, r in (("cold (empty cache)", cold), ("warm (second process)", warm)):
    print(f"{label:22s} import {r['import']:.2f} s, load {r['load']:.2f} s, first run {r['first']:.2f} s, "
          f"then {r['median'] * 1e3:.0f} ms per run")
fig, ax = plt.subplots(figsize=(7, 1.8))
left = np.zeros(2)
for part in ("import", "load", "first"):
    v = np.array([cold[part], warm[part]]); ax.barh([0, 1], v, left=left, label=part); left += v
ax.set_yticks([0, 1], ["cold", "warm"]); ax.invert_yaxis(); ax.set_xlabel("seconds until the first result")
ax.legend(fontsize=8, ncol=3); ax.set_title("ppocr cls, two processes sharing one NUMBA_CACHE_DIR")
plt.tight_layout(); plt.show()

# %% [markdown]
# The runs after the first are the same speed in both processes; only the start differs. On a Pi,
# where compiling is several times slower than here, three deployment rules follow:
#
# * warm the cache once at install time (run the model once, e.g. `tinyinfer run MODEL --shape ...`),
#   as the user the service runs as — the folder is per user and per tinyinfer/Numba/Python version;
# * on a read-only root filesystem set `NUMBA_CACHE_DIR` to a writable, persistent folder (when
#   nothing is writable tinyinfer compiles without a cache, every start);
# * keep one long-lived process rather than one process per image.
#
# ## 4. Threads
# `SessionOptions.intra_op_num_threads = n` sizes the two pools that do the work: Numba's and the
# BLAS library's under NumPy ([threads.py](../tinyinfer/threads.py)). Unlike onnxruntime they are
# *per process*: the last session created with a non-zero count wins. `bench(..., threads=n)` builds
# its session that way; its `thread_setup` says what was applied.

# %%
from tinyinfer.bench import bench, format_bench
path, shape = MODEL_SET["ppocr rec"]
threads = {}
for n in sorted({1, os.cpu_count() or 1}):
    r = bench(path, shapes={"x": shape}, threads=n, runs=8, warmup=1)
    threads[n] = r.timings[0].stat("min")
    print(f"threads={n}: best {threads[n] * 1e3:6.1f} ms  ({r.thread_setup})")
_ = tinyinfer.threads.set_threads(os.cpu_count() or 1)    # hand the whole machine back to later cells

# %% [markdown]
# Expect less than a linear gain — here it may even be a loss, when other programs share the cores
# (run the cell again and compare): with one image at a time many layers are too small to split, and
# a Python loop drives the ops one by one. On a Pi use all 4 cores for one model, or — for
# throughput on many images — 4 processes with one thread each (`tinyinfer batch ... --workers 4`),
# if the RAM allows 4 copies (next section).
#
# ## 5. Peak RAM: the memory plan
# The plan frees each value after its last reader. [memory.py](../tinyinfer/memory.py) runs the model
# once, records every value's size and lifetime, and finds the step where the live tensors weigh the
# most. Weights are counted apart: they are held all the time.

# %%
from tinyinfer.memory import measure, format_report
sess = tinyinfer.InferenceSession(path)
x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
mem = measure(sess, {"x": x})
print(format_report(mem, top=5))
plt.figure(figsize=(7, 2.2))
plt.plot(np.array(mem.timeline) / 2 ** 20, lw=0.8)
plt.axvline(mem.peak_step, color="r", ls="--", lw=0.8)
plt.xlabel("step (node in run order)"); plt.ylabel("live tensors, MiB")
plt.title(f"ppocr rec on {list(shape)}: peak {mem.peak_bytes / 2 ** 20:.2f} MiB, "
          f"weights {mem.weights_bytes / 2 ** 20:.1f} MiB"); plt.tight_layout(); plt.show()

# %% [markdown]
# The command-line twin, here on the digits model:

# %%
print(tinyinfer_cli("info", MODEL_SET["digits"][0], "--memory", "--shape", "image=1x1x8x8")
      .split("memory ", 1)[-1][:900])

# %% [markdown]
# So the recogniser needs a few MiB of tensors on top of its weights; the process's peak RSS in
# section 2 is much larger, and most of it is Python, NumPy, BLAS buffers and (with Numba) LLVM.
# Budget RAM per process as *RSS of an idle interpreter with tinyinfer imported + weights + the
# planned peak*, and check it with the RSS column above. The peak grows with the input: a rec batch of
# 6 lines 960 pixels wide holds about 6 × 3 = 18 times the tensors of one 320-wide line.
#
# ## 6. A benchmark table
# `bench` (the API of `tinyinfer bench MODEL --shape ... --compare onnxruntime`) alternates the timed
# runs of tinyinfer and onnxruntime, so drift on a busy machine hits both. We also count each model's
# FLOPs from the profiler (a multiply-add counts 2) to get the achieved GFLOP/s.

# %%
from tinyinfer.profiling import node_events

def model_flops(path, shape):
    opts = tinyinfer.SessionOptions(); opts.enable_profiling = True
    opts.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "prof")
    s = tinyinfer.InferenceSession(path, opts)
    s.run(None, {s.get_inputs()[0].name: np.zeros(shape, np.float32)})
    with open(s.end_profiling()) as f:
        return sum(e["args"].get("flops", 0) for e in node_events(json.load(f)))

table = {}
for m, (p, shp) in MODEL_SET.items():
    name = tinyinfer.InferenceSession(p).get_inputs()[0].name
    r = bench(p, shapes={name: shp}, compare="onnxruntime", runs=8, warmup=1)
    table[m] = {"flops": model_flops(p, shp), "tiny": r.timings[0].stat("median"),
                "ort": r.timings[1].stat("median"), "diff": max(r.max_abs_diff.values())}
print(f"{'model':10s} {'MFLOP':>8s} {'tinyinfer':>11s} {'onnxruntime':>12s} {'ratio':>6s} {'GFLOP/s':>8s} {'max|diff|':>10s}")
for m, t in table.items():
    print(f"{m:10s} {t['flops'] / 1e6:8.1f} {t['tiny'] * 1e3:9.2f}ms {t['ort'] * 1e3:10.2f}ms "
          f"{t['tiny'] / t['ort']:6.2f} {t['flops'] / t['tiny'] / 1e9:8.2f} {t['diff']:10.1e}")

# %% [markdown]
# ## 7. What to expect on a Pi 4 and a Pi 5 — estimates from specs, not measurements
# Peak single-precision throughput = cores × clock × FLOPs per cycle per core. A 128-bit NEON
# register holds 4 float32; a fused multiply-add counts 2 FLOPs, so one 128-bit FMA per cycle is
# 8 FLOPs/cycle.
#
# * **Pi 4** (BCM2711): 4 × Cortex-A72 at 1.5 GHz (1.8 GHz on boards since 2020); one 128-bit FMA per
#   cycle → 8 FLOPs/cycle/core.
# * **Pi 5** (BCM2712): 4 × Cortex-A76 at 2.4 GHz; two 128-bit FMA pipes → 16 FLOPs/cycle/core.
#
# These are paper figures from the published core configurations. Real kernels reach a fraction of
# them, and a Pi also has far less memory bandwidth than this machine. To turn them into times, we
# assume a Pi reaches the **same fraction of its peak** that tinyinfer reaches here with all cores —
# a crude assumption, worth only a factor-of-two-or-three estimate.

# %%
pi = {"Pi 4 @1.5 GHz": (4, 1.5, 8), "Pi 4 @1.8 GHz": (4, 1.8, 8), "Pi 5 @2.4 GHz": (4, 2.4, 16)}
peak = {k: c * ghz * f for k, (c, ghz, f) in pi.items()}       # GFLOP/s
for k, (c, ghz, f) in pi.items():
    print(f"{k}: {c} cores × {ghz} GHz × {f} FLOPs/cycle = {peak[k]:6.1f} GFLOP/s peak (estimate from specs)")
print(f"Pi 5 / Pi 4 (1.5 GHz) peak ratio: {peak['Pi 5 @2.4 GHz'] / peak['Pi 4 @1.5 GHz']:.1f}×")

flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
mhz = [float(l.split(":")[1]) for l in flags.splitlines() if l.startswith("cpu MHz")]
here_fpc = 32 if " avx2 " in flags and " fma " in flags else 8      # 2 × 256-bit FMA, or SSE
here_peak = (os.cpu_count() or 1) * (mhz[0] / 1e3 if mhz else 2.5) * here_fpc
print(f"this machine: {os.cpu_count()} cores × {mhz[0] / 1e3 if mhz else 2.5:.2f} GHz × {here_fpc} "
      f"= {here_peak:.0f} GFLOP/s peak (same arithmetic)\n")
print(f"{'model':10s} {'here':>9s} {'% of peak':>9s}" + "".join(f"{k:>15s}" for k in pi))
est = {}
for m, t in table.items():
    frac = t["flops"] / t["tiny"] / 1e9 / here_peak
    est[m] = {k: t["flops"] / (frac * peak[k] * 1e9) for k in pi}
    print(f"{m:10s} {t['tiny'] * 1e3:7.1f}ms {100 * frac:8.2f}%" + "".join(f"{est[m][k] * 1e3:13.1f}ms" for k in pi))

# %%
fig, ax = plt.subplots(figsize=(7, 2.4))
cols = ["here (measured)"] + [f"{k} (estimate)" for k in pi]
for j, col in enumerate(cols):
    v = [table[m]["tiny"] * 1e3 if j == 0 else est[m][list(pi)[j - 1]] * 1e3 for m in MODEL_SET]
    ax.barh(np.arange(3) + 0.2 * j, v, 0.2, label=col, hatch=None if j == 0 else "//")
ax.set_yticks(np.arange(3) + 0.3, list(MODEL_SET)); ax.invert_yaxis(); ax.set_xscale("log")
ax.set_xlabel("ms per run (log)"); ax.legend(fontsize=7, loc="lower right")
ax.set_title("measured here vs estimated from peak FLOP/s (same fraction of peak)"); plt.tight_layout(); plt.show()

# %% [markdown]
# Two caveats make the small models' estimates optimistic: the digits model does almost no
# arithmetic, so its time is Python's per-op overhead, which scales with single-core speed, not with
# FLOP/s (an A72 core is several times slower than this one at running Python). And the fraction of
# peak assumes the same kernels vectorise as well on NEON as they do here. Measure on the board —
# the cells above run unchanged on a Pi with `pip install "tinyinfer[fast]"`, and `tests/pi/` in this
# repository holds the emulated-board checks.
#
# ## Exercises
# Each exercise has an answer cell and a checking cell. The committed notebook holds our solution so
# that it runs green: **replace our solution with yours** and re-run the checking cell.
#
# 1. What is the peak FLOP/s of a Pi 4 at 1.8 GHz *using one core only* (GFLOP/s)?
# 2. From the memory report `mem`, which op type runs at the peak step, and how many tensors are alive?
# 3. From the table of section 2, which model gains the most from the Numba kernels (ratio of the best
#    NumPy-only time to the best Numba time)?

# %%
# --- your answers (replace our solution with yours) ---
pi4_one_core = 1 * 1.8 * 8
peak_op = mem.nodes[mem.peak_step].rsplit("(", 1)[-1].rstrip(")")      # 'node "name" (Op)' -> Op
alive = len(mem.alive_at_peak)
gain = {m: impl[m, "NumPy"]["min"] / impl[m, "Numba"]["min"] for m in MODEL_SET}
most_gain = max(gain, key=gain.get)

# %%
# --- check ---
assert abs(pi4_one_core - peak["Pi 4 @1.8 GHz"] / 4) < 1e-9
assert mem.nodes[mem.peak_step].endswith(f"({peak_op})"), peak_op
from tinyinfer.memory import alive_at
assert alive == len(alive_at(mem, mem.peak_step))
assert gain[most_gain] == max(impl[m, "NumPy"]["min"] / impl[m, "Numba"]["min"] for m in MODEL_SET)
print(f"all checks passed: {pi4_one_core:.1f} GFLOP/s on one Pi 4 core; peak at a {peak_op} step with "
      f"{alive} tensors alive; Numba helps {most_gain} most ({gain[most_gain]:.1f}×)")
