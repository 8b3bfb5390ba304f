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


# ---------------------------------------------------------------- the prose renders as written

ROOT = NOTEBOOKS.parent
# Markdown that learners read: every notebook's text cells and the READMEs.
PROSE = [ROOT / "README.md", NOTEBOOKS / "README.md"]


def _markdown_texts(path):
    """(where, text) of each Markdown text in ``path``: a notebook's text cells, or the whole file."""
    if path.suffix == ".md":
        return [(path.name, path.read_text())]
    cells = build.read(path).cells
    return [(f"{path.name} cell {i}", c.source) for i, c in enumerate(cells) if c.cell_type == "markdown"]


def _stray_emphasis(source):
    """Emphasis that Markdown made out of arithmetic: ``5*5*3`` renders as 5<em>5</em>3.

    CommonMark (what Jupyter and GitHub render) turns ``*`` pairs into emphasis even between
    digits or after a bracket; such a pair was meant as multiplication. Returns what was eaten.
    """
    from markdown_it import MarkdownIt

    found = []
    for block in MarkdownIt("commonmark").enable("table").parse(source):
        children = block.children or []
        for k, tok in enumerate(children):
            if tok.type not in ("em_open", "strong_open"):
                continue
            close = tok.type.replace("open", "close")
            j = next(j for j in range(k + 1, len(children)) if children[j].type == close)
            before = children[k - 1].content[-1:] if k and children[k - 1].type == "text" else ""
            after = children[j + 1].content[:1] if j + 1 < len(children) and children[j + 1].type == "text" else ""
            if before.isalnum() or (before and before in ")]*") or after.isalnum() or (after and after in "(["):
                inner = "".join(c.content for c in children[k + 1 : j])
                found.append(f"{before}{tok.markup}{inner}{tok.markup}{after}")
    return found


def test_stray_emphasis_is_detected():
    assert _stray_emphasis("so it has 5*5*3 weights") == ["5*5*3"]
    assert _stray_emphasis("**[(CONV-RELU)*2 - POOL] - [(CONV-RELU)*M]**") != []
    assert _stray_emphasis("the *local* gradient, **bold**, `5*5*3` in code, 2 * 3 spaced") == []


@pytest.mark.parametrize(
    "path", build.sources() + PROSE, ids=lambda p: p.stem if p.suffix == ".py" else str(p.relative_to(ROOT))
)
def test_markdown_renders_without_stray_emphasis(path):
    eaten = {where: found for where, text in _markdown_texts(path) if (found := _stray_emphasis(text))}
    assert eaten == {}, "Markdown ate these *: write products in `code` or as 5 x 5"
