"""Batch inference over many files: a local process pool, or a Dask `distributed` cluster.

    from tinyinfer import batch
    s = batch.run("classify", ["scans/"], "out.jsonl", workers=2)     # the bundled digits model
    s = batch.run("ocr", "forms/*.png", "forms.jsonl", scheduler="tcp://pi-0:8786")
    s = batch.run("run", ["x/"], "y.jsonl", model="m.onnx", resume=True)
    print(s.rate, s.errors);  batch.read_records("out.jsonl")

One JSON Lines record per input, written by this process as soon as it arrives:
    {"path": "/abs/a.png", "result": {...} | null, "timings": {"read", "infer", "total"},
     "error": null | "InputError: image ... is damaged", "worker": "host:pid"}
With out=None the records are kept in memory instead (Summary.records). Dask is imported only when
`scheduler` is given (extra `cluster`).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Union

from ..errors import InputError
from . import backends
from .progress import Progress
from .records import Writer, expand_inputs, read_done, read_records
from .tasks import ARRAY_EXTS, IMAGE_EXTS, TASKS, make_spec

__all__ = ["run", "Summary", "read_records", "expand_inputs", "TASKS"]


@dataclass
class Summary:
    task: str
    backend: str                 # "in-process", "pool of 2 workers x 1 thread", "dask tcp://... (2 workers)"
    inputs: int                  # inputs found
    skipped: int                 # already in the results file (resume)
    written: int = 0             # records written by this run
    errors: int = 0              # of which error records
    seconds: float = 0.0         # wall time of the run, start-up included
    startup: float = 0.0         # until the first record arrived
    stopped: bool = False        # on_record returned False, or interrupted
    out: Optional[str] = None
    records: List[dict] = field(default_factory=list)   # only when out is None

    @property
    def rate(self) -> float:
        """Inputs per second over the whole run, start-up included."""
        return self.written / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_rate(self) -> float:
        """Inputs per second after the first record (start-up and model loading excluded)."""
        t = self.seconds - self.startup
        return (self.written - 1) / t if self.written > 1 and t > 0 else self.rate

    def line(self) -> str:
        return (f"batch {self.task}: {self.inputs} inputs, {self.written} written "
                f"({self.errors} errors), {self.skipped} skipped (already done); "
                f"{self.seconds:.2f} s: {self.rate:.1f} images/s overall, "
                f"{self.steady_rate:.1f} images/s after {self.startup:.2f} s start-up; {self.backend}")


def run(task: str, inputs: Union[str, Sequence[str]], out: Optional[str] = None, *,
        model: Optional[str] = None, workers: Optional[int] = None, scheduler=None,
        resume: bool = False, overwrite: bool = False, threads: Optional[int] = None,
        chunk_size: int = 0, retries: int = 2, progress: bool = True, top: int = 5,
        ocr_models: Optional[Dict[str, Optional[str]]] = None,
        on_record: Optional[Callable[[dict], Optional[bool]]] = None) -> Summary:
    """Run `task` ('classify', 'ocr' or 'run') on every input file and write one record each.

    inputs     files, folders (walked for image files, or .npy/.npz for 'run') and globs
    model      classify: an image classifier (default: the bundled digits model); run: required
    workers    processes (default: CPU cores); 0 runs here, one by one; with scheduler='local'
               the LocalCluster size
    scheduler  None (local pool), 'local' (a Dask LocalCluster), 'tcp://host:8786', or a Client
    resume     skip inputs that already have a record in `out`; without it an existing `out`
               is an error unless overwrite=True
    threads    Numba/BLAS threads per worker (default: cores // workers; 1 on Dask)
    on_record  called with each record after it is written; returning False stops the run
    """
    if task not in TASKS:
        raise InputError(f"unknown batch task {task!r}; tasks are {', '.join(TASKS)}")
    cores = os.cpu_count() or 1
    workers = cores if workers is None else int(workers)
    if workers < 0:
        raise InputError(f"workers must be >= 0; got {workers}")
    if threads is None:
        threads = 1 if scheduler is not None else (0 if workers == 0 else max(1, cores // workers))
    paths = expand_inputs([inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs),
                          ARRAY_EXTS if task == "run" else IMAGE_EXTS)
    done = set()
    if out is not None:
        if os.path.exists(out) and not (resume or overwrite):
            raise InputError(f"results file {out!r} exists; --resume continues it, "
                             "--overwrite replaces it")
        done = read_done(out) if resume else set()
    todo = [p for p in paths if p not in done]
    summary = Summary(task, "", len(paths), len(paths) - len(todo), out=out)
    spec = make_spec(task, model, threads=threads, top=top, ocr_models=ocr_models)

    def describe(text):
        summary.backend = text

    if scheduler is not None:
        gen = backends.dask(spec, todo, scheduler, workers or cores, chunk_size, retries, describe)
    elif workers == 0 or not todo:
        summary.backend = "in-process"
        gen = backends.serial(spec, todo)
    else:
        summary.backend = f"pool of {workers} workers x {threads} thread{'s' * (threads != 1)}"
        gen = backends.pool(spec, todo, workers, chunk_size)
    writer = Writer(out, append=resume) if out is not None else None
    bar = Progress(len(todo), enabled=progress)
    seen = set()
    t0 = time.perf_counter()
    try:
        for rec in gen:
            if rec["path"] in seen:  # a chunk re-run by the scheduler: keep the first record
                continue
            seen.add(rec["path"])
            if writer is not None:
                writer.write(rec)
            else:
                summary.records.append(rec)
            if not summary.written:
                summary.startup = time.perf_counter() - t0
            summary.written += 1
            summary.errors += rec["error"] is not None
            bar.update(rec["error"] is not None)
            if on_record is not None and on_record(rec) is False:
                summary.stopped = True
                break
    except KeyboardInterrupt:
        summary.stopped = True
        bar.close()
        print(f"tinyinfer batch: interrupted after {summary.written} records"
              + (f"; continue with --resume (results in {out})" if out else ""), file=sys.stderr)
        raise
    finally:
        gen.close()
        if writer is not None:
            writer.close()
        summary.seconds = time.perf_counter() - t0
    bar.close()
    return summary
