"""Every teaching notebook runs top to bottom without a cell error.

The notebooks assert the lecture's numbers in their cells, so a wrong engine fails here.
One case per ``notebooks/[0-9]*.py`` (the jupytext source), executed in a fresh kernel that
runs this interpreter (see ``notebooks/build.py``). Select them with ``-m notebooks``, leave
them out with ``-m "not notebooks"``.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CELL_TIMEOUT = 120  # seconds per cell; a whole notebook takes a few seconds
NOTEBOOK_TIMEOUT = 300  # the whole notebook, kernel start included (enforced by pytest-timeout)


def _load_build():
    """notebooks/build.py, which knows how to run a notebook script in a kernel of this venv."""
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()

pytestmark = [pytest.mark.notebooks]
if importlib.util.find_spec("pytest_timeout") is not None:
    pytestmark.append(pytest.mark.timeout(NOTEBOOK_TIMEOUT))


def test_every_notebook_has_a_source():
    names = [p.stem for p in build.sources()]
    assert len(names) >= 4, names


@pytest.mark.parametrize("path", build.sources(), ids=lambda p: p.stem)
def test_notebook_runs(path):
    nb = build.execute(path, timeout=CELL_TIMEOUT)  # a cell error raises CellExecutionError
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)


@pytest.mark.parametrize("path", build.sources(), ids=lambda p: p.stem)
def test_built_copy_is_up_to_date(path):
    """The committed .ipynb has the cells of its .py source (rebuild with `make notebooks`)."""
    built = path.with_suffix(".ipynb")
    assert built.exists(), f"{built.name} is missing: run `make notebooks`"
    source_cells = [(c.cell_type, c.source) for c in build.read(path).cells]
    built_cells = [(c.cell_type, c.source) for c in nbformat.read(built, as_version=4).cells]
    assert built_cells == source_cells, f"{built.name} is older than {path.name}: run `make notebooks`"
