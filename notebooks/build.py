"""Build the teaching notebooks: each jupytext "percent" script ``NN_name.py`` is executed top to
bottom and written as ``NN_name.ipynb`` with its outputs (pictures included), so GitHub shows them.

    python notebooks/build.py             # every notebooks/[0-9]*.py
    python notebooks/build.py 02 04       # only the notebooks whose names start with these
    python notebooks/build.py --check     # execute, write nothing (a cell error fails)
    python notebooks/build.py --copy-to notebooks/yours   # copies to run and edit (`make notebook`)

The ``.py`` file is the source; the ``.ipynb`` is generated, so edit the ``.py`` and rebuild.
The kernel is this interpreter (a kernelspec made in a temporary folder), so the notebooks run
against the dagrad installed in the current virtual environment. The tests
(``tests/test_notebooks.py``) use ``execute`` from here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
KERNEL = "dagrad-python3"
# What the written .ipynb says about its kernel: the ordinary name, so Jupyter opens it anywhere.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def sources(prefixes: list[str] | None = None) -> list[Path]:
    """The notebook scripts, ``notebooks/[0-9]*.py`` in order (optionally only those with a prefix)."""
    paths = sorted(HERE.glob("[0-9]*.py"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in prefixes)]
    return paths


def read(path: Path) -> nbformat.NotebookNode:
    """The notebook of a percent script, with stable cell ids and clean metadata."""
    nb = jupytext.read(path)
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC)})
    for i, cell in enumerate(nb.cells):
        cell.id = f"{path.stem[:2]}-{i:03d}"  # stable ids: rebuilding gives the same file
        cell.metadata = nbformat.from_dict({})
    return nb


def _kernel_manager(spec_dir: Path) -> KernelManager:
    """A kernel that runs this very interpreter, whatever kernelspecs the machine has installed."""
    kernel_dir = spec_dir / KERNEL
    kernel_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv += ["--colors=nocolor", "--log-level=ERROR"]  # plain-text tracebacks, no start-up chatter
    spec = {"argv": argv, "display_name": "dagrad (this venv)", "language": "python"}
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelManager(
        kernel_name=KERNEL,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir)]),
        connection_file=str(spec_dir / "connection.json"),  # in the temporary folder, not ~/.local
        # Unix sockets in that folder: parallel kernels (pytest -n) cannot race for TCP ports
        transport="ipc" if os.name == "posix" else "tcp",
    )


def execute(path: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run a notebook script top to bottom in a fresh kernel; a cell error raises CellExecutionError.

    ``timeout`` is per cell, in seconds. The working directory is ``notebooks/``.
    """
    nb = read(path)
    with tempfile.TemporaryDirectory(prefix="dagrad-kernel-") as tmp:
        client = NotebookClient(
            nb,
            km=_kernel_manager(Path(tmp)),
            timeout=timeout,
            startup_timeout=120,
            record_timing=False,  # no timestamps in cell metadata
            coalesce_streams=True,  # one stdout output per cell, however the kernel chunked it
            resources={"metadata": {"path": str(HERE)}},
        )
        client.execute()
    info = nb.metadata.get("language_info", {})
    info.pop("version", None)  # the Python patch version would change the file from machine to machine
    return nb


def build(path: Path, timeout: int = 120) -> Path:
    """Execute ``path`` and write the notebook with its outputs next to it; returns the .ipynb path."""
    nb = execute(path, timeout)
    out = path.with_suffix(".ipynb")
    nbformat.write(nb, out)
    return out


def copy_to(folder: Path, prefixes: list[str] | None = None) -> list[Path]:
    """Copy the built notebooks into ``folder`` where no copy is there yet; returns the new copies.

    The copies are the learner's to run and edit: the committed notebooks stay unchanged, and a
    copy already there (with the learner's edits) is never overwritten.
    """
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for path in sources(prefixes):
        built, copy = path.with_suffix(".ipynb"), folder / path.with_suffix(".ipynb").name
        if built.exists() and not copy.exists():
            shutil.copyfile(built, copy)
            made.append(copy)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose file name starts with one of these")
    parser.add_argument("--check", action="store_true", help="execute only; write no .ipynb")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    parser.add_argument("--copy-to", type=Path, metavar="FOLDER", help="copy the built notebooks there; run nothing")
    args = parser.parse_args(argv)
    if args.copy_to is not None:
        made = copy_to(args.copy_to, args.prefixes)
        print(f"{len(made)} new notebook copies in {args.copy_to} (your edits there stay yours)")
        return 0
    paths = sources(args.prefixes)
    if not paths:
        print("no notebook matches", args.prefixes, file=sys.stderr)
        return 1
    for path in paths:
        start = time.perf_counter()
        if args.check:
            execute(path, args.timeout)
            done = "ran"
        else:
            done = f"wrote {build(path, args.timeout).relative_to(HERE.parent)}"
        print(f"{path.name}: {done} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
