"""tinyinfer-convert — offline ONNX -> ONNX tools.

    tinyinfer-convert optimize IN -o OUT
    tinyinfer-convert quantize IN -o OUT --calibrate DATA [--format qdq|qoperator] [--per-tensor]
                      [--method minmax|percentile|entropy] [--weights-only] [--bits 8|4] [--dynamic]
                      [--exclude NODE,...] [--auto-exclude K] [--preprocess SPEC]
    tinyinfer-convert prune IN -o OUT --sparsity S [--structured [--calibrate DATA]]
    tinyinfer-convert lowrank IN -o OUT [--rank R | --energy E]
    tinyinfer-convert report IN [OTHER] [--data labelled.npz]

A user error prints one line 'tinyinfer-convert: error: ...' and exits 2.
"""
from __future__ import annotations

import argparse
import os
import sys

from ._common import ConvertError, fmt_size


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyinfer-convert", description="Compress and optimise ONNX models.")
    sub = p.add_subparsers(dest="verb", required=True)

    o = sub.add_parser("optimize", help="fold constants and BatchNorm, fuse into standard ops")
    o.add_argument("model")
    o.add_argument("-o", "--output", required=True)
    o.add_argument("--level", type=int, default=2, choices=(1, 2))

    q = sub.add_parser("quantize", help="post-training quantisation (int8 / int4)")
    q.add_argument("model")
    q.add_argument("-o", "--output", required=True)
    q.add_argument("--calibrate", metavar="DATA", help=".npz of inputs or a folder of images")
    q.add_argument("--preprocess", default="", metavar="SPEC",
                   help="for image folders: size=HxW,mean=M,std=S,scale=1/255,channels=rgb|bgr|gray")
    q.add_argument("--format", default="qdq", choices=("qdq", "qoperator"))
    g = q.add_mutually_exclusive_group()
    g.add_argument("--per-channel", dest="per_channel", action="store_const", const=True, default="auto",
                   help="one weight scale per output channel for every layer (default: per channel only "
                        "where one scale per tensor would lose more than a bit)")
    g.add_argument("--per-tensor", dest="per_channel", action="store_const", const=False)
    q.add_argument("--method", default="minmax", choices=("minmax", "percentile", "entropy"))
    q.add_argument("--weights-only", action="store_true")
    q.add_argument("--dynamic", action="store_true", help="DynamicQuantizeLinear + MatMulInteger")
    q.add_argument("--bits", type=int, default=8, choices=(8, 4))
    q.add_argument("--block-size", type=int, default=32, help="int4 block length (default 32)")
    q.add_argument("--exclude", default="", help="comma-separated node names, output names or op types kept in float")
    q.add_argument("--auto-exclude", type=int, default=0, metavar="K",
                   help="keep the K layers most sensitive to quantisation in float")
    q.add_argument("--limit", type=int, default=None, help="use at most this many calibration samples")
    q.add_argument("--keep-names", action="store_true", help="keep long tensor names (larger file)")

    pr = sub.add_parser("prune", help="magnitude pruning")
    pr.add_argument("model")
    pr.add_argument("-o", "--output", required=True)
    pr.add_argument("--sparsity", type=float, required=True)
    pr.add_argument("--structured", action="store_true", help="remove whole Conv channels")
    pr.add_argument("--calibrate", metavar="DATA", help="with --structured: refit the layers after removed "
                    "channels by least squares on these inputs (.npz or image folder)")

    lr = sub.add_parser("lowrank", help="SVD factorisation of Gemm/MatMul weights and 1x1 convs")
    lr.add_argument("model")
    lr.add_argument("-o", "--output", required=True)
    g = lr.add_mutually_exclusive_group()
    g.add_argument("--rank", type=int)
    g.add_argument("--energy", type=float)

    r = sub.add_parser("report", help="size, parameters, MACs per layer; compare two models")
    r.add_argument("model")
    r.add_argument("other", nargs="?")
    r.add_argument("--data", help="labelled .npz (inputs and 'y') for accuracy")
    r.add_argument("--limit", type=int, default=256)
    return p


def _size_line(src: str, out: str) -> str:
    a, b = os.path.getsize(src), os.path.getsize(out)
    return f"{src} ({fmt_size(a)}) -> {out} ({fmt_size(b)}, {100 * b / a:.1f} %)"


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.verb == "optimize":
            from .optimize import optimize
            from ._common import load
            before = len(load(args.model).graph.node)
            m = optimize(args.model, args.output, level=args.level)
            print(f"{_size_line(args.model, args.output)}; nodes {before} -> {len(m.graph.node)}")
        elif args.verb == "quantize":
            from .quantize import quantize
            quantize(args.model, args.output, args.calibrate, format=args.format,
                     per_channel=args.per_channel, method=args.method, weights_only=args.weights_only,
                     bits=args.bits, dynamic=args.dynamic, block_size=args.block_size,
                     exclude=[s for s in args.exclude.split(",") if s], auto_exclude=args.auto_exclude,
                     preprocess=args.preprocess, limit=args.limit, keep_names=args.keep_names)
            print(_size_line(args.model, args.output))
        elif args.verb == "prune":
            from .prune import prune
            prune(args.model, args.output, sparsity=args.sparsity, structured=args.structured,
                  calibrate=args.calibrate)
            print(_size_line(args.model, args.output))
        elif args.verb == "lowrank":
            from .lowrank import lowrank
            lowrank(args.model, args.output, rank=args.rank, energy=args.energy)
            print(_size_line(args.model, args.output))
        elif args.verb == "report":
            from .report import report
            print(report(args.model, args.other, data=args.data, limit=args.limit))
    except ConvertError as e:
        print(f"tinyinfer-convert: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinyinfer-convert: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # tinyinfer's own errors while running a model are sentences too
        from tinyinfer.errors import TinyInferError
        if isinstance(e, TinyInferError):
            print(f"tinyinfer-convert: error: {e}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
