"""Every notebook in notebooks/ runs top to bottom without an error (DESIGN.md §3.12).

Each notebook is executed in memory (the committed file is not touched) with nbclient and the
python3 kernel, with notebooks/ as the working directory, as notebooks/_build/build.py does when
it stores the outputs. Skipped when nbclient/ipykernel are not installed (`pip install -e ".[dev]"`).
"""
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NB_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(glob.glob(os.path.join(NB_DIR, "[0-9][0-9]_*.ipynb")))
CELL_TIMEOUT = 300


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": NB_DIR}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:  # names the cell and the traceback
        pytest.fail(f"{os.path.basename(path)}: a cell failed\n{e}", pytrace=False)


def test_notebooks_exist_and_are_small():
    assert len(NOTEBOOKS) >= 1
    total = sum(os.path.getsize(p) for p in NOTEBOOKS)
    assert total < 4 * 2 ** 20, f"notebooks hold {total / 2 ** 20:.1f} MB; keep figures small"
