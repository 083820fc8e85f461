"""Fuzz the protobuf reader, the loader and small graphs with mutated ONNX models.

    python -m tests.fuzz.fuzz_reader --seconds 1800          # coverage-guided (atheris/libFuzzer)
    python -m tests.fuzz.fuzz_reader --seconds 60 --mutate   # no atheris: seeded random mutation

Seeds: the small models of the onnx package's backend node tests when onnx is installed, plus
tests/fuzz/seeds/. Each input is loaded, checked, planned and run once (tests/fuzz/target.py);
a TinyInferError is a correct answer, anything else is written to --findings (input + traceback)
and the run goes on. libFuzzer's own report (executions, `cov:` edges) follows the run; the last
line printed is `FUZZ SUMMARY executions=... findings=...`.
"""
from __future__ import annotations

import argparse
import glob
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LEN = 16384


def seeds() -> list:
    """Seed models as bytes: tests/fuzz/seeds/, then the onnx package's test models if present."""
    out = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(HERE, "seeds", "*.onnx")))]
    try:
        import onnx
        from onnx.backend.test.loader import load_node_model_tests
    except ImportError:
        return out
    data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    out += [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(data, "*", "*", "model.onnx")))]
    out += [c.model.SerializeToString() for c in load_node_model_tests()]
    return [s for s in out if len(s) <= MAX_LEN]


def mutate(rng: random.Random, data: bytes, seeds: list) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:                      # flip a bit
            b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:                    # a boundary byte value
            b[min(i, len(b) - 1)] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x12])
        elif op == 2:                          # insert a long varint or a huge length
            b[i:i] = rng.choice([b"\xff" * rng.randint(1, 12), b"\x0a\xff\xff\xff\xff\x0f",
                                 b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"])
        elif op == 3 and b:                    # delete a run
            del b[i:i + rng.randint(1, 16)]
        elif op == 4 and b:                    # duplicate a run (repeated fields)
            j = min(i + rng.randint(1, 64), len(b))
            b[i:i] = b[i:j] * rng.randint(1, 8)
        elif op == 5:                          # splice from another seed
            other = rng.choice(seeds)
            j = rng.randrange(len(other) + 1)
            b[i:] = other[j:j + rng.randint(1, 256)] + b[i:]
        elif op == 6 and b:                    # truncate
            del b[i:]
    return bytes(b[:MAX_LEN])


def signature(e):
    from .target import signature as sig
    return sig(e)


def run_mutation(seconds: float, findings, seed: int = 0, seeds_=seeds) -> int:
    from .target import run_one
    seeds = seeds_()
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    n = 0
    for s in seeds:  # every seed must load cleanly (or with a TinyInferError) first
        _guarded(run_one, s, findings)
        n += 1
    while time.monotonic() < end:
        _guarded(run_one, mutate(rng, rng.choice(seeds), seeds), findings)
        n += 1
    return n


def _guarded(run_one, data, findings) -> None:
    try:
        run_one(data)
    except Exception as e:  # noqa: BLE001 - a finding, kept and reported
        if findings.record(data, e):
            print(f"FINDING {signature(e)}: {type(e).__name__}: {str(e)[:200]}", flush=True)


def run_atheris(seconds: float, findings, corpus: str) -> None:
    import atheris
    with atheris.instrument_imports(include=["tinyinfer"]):
        import tinyinfer  # noqa: F401
        from tinyinfer import registry
        registry._load_ops()
        from .target import run_one
    os.makedirs(corpus, exist_ok=True)
    if not os.listdir(corpus):
        for i, data in enumerate(seeds()):
            with open(os.path.join(corpus, f"seed{i:05d}"), "wb") as dst:
                dst.write(data)
    state = {"n": 0, "t0": time.time()}

    def one(data: bytes) -> None:
        state["n"] += 1
        _guarded(run_one, data, findings)

    import atexit
    atexit.register(lambda: _summary(state["n"], findings, time.time() - state["t0"]))
    argv = [sys.argv[0], corpus, f"-max_total_time={int(seconds)}", f"-max_len={MAX_LEN}",
            "-timeout=10", "-rss_limit_mb=3072", "-print_final_stats=1"]
    atheris.Setup(argv, one)
    atheris.Fuzz()


def _summary(n, findings, seconds) -> None:
    print(f"FUZZ SUMMARY executions={n} seconds={seconds:.0f} findings={len(findings.seen)} "
          f"{sorted(findings.seen)}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--mutate", action="store_true", help="plain random mutation, no atheris")
    ap.add_argument("--corpus", default=os.path.join(HERE, ".corpus"))
    ap.add_argument("--findings", default=os.path.join(HERE, ".findings"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import warnings
    warnings.simplefilter("ignore")  # NumPy's RuntimeWarnings on garbage data are expected
    from .target import Findings
    findings = Findings(args.findings)
    try:
        import atheris  # noqa: F401
        have_atheris = True
    except ImportError:
        have_atheris = False
    if have_atheris and not args.mutate:
        run_atheris(args.seconds, findings, args.corpus)  # exits when the time is up
        return 0
    t0 = time.time()
    n = run_mutation(args.seconds, findings, args.seed)
    _summary(n, findings, time.time() - t0)
    return 1 if findings.seen else 0


if __name__ == "__main__":
    sys.exit(main())
