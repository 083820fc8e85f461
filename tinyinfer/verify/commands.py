"""`tinyinfer dump`, `tinyinfer verify` and `tinyinfer explain` (parsers and commands).

    tinyinfer dump MODEL [--inputs FILE|DIR] --out BUNDLE.npz      every value + the inputs
    tinyinfer dump MODEL --out DIR                                  test_data_set_0/*.pb
    tinyinfer dump MODEL --runtime onnxruntime --out BUNDLE.npz     the same, from another runtime
    tinyinfer verify MODEL --against onnxruntime|reference|BUNDLE.npz [--inputs FILE|DIR]
                     [--rtol R --atol A] [--json] [--all]           exit 0: agreement, 1: divergence
    tinyinfer explain MODEL --node NAME [--inputs FILE] [--element 0,3,5,7]
"""
from __future__ import annotations

import json
import sys

from ..errors import InputError


def _common(s, inputs_help: str) -> None:
    s.add_argument("model")
    s.add_argument("--inputs", metavar="FILE|DIR", help=inputs_help)
    s.add_argument("--shape", action="append", default=[], metavar="NAME=1x3x48x192",
                   help="shape of a random input whose declared shape has symbolic dims")
    s.add_argument("--seed", type=int, default=0, help="seed for random inputs (default 0)")


INPUTS = ("inputs from an .npz (keys = input names), .npy, .pb, a test_data_set folder, or an "
          "image; random (seeded) when omitted")


def add_subcommands(sub) -> None:
    s = sub.add_parser("dump", help="save every intermediate tensor (keyed by value name) and the "
                                    "inputs, for comparing another runtime later")
    _common(s, INPUTS)
    s.add_argument("--out", required=True, metavar="BUNDLE.npz|DIR",
                   help="an .npz bundle of every value, or a folder for ONNX test data "
                        "(test_data_set_0/input_*.pb, output_*.pb)")
    s.add_argument("--runtime", default="tinyinfer", choices=["tinyinfer", "onnxruntime", "reference"],
                   help="which runtime computes the values (default tinyinfer)")
    s.set_defaults(func=cmd_dump)

    s = sub.add_parser("verify", help="compare every tensor with another runtime and name the "
                                      "first node that diverges")
    _common(s, INPUTS + "; with a bundle, the bundle's inputs")
    s.add_argument("--against", required=True, metavar="onnxruntime|reference|BUNDLE.npz")
    s.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance (default 1e-3)")
    s.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance (default 1e-4)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--all", action="store_true", help="also list Constant nodes that agree")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("explain", help="a node's formula with its real attributes and shapes; "
                                       "optionally trace one output element to its inputs")
    _common(s, INPUTS)
    s.add_argument("--node", required=True, help="node name (or the name of one of its outputs)")
    s.add_argument("--element", metavar="0,3,5,7", help="trace this output element")
    s.set_defaults(func=cmd_explain)


def _session_and_feeds(args, session=None):
    from .. import feeds as fd
    from .bundle import load_inputs
    from .core import plain_session

    sess = session or plain_session(args.model)
    shapes = {k: fd.parse_shape(v) for k, v in fd.parse_assignments(args.shape, "--shape").items()}
    names = [a.name for a in sess.get_inputs()]
    for k in shapes:
        if k not in names:
            raise InputError(f"{k!r} is not an input of the model; inputs are {names}")
    feeds = load_inputs(args.inputs, sess, shapes) if args.inputs else None
    if feeds is not None:
        missing = [n for n in names if n not in feeds]
        if missing:
            raise InputError(f"{args.inputs!r} gives no value for input {missing[0]!r}")
    return sess, shapes, feeds


def cmd_dump(args) -> int:
    from .bundle import save_bundle, write_test_data
    from .core import _random_run
    from .others import other_values

    sess, shapes, feeds = _session_and_feeds(args)
    if feeds is None:
        feeds, values, note = _random_run(sess, shapes, args.seed)
        print(f"inputs   {note}")
    else:
        values = sess.run(None, feeds, capture="all")[1]
    if args.runtime != "tinyinfer":
        values = other_values(args.runtime, sess.model.path, feeds)
    outputs = [a.name for a in sess.get_outputs()]
    if args.out.lower().endswith(".npz"):
        meta = {"producer": args.runtime, "model": sess.model.path, "inputs": list(feeds),
                "outputs": outputs}
        n = save_bundle(args.out, {**values, **feeds}, meta)
        print(f"saved    {args.out}: {n} tensors (inputs, every intermediate, outputs) from "
              f"{args.runtime}")
    else:
        where = write_test_data(args.out, feeds, {n: values[n] for n in outputs if n in values})
        print(f"saved    {where}: {len(feeds)} input(s), {len(outputs)} output(s) as .pb")
    return 0


def cmd_verify(args) -> int:
    from .core import verify
    from .report import format_report, to_json

    sess, shapes, feeds = _session_and_feeds(args)
    report = verify(args.model, args.against, feeds, args.rtol, args.atol, args.seed, shapes,
                    session=sess)
    print(to_json(report) if args.json else format_report(report, args.all))
    return 0 if report["first_divergence"] is None else 1


def cmd_explain(args) -> int:
    from .capture import find_step
    from .core import _random_run
    from .explain import explain_node

    sess, shapes, feeds = _session_and_feeds(args)
    i = find_step(sess._plan, args.node)
    step = sess._plan.steps[i]
    if feeds is None:
        feeds, _, note = _random_run(sess, shapes, args.seed)
        print(f"inputs: {note}")
    values = dict(sess._plan.initializers)
    values.update(sess.run(None, feeds, capture="all", until=step.node.name or args.node)[1])
    element = None
    if args.element:
        try:
            element = [int(v) for v in args.element.replace("x", ",").split(",") if v.strip()]
        except ValueError:
            raise InputError(f"--element {args.element!r} must be indices like 0,3,5,7") from None
    print(explain_node(sess, step, values, element))
    return 0
