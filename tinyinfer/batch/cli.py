"""`tinyinfer batch TASK INPUTS... --out RESULTS.jsonl` (parser and command; see __init__.run).

    tinyinfer batch classify scans/ --out digits.jsonl [--model M.onnx] [--workers 2]
    tinyinfer batch ocr 'forms/**/*.png' --out forms.jsonl --scheduler tcp://pi-0:8786
    tinyinfer batch run model.onnx arrays/ --out y.jsonl --resume
"""
from __future__ import annotations

import argparse

from ..errors import InputError


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("task", choices=["classify", "ocr", "run"],
                   help="classify (digits model or --model), ocr, or run MODEL (.npy/.npz inputs)")
    s.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="files, folders (walked) or globs; for `run`, the model comes first")
    s.add_argument("--out", required=True, metavar="RESULTS.jsonl",
                   help="JSON Lines: one record per input (path, result, timings, error)")
    s.add_argument("--workers", type=int, default=None,
                   help="processes (default: CPU cores; 0 = in this process); with "
                        "--scheduler local, the LocalCluster size")
    s.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run on a Dask distributed cluster (tcp://host:8786), or 'local' to start "
                        "a LocalCluster; needs the `cluster` extra")
    s.add_argument("--resume", action="store_true", help="skip inputs already in RESULTS")
    s.add_argument("--overwrite", action="store_true", help="replace an existing RESULTS")
    s.add_argument("--model", help="classify: the classifier (default: bundled digits model)")
    s.add_argument("--threads", type=int, default=None,
                   help="Numba/BLAS threads per worker (default: cores // workers; 1 on Dask)")
    s.add_argument("--chunk-size", type=int, default=0, help="inputs per work item (default: auto)")
    s.add_argument("--retries", type=int, default=2, help="Dask: retries of a failed chunk")
    s.add_argument("--top", type=int, default=5, help="classify: classes kept per input")
    for k in ("det", "cls", "rec"):
        s.add_argument(f"--{k}", metavar="MODEL|none", help=f"ocr: the {k} model")
    s.add_argument("--quiet", action="store_true", help="no progress line")


def cmd_batch(args) -> int:
    from . import run

    inputs, model = list(args.inputs), args.model
    if args.task == "run":
        if len(inputs) < 2:
            raise InputError("usage: tinyinfer batch run MODEL INPUTS... --out RESULTS.jsonl")
        model = inputs.pop(0)
    s = run(args.task, inputs, args.out, model=model, workers=args.workers,
            scheduler=args.scheduler, resume=args.resume, overwrite=args.overwrite,
            threads=args.threads, chunk_size=args.chunk_size, retries=args.retries,
            progress=not args.quiet, top=args.top,
            ocr_models={"det": args.det, "cls": args.cls, "rec": args.rec})
    print(s.line())
    return 0
