"""Graphviz glue: a ``graphviz.Digraph`` that explains how to install Graphviz when ``dot`` is missing.

The ``graphviz`` Python package only writes DOT text; turning it into SVG, PNG or PDF runs
Graphviz's ``dot`` program, which is installed separately. Without it the package's error
only says that ``dot`` was not found. ``Digraph`` here is the same class with a clearer
message; building a graph and reading its ``.source`` never needs ``dot``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import graphviz

INSTALL_HELP = (
    "Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered (its DOT text "
    "is still available as `.source`). The Python package `graphviz` does not include it; install "
    "Graphviz itself: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz` (conda), or `winget install graphviz` (Windows), then "
    "restart Python (or the Jupyter kernel)."
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Raised when a graph is rendered but Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HELP)


@contextmanager
def explain_missing_dot() -> Iterator[None]:
    """Turn graphviz's 'executable not found' error into one that says how to install it."""
    try:
        yield
    except graphviz.ExecutableNotFound as error:
        if isinstance(error, GraphvizNotFoundError):
            raise
        raise GraphvizNotFoundError() from error


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` (inline SVG in Jupyter, ``.render``, ``.pipe``, ``.source``).

    Only the error raised when ``dot`` is missing differs: it says how to install Graphviz.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """Render with ``dot`` and return the result (bytes, or str with ``encoding=``)."""
        with explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render with ``dot`` into a file and return its path."""
        with explain_missing_dot():
            return super().render(*args, **kwargs)


def render_svg(source: str) -> str:
    """Run ``dot`` on DOT text and return the SVG document as a string."""
    with explain_missing_dot():
        return graphviz.pipe_string("dot", "svg", source, encoding="utf-8")
