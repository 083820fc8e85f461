"""Build the teaching notebooks from their sources and execute them, storing the outputs.

    python notebooks/_build/build.py            # every notebooks/_build/NN_*.py
    python notebooks/_build/build.py 03 05      # only these

Each source is a plain Python file in the "percent" format: a line `# %%` starts a code cell,
`# %% [markdown]` a markdown cell whose lines are written as `# text`. The notebook is written
next to this folder (notebooks/NN_name.ipynb), executed with nbclient in notebooks/ (the same way
tests/test_notebooks.py executes it) and saved with its outputs.
"""
from __future__ import annotations

import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))
NB_DIR = os.path.dirname(HERE)


def parse(path: str) -> nbformat.NotebookNode:
    cells, kind, lines = [], None, []

    def flush():
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in text.split("\n"))
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code" and text.strip():
            cells.append(nbformat.v4.new_code_cell(text))

    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("# %%"):
                flush()
                kind, lines = ("markdown" if "[markdown]" in line else "code"), []
            elif kind is not None:
                lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build(src: str) -> float:
    name = os.path.splitext(os.path.basename(src))[0] + ".ipynb"
    nb = parse(src)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": NB_DIR}}).execute()
    dt = time.perf_counter() - t0
    for i, c in enumerate(nb.cells):   # stable ids keep diffs small between rebuilds
        c["id"] = f"c{i:02d}"
        if c.cell_type == "code":
            c["metadata"] = {}
    nbformat.write(nb, os.path.join(NB_DIR, name))
    size = os.path.getsize(os.path.join(NB_DIR, name))
    print(f"{name}: {dt:.1f} s, {size / 1024:.0f} KB")
    return dt


if __name__ == "__main__":
    want = sys.argv[1:]
    for src in sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py"))):
        if not want or os.path.basename(src)[:2] in want:
            build(src)
