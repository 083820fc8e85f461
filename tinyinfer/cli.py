"""The `tinyinfer` command (also `python -m tinyinfer`).

    tinyinfer demo                       the bundled default: read images, print what models see
    tinyinfer doctor [--json]            platform, versions, kernels, cache, BLAS, CPU, memory, fixes
    tinyinfer info MODEL                 inputs, outputs, opsets, op histogram, parameters
    tinyinfer run MODEL [--input x=a.npy] [--shape x=1x3x48x192] [--seed 0] [--out out.npz]
    tinyinfer run MODEL --audit-int8     saturation and int32 headroom per integer node (audit.py)
    tinyinfer info MODEL --memory [--shape x=1x3x48x192]     predicted peak of live tensor bytes
    tinyinfer bench MODEL [--shape ..] [--threads N] [--compare onnxruntime|reference] [--runs N]
    tinyinfer profile MODEL [--shape ..] [--runs N]          per-node and per-op-type times, FLOPs
    tinyinfer classify IMAGE... --model MODEL|models/<name> [--top K]   top-k labels with scores
    tinyinfer ocr IMAGE... [--det M|none] [--cls M|none] [--rec M] [--json] [--draw OUT.png]
    tinyinfer batch ocr|classify|run MODEL INPUTS... --out R.jsonl [--workers N] [--scheduler A|local]
    tinyinfer dump MODEL --out BUNDLE.npz | verify MODEL --against onnxruntime|reference|BUNDLE.npz
    tinyinfer explain MODEL --node NAME [--element 0,3,5,7]    (see verify/commands.py)

Every error a user can cause prints one line, `tinyinfer: error: ...`, and exits with status 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

import numpy as np

from .errors import TinyInferError


def cmd_info(args) -> int:
    from .onnx import load_model
    from .summary import format_summary

    model = load_model(args.model)
    print(format_summary(model, args.model))
    if args.memory:
        from . import feeds as fd
        from .memory import format_report, measure
        from .session import InferenceSession

        sess = InferenceSession(model)
        print(format_report(measure(sess, fd.random_feeds(sess, _shapes(args, sess)))))
    return 0


def _shapes(args, sess) -> dict:
    from . import feeds as fd

    shapes = {k: fd.parse_shape(v) for k, v in fd.parse_assignments(args.shape, "--shape").items()}
    names = [a.name for a in sess.get_inputs()]
    for k in shapes:
        if k not in names:
            raise TinyInferError(f"{k!r} is not an input of the model; inputs are {names}")
    return shapes


def cmd_bench(args) -> int:
    from . import feeds as fd
    from .bench import bench, format_bench

    shapes = {k: fd.parse_shape(v) for k, v in fd.parse_assignments(args.shape, "--shape").items()}
    if args.memory:  # each runtime in a process of its own, so each peak RSS is its own
        from .bench import format_memory, memory
        kinds = ("tinyinfer",) + ((args.compare,) if args.compare else ())
        print(format_memory(memory(args.model, shapes, args.threads, kinds, max(1, args.warmup + 1))))
        return 0
    print(format_bench(bench(args.model, shapes, args.threads, args.compare, args.runs, args.warmup,
                             cpu_time=args.cpu_time)))
    return 0


def cmd_profile(args) -> int:
    import json

    from . import feeds as fd
    from .profiling import format_tables
    from .session import InferenceSession, SessionOptions

    opts = SessionOptions(enable_profiling=True, profile_file_prefix=args.prefix)
    sess = InferenceSession(args.model, opts)
    feeds = fd.random_feeds(sess, _shapes(args, sess))
    for _ in range(args.warmup + args.runs):
        sess.run(None, feeds)
    path = sess.end_profiling()
    with open(path) as f:
        print(format_tables(json.load(f), skip_runs=args.warmup))
    print(f"\ntrace      {path} ({args.warmup} warm-up + {args.runs} runs; open in ui.perfetto.dev)")
    return 0


def cmd_run(args) -> int:
    from . import feeds as fd
    from .session import InferenceSession, SessionOptions

    sess = InferenceSession(args.model, SessionOptions(enable_int8_audit=args.audit_int8))
    given = fd.load_feeds(args.input, sess)
    shapes = {k: fd.parse_shape(v) for k, v in fd.parse_assignments(args.shape, "--shape").items()}
    names = [a.name for a in sess.get_inputs()]
    for k in list(shapes) + list(given):
        if k not in names:
            raise TinyInferError(f"{k!r} is not an input of the model; inputs are {names}")
    missing = {a.name for a in sess.get_inputs()} - set(given)
    if missing:
        rnd = fd.random_feeds(sess, shapes, seed=args.seed)
        for k in sorted(missing):
            given[k] = rnd[k]
            print(f"input  {k}: random {rnd[k].dtype} {list(rnd[k].shape)} (seed {args.seed})")
    t0 = time.perf_counter()
    outs = sess.run(None, given)
    dt = time.perf_counter() - t0
    for arg, y in zip(sess.get_outputs(), outs):
        if isinstance(y, np.ndarray) and y.dtype.kind in "fiub" and y.size:
            f = y.astype(np.float64)
            stats = f"min {f.min():.6g}  max {f.max():.6g}  mean {f.mean():.6g}"
        else:
            stats = ""
        shape = list(y.shape) if hasattr(y, "shape") else type(y).__name__
        print(f"output {arg.name}: {getattr(y, 'dtype', '')} {shape}  {stats}".rstrip())
    print(f"time   {dt * 1e3:.1f} ms (one run, including first-call overheads)")
    if args.audit_int8:  # audit.py: saturation and int32 headroom per integer node
        print()
        print(sess.int8_audit().format())
    if args.out:
        np.savez(args.out, **{a.name: y for a, y in zip(sess.get_outputs(), outs)
                             if isinstance(y, np.ndarray)})
        print(f"saved  {args.out}")
    return 0


def cmd_classify(args) -> int:
    from .classify import run

    return run(args)


def cmd_ocr(args) -> int:
    from .ocr.cli import run

    return run(args)


def cmd_batch(args) -> int:
    from .batch.cli import cmd_batch as run

    return run(args)


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo()


def cmd_doctor(args) -> int:
    from .doctor import main as doctor

    return doctor(["--json"] if args.json else [])


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="tinyinfer", description="A small, readable ONNX runtime.")
    p.add_argument("--version", action="version", version=f"tinyinfer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("demo", help="run the bundled demo: read images and print what the models see")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("doctor", help="what this machine gives tinyinfer (versions, kernels, cache, "
                                      "BLAS, CPU features, memory) and warnings with fixes")
    s.add_argument("--json", action="store_true", help="the same facts as JSON")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("info", help="describe a model: I/O, opsets, ops, parameters")
    s.add_argument("model")
    s.add_argument("--memory", action="store_true",
                   help="also the predicted peak of live tensor bytes (measured by one dry run)")
    s.add_argument("--shape", action="append", default=[], metavar="NAME=1x3x224x224",
                   help="input shape for --memory where the declared one has symbolic dims")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("run", help="run a model on inputs from files, or random ones")
    s.add_argument("model")
    s.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy",
                   help="an input from a .npy file (or a .npz holding several); repeatable")
    s.add_argument("--shape", action="append", default=[], metavar="NAME=1x3x224x224",
                   help="shape of a random input whose declared shape has symbolic dims")
    s.add_argument("--seed", type=int, default=0, help="seed for random inputs (default 0)")
    s.add_argument("--out", help="save outputs to this .npz")
    s.add_argument("--audit-int8", action="store_true",
                   help="per integer node: saturated outputs and int32 accumulator headroom; "
                        "flags nodes at risk (slow: recomputes each accumulation)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("bench", help="time a model (median, min, p90, IQR), optionally against "
                                     "another runtime in the same process")
    s.add_argument("model")
    s.add_argument("--shape", action="append", default=[], metavar="NAME=1x3x224x224")
    s.add_argument("--threads", type=int, default=0, help="intra-op threads (default: libraries')")
    s.add_argument("--compare", choices=["onnxruntime", "reference"],
                   help="also time onnxruntime or onnx.reference.ReferenceEvaluator on the same inputs")
    s.add_argument("--runs", type=int, default=10, help="timed runs (default 10)")
    s.add_argument("--warmup", type=int, default=2, help="untimed runs after the cold one (default 2)")
    s.add_argument("--memory", action="store_true",
                   help="peak RSS instead of times: each runtime in a fresh process of its own")
    s.add_argument("--cpu-time", action="store_true",
                   help="time runs by this thread's CPU clock (needs --threads 1): steadier on a "
                        "busy machine")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("profile", help="time every node; tables per node and per op type, and a "
                                       "Chrome trace")
    s.add_argument("model")
    s.add_argument("--shape", action="append", default=[], metavar="NAME=1x3x224x224")
    s.add_argument("--runs", type=int, default=5, help="profiled runs (default 5)")
    s.add_argument("--warmup", type=int, default=1, help="runs left out of the tables (default 1)")
    s.add_argument("--prefix", default="tinyinfer_profile", help="trace file prefix")
    s.set_defaults(func=cmd_profile)

    from .verify.commands import add_subcommands
    add_subcommands(sub)  # dump, verify, explain: verify/commands.py

    s = sub.add_parser("classify", help="top-k labels of images with a classifier (labels from the "
                                        "model metadata), e.g. --model models/digits_mobilenet")
    s.add_argument("images", nargs="+", metavar="IMAGE")
    s.add_argument("--model", required=True, help="an .onnx file or a models/<name> folder")
    s.add_argument("--top", type=int, default=3, help="labels to print per image (default 3)")
    s.set_defaults(func=cmd_classify)

    s = sub.add_parser("ocr", help="read the text in images (PP-OCR detection, direction, recognition)")
    from .ocr.cli import add_arguments
    add_arguments(s)  # IMAGE... --det/--cls/--rec/--decoder/--json/--draw/--compare: ocr/cli.py
    s.set_defaults(func=cmd_ocr)

    s = sub.add_parser("batch", help="run ocr, classify or a model over many files (process pool "
                                     "or Dask cluster); results to JSON Lines")
    from .batch.cli import add_arguments as add_batch
    add_batch(s)  # TASK INPUTS... --out/--workers/--scheduler/--resume: batch/cli.py
    s.set_defaults(func=cmd_batch)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except TinyInferError as e:
        print(f"tinyinfer: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinyinfer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
