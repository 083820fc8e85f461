"""tinyinfer batch on a Dask LocalCluster (2 single-threaded worker processes): every input once,
results equal to single-image runs, a corrupt image an error record, a worker killed mid-run."""
import os
import signal

import pytest

pytest.importorskip("distributed")

from tinyinfer import batch  # noqa: E402
from tinyinfer.cli import main  # noqa: E402

from tests.batch.helpers import check_records, make_digits  # noqa: E402


def test_cli_scheduler_local(digits, tmp_path, capsys):
    folder, good = digits
    out = str(tmp_path / "r.jsonl")
    assert main(["batch", "classify", folder, "--out", out, "--scheduler", "local",
                 "--workers", "2", "--chunk-size", "4", "--quiet"]) == 0
    line = capsys.readouterr().out
    assert "(2 workers)" in line and "25 written (1 errors)" in line, line
    records = batch.read_records(out)
    check_records(records, good, os.path.join(folder, "corrupt.png"))
    assert len({r["worker"] for r in records}) == 2  # both workers took chunks


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def test_worker_lost_mid_run(client, tmp_path):
    folder = str(tmp_path / "d")
    good = make_digits(folder, 120, seed=2)
    out = str(tmp_path / "r.jsonl")
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(record):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)  # the nanny restarts it; Dask re-runs its chunks
            killed.append(pids[0])

    s = batch.run("classify", [folder], out, scheduler=client, chunk_size=2, progress=False,
                  on_record=kill_one)
    assert killed and s.written == 121
    check_records(batch.read_records(out), good, os.path.join(folder, "corrupt.png"))
