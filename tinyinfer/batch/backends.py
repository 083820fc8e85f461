"""Where the work runs: in this process, a local process pool, or a Dask `distributed` cluster.

Each backend is a generator of records (tasks.process_one's dicts) in completion order; only the
caller writes them. Closing the generator (an interrupted run) stops the workers.

    serial(spec, paths)                       workers = 0: here, one by one (debugging, notebooks)
    pool(spec, paths, workers, chunk)         spawned processes, the spec sent once per worker,
                                              Numba/BLAS threads fixed before NumPy loads in them
    dask(spec, paths, scheduler, workers, chunk, retries)
                                              the spec scattered (broadcast) to every worker once;
                                              chunks of paths through client.map + as_completed;
                                              a failed chunk is split into single inputs and
                                              re-run, so only the input that kills a worker fails
"""
from __future__ import annotations

import contextlib
import math
import os
from typing import Iterator, List

from .tasks import TaskSpec, get_runner, process_chunk, process_one

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")


def serial(spec: TaskSpec, paths: List[str]) -> Iterator[dict]:
    for p in paths:
        yield process_one(spec, p)


# ---------------------------------------------------------------- process pool

_SPEC = None


def _init(spec: TaskSpec) -> None:
    global _SPEC
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _SPEC = spec
    try:
        get_runner(spec)  # load the model now, not on the first input
    except Exception:  # noqa: BLE001 — reported per input by process_one, never kills the pool
        pass


def _one(path: str) -> dict:
    return process_one(_SPEC, path)


@contextlib.contextmanager
def _thread_env(n: int):
    """Children inherit these when spawned: their BLAS and Numba pools start at n threads."""
    old = {k: os.environ.get(k) for k in THREAD_VARS}
    if n > 0:
        os.environ.update({k: str(n) for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pool_chunk(n_items: int, workers: int) -> int:
    """Items sent to a worker at a time: ~8 chunks per worker, at most 32 items each."""
    return max(1, min(32, math.ceil(n_items / (8 * max(1, workers)))))


def pool(spec: TaskSpec, paths: List[str], workers: int, chunk: int = 0) -> Iterator[dict]:
    import multiprocessing as mp

    with _thread_env(int(spec.options.get("threads", 1))):
        p = mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(spec,))
    try:
        yield from p.imap_unordered(_one, paths, chunksize=chunk or pool_chunk(len(paths), workers))
        p.close()
    finally:
        p.terminate()
        p.join()


# ---------------------------------------------------------------- Dask distributed

def dask_chunk(n_items: int, workers: int) -> int:
    return max(1, min(64, math.ceil(n_items / (4 * max(1, workers)))))


def connect(scheduler: str, workers: int):
    """(client, cluster or None, description). 'local' starts a LocalCluster of `workers`
    single-threaded processes; anything else is a scheduler address (tcp://host:8786)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        from ..errors import InputError

        raise InputError("--scheduler needs Dask: pip install 'tinyinfer[cluster]' "
                         "(dask[distributed])") from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler, timeout="30s")
    n = len(client.scheduler_info()["workers"])
    return client, cluster, f"dask {client.scheduler.address} ({n} workers)"


def dask(spec: TaskSpec, paths: List[str], scheduler, workers: int, chunk: int = 0,
         retries: int = 2, describe=None) -> Iterator[dict]:
    """`scheduler`: an address, 'local', or a dask.distributed.Client to use (not closed)."""
    from dask.distributed import as_completed

    if hasattr(scheduler, "submit"):
        client, cluster, own = scheduler, None, False
        text = f"dask {client.scheduler.address} ({len(client.scheduler_info()['workers'])} workers)"
    else:
        client, cluster, text = connect(scheduler, workers)
        own = True
    if describe is not None:
        describe(text)
    futures = []
    try:
        n = max(1, len(client.scheduler_info()["workers"]))
        size = chunk or dask_chunk(len(paths), n)
        spec_f = client.scatter(spec, broadcast=True, hash=False)   # model bytes: once per worker
        chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
        futures = client.map(process_chunk, chunks, spec=spec_f, retries=retries, pure=False)
        items = {f.key: c for f, c in zip(futures, chunks)}
        done = as_completed(futures)
        for f in done:
            try:
                recs = f.result()
            except Exception as e:  # noqa: BLE001 — KilledWorker, or a failure outside process_one
                group = items.pop(f.key)
                if len(group) > 1:  # find the input responsible: each one on its own
                    more = client.map(process_chunk, [[p] for p in group], spec=spec_f,
                                      retries=0, pure=False)
                    items.update({g.key: [p] for g, p in zip(more, group)})
                    futures += more
                    done.update(more)
                else:
                    yield {"path": group[0], "result": None, "timings": {},
                           "error": f"{type(e).__name__}: {str(e).strip()[:300]}", "worker": None}
                continue
            items.pop(f.key, None)
            f.release()
            yield from recs
    finally:
        for f in futures:
            f.cancel()
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
