"""The generated docs pages: every op states its derivative, and docs/DERIVATIVES.md is current.

docs/DERIVATIVES.md is written by docs/derivatives.py from the ops' docstrings and the comment
that opens each ``backward``; docs/READING.md is written by hand. Both must render cleanly.
"""

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from autograd.function import Op

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [DOCS / "DERIVATIVES.md", DOCS / "READING.md"]

# Ops whose backward has no opening formula comment yet. Shrink this list, never grow it: a new op
# must open its backward with a one-line math comment (``# dz/dx = y, dz/dy = x: ...``).
KNOWN_GAPS: set[str] = set()  # ops allowed to lack the formula comment (none now)


def _load_generator():
    """docs/derivatives.py, loaded as a module (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("docs_derivatives", DOCS / "derivatives.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclass looks the module up there)
    spec.loader.exec_module(module)
    return module


derivatives = _load_generator()
ENTRIES = derivatives.collect()


def test_the_generator_finds_the_ops_of_every_family():
    names = {e.name for e in ENTRIES}
    assert {"Add", "Mul", "Exp", "Sigmoid", "Sum", "Reshape", "Index", "MatMul", "Conv2d", "MaxPool2d"} <= names
    assert {e.family for e in ENTRIES} >= set(derivatives.FAMILIES)
    assert all(issubclass(e.cls, Op) for e in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_op_states_its_derivative(entry):
    """backward opens with a one-line math comment (or inherits one), and the class says what it computes."""
    assert entry.computes, f"{entry.name} has no class docstring: say what it computes and the shapes"
    if entry.name in KNOWN_GAPS:
        assert entry.formula is None, f"{entry.name} has its formula comment now: remove it from KNOWN_GAPS"
        return
    assert entry.formula, (
        f"{entry.name}.backward does not open with a formula comment: start it with one line such as "
        "`# dz/dx = y, dz/dy = x: a multiply gate swaps its inputs`, then run `make pictures`"
    )


def test_formula_comment_is_read_from_backward():
    """The check above can fail: a backward without an opening comment has no formula."""

    class Documented(Op):
        """y = 3x. Shapes: x (*) -> y (*)."""

        @staticmethod
        def backward(ctx, grad):
            # dy/dx = 3
            # (a constant)
            return grad * 3

    class Undocumented(Op):
        @staticmethod
        def backward(ctx, grad):
            return grad * 3  # dy/dx = 3, but not on top

    class Inherits(Documented):
        """y = 3x again."""

    assert derivatives.formula_of(Documented) == ("dy/dx = 3 (a constant)", "Documented")
    assert derivatives.formula_of(Undocumented) == (None, "Undocumented")
    assert derivatives.formula_of(Inherits) == ("dy/dx = 3 (a constant)", "Documented")
    assert derivatives.summary(Undocumented) == ""


def test_users_are_found_in_functions_methods_and_operators():
    users = {e.name: e.users for e in ENTRIES}
    assert {"mul()", "x * y", "Tensor.mul"} <= set(users["Mul"])
    assert {"matmul()", "x @ y"} <= set(users["MatMul"])
    assert "Index.backward" in users["IndexScatter"]
    assert "base of Floor" in users["Flat"]


def test_committed_page_is_what_the_generator_writes():
    page = DOCS / "DERIVATIVES.md"
    assert page.exists(), "docs/DERIVATIVES.md is missing: run `make pictures`"
    assert page.read_text() == derivatives.render(ENTRIES), (
        "docs/DERIVATIVES.md is older than the ops' docstrings and backward comments: run `make pictures` "
        "(or `python docs/derivatives.py --write`)"
    )


def test_every_table_row_has_three_cells():
    """A ``|`` inside a formula (``y = |x|``) would split a cell: the generator escapes it."""
    tokens = MarkdownIt("commonmark").enable("table").parse((DOCS / "DERIVATIVES.md").read_text())
    rows, cells = [], 0
    for token in tokens:
        if token.type == "tr_open":
            cells = 0
        elif token.type in ("td_open", "th_open"):
            cells += 1
        elif token.type == "tr_close":
            rows.append(cells)
    assert len(rows) > len(ENTRIES) and set(rows) == {3}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_renders_without_stray_emphasis(page):
    from test_notebooks import _stray_emphasis

    assert _stray_emphasis(page.read_text()) == [], "Markdown ate these *: write formulas in `code`"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_links_point_to_files_that_exist(page):
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text())
    local = [link for link in links if "://" not in link]
    assert local, f"{page.name} links no source files"
    missing = [link for link in local if not (page.parent / link).exists()]
    assert missing == [], f"{page.name} links files that do not exist: {missing}"
