"""Write docs/DERIVATIVES.md: every built-in op's derivative on one page, read from the ops themselves.

PyTorch keeps the derivative of every op in one file, ``derivatives.yaml``. dagrad keeps each
derivative next to its forward instead (``autograd/ops/*.py``), and this script gathers them
into one table a learner can read beside the lecture. For every ``Function`` subclass found in
the ``autograd.ops`` modules (and ``autograd.kernels``, where some live) it reads:

- the class docstring's first paragraph: what the op computes and its shapes
  (``z = x * y. Shapes: x, y broadcastable -> z (broadcast shape).``);
- the comment that opens ``backward``: the local derivative, i.e. the vector-Jacobian product
  (``# dz/dx = y, dz/dy = x: a multiply gate swaps its inputs``);
- which public functions and Tensor methods call the op (read from the source with ``ast``).

Usage::

    python docs/derivatives.py            # print the page
    python docs/derivatives.py --write    # write docs/DERIVATIVES.md (what `make pictures` runs)

Nothing is imported but ``autograd`` and its op modules; the rest is read as text.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import pkgutil
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "DERIVATIVES.md"
if str(ROOT) not in sys.path:  # (run as a script from anywhere: the repository's autograd)
    sys.path.insert(0, str(ROOT))

from autograd.function import Function, Op  # noqa: E402  (after the path is set; loads all of autograd)

#: The families in the order a learner meets them: one section each, named after its module.
FAMILIES = [
    "arithmetic",
    "pointwise",
    "activation",
    "reduce",
    "shape",
    "indexing",
    "linalg",
    "conv",
    "pool",
    "inplace",
    "special",
]
#: The packages whose modules hold ops.
PACKAGES = ["autograd.ops", "autograd.kernels"]
#: Tensor's operator methods, shown as the operator a learner writes.
OPERATORS = {
    "__add__": "x + y",
    "__radd__": "x + y",
    "__iadd__": "x += y",
    "__sub__": "x - y",
    "__rsub__": "x - y",
    "__isub__": "x -= y",
    "__mul__": "x * y",
    "__rmul__": "x * y",
    "__imul__": "x *= y",
    "__truediv__": "x / y",
    "__rtruediv__": "x / y",
    "__itruediv__": "x /= y",
    "__pow__": "x ** y",
    "__rpow__": "x ** y",
    "__neg__": "-x",
    "__abs__": "abs(x)",
    "__matmul__": "x @ y",
    "__rmatmul__": "x @ y",
    "__getitem__": "x[index]",
    "__setitem__": "x[index] = v",
}


@dataclass
class OpEntry:
    """One row of the page: an op class and what its source says about it."""

    cls: type
    family: str
    computes: str  # the docstring's first paragraph, on one line
    formula: str | None  # the comment that opens backward (None: there is none)
    formula_from: str  # the class whose backward holds the formula
    users: list[str] = field(default_factory=list)  # `add()`, `Tensor.add`, `x + y`

    @property
    def name(self) -> str:
        return self.cls.__name__


# ---------------------------------------------------------------- finding the ops


def op_modules() -> list:
    """Every module of the op packages, imported (they are all imported by ``autograd`` anyway)."""
    modules = []
    for package_name in PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue  # (autograd.kernels may not exist)
        modules.append(package)
        for info in pkgutil.iter_modules(package.__path__):
            modules.append(importlib.import_module(f"{package_name}.{info.name}"))
    return modules


def find_ops() -> dict[type, str]:
    """Every built-in op class -> its family: the op module that defines it or, for a class
    defined elsewhere (a kernel), the family module that imports it."""
    defined: dict[type, str] = {}
    imported: dict[type, str] = {}
    for module in op_modules():
        family = module.__name__.rsplit(".", 1)[-1]
        for value in vars(module).values():
            if not (inspect.isclass(value) and issubclass(value, Function)) or value in (Function, Op):
                continue
            if value.__module__ == module.__name__:
                defined[value] = family
            elif value.__module__.startswith("autograd.") and family in FAMILIES:
                imported.setdefault(value, family)
    found = dict(imported)
    for cls, family in defined.items():
        if family in FAMILIES or cls not in found:
            found[cls] = family
    return found


def summary(cls: type) -> str:
    """The first paragraph of the class docstring, on one line."""
    doc = inspect.getdoc(cls) if "__doc__" in vars(cls) and cls.__doc__ else ""
    return " ".join(doc.split("\n\n")[0].split())


def formula_of(cls: type) -> tuple[str | None, str]:
    """The comment lines that open ``backward`` (joined), and the class that defines it."""
    owner = next(k for k in cls.__mro__ if "backward" in vars(k))
    if owner in (Function, Op):
        return None, owner.__name__
    source = textwrap.dedent(inspect.getsource(vars(owner)["backward"].__func__))
    lines = source.splitlines()
    body = ast.parse(source).body[0].body  # the backward function's statements
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith(":"))  # the def line's end
    comment = []
    for line in lines[start + 1 : body[0].lineno - 1] + [lines[body[0].lineno - 1]]:
        text = line.strip()
        if not text.startswith("#"):
            break
        comment.append(text.lstrip("#").strip())
    return (" ".join(comment) or None), owner.__name__


def docstring_formula(cls: type) -> str | None:
    """A ``dL/d...`` sentence in the class docstring: the page's fallback where backward has no comment."""
    doc = " ".join((inspect.getdoc(cls) or "").split())
    for sentence in doc.replace(":", ".").split(". "):
        if "dL/d" in sentence:
            return sentence.strip().rstrip(".")
    return None


# ---------------------------------------------------------------- who calls each op


def _names_in(node: ast.AST) -> set[str]:
    """Every name and attribute name mentioned in ``node`` (``Add``, ``ops_arith.add`` -> add)."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


def _calls_in(node: ast.AST) -> set[str]:
    """The names of the plain functions ``node`` calls (``add(x, y)`` -> add)."""
    return {sub.func.id for sub in ast.walk(node) if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)}


def _module_users(path: Path, op_names: set[str]) -> dict[str, set[str]]:
    """function name -> the ops it reaches in one module (through the module's own functions too)."""
    tree = ast.parse(path.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    for node in tree.body:  # an op's backward may apply other ops (the adjoint ops of conv and pool)
        if isinstance(node, ast.ClassDef) and node.name in op_names:
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name == "backward":
                    functions[f"{node.name}.backward"] = method
    reaches = {name: _names_in(fn) & (op_names - {name.split(".")[0]}) for name, fn in functions.items()}
    calls = {name: _calls_in(fn) & functions.keys() - {name} for name, fn in functions.items()}
    changed = True
    while changed:  # a function reaches what the functions it calls reach
        changed = False
        for name, called in calls.items():
            more = set().union(*(reaches[other] for other in called))
            if not more <= reaches[name]:
                reaches[name] |= more
                changed = True
    return reaches


def _tensor_users(op_names: set[str], functions: dict[str, dict[str, set[str]]]) -> dict[str, set[str]]:
    """Tensor method -> the ops it reaches, directly or through an op module's function."""
    path = ROOT / "autograd" / "tensor.py"
    tree = ast.parse(path.read_text())
    aliases = {}  # ops_arith -> autograd.ops.arithmetic
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in PACKAGES:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    tensor = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    methods: dict[str, set[str]] = {}
    for node in tensor.body:
        if isinstance(node, ast.FunctionDef):
            reached = set()
            for sub in ast.walk(node):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id in aliases:
                    module = aliases[sub.value.id]
                    if sub.attr in op_names:
                        reached.add(sub.attr)
                    reached |= functions.get(module, {}).get(sub.attr, set())
            methods[node.name] = reached
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):  # clip = clamp
            for target in node.targets:
                if isinstance(target, ast.Name):
                    methods[target.id] = methods.get(node.value.id, set())
    return methods


def find_users(entries: list[OpEntry]) -> None:
    """Fill each entry's ``users``: public functions of the op modules, Tensor methods, operators."""
    op_names = {e.name for e in entries}
    functions: dict[str, dict[str, set[str]]] = {}
    for package in PACKAGES:
        folder = ROOT.joinpath(*package.split("."))
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            functions[f"{package}.{path.stem}"] = _module_users(path, op_names)
    calls: dict[str, list[str]] = {name: [] for name in op_names}  # add(), Index.backward
    methods: dict[str, set[str]] = {name: set() for name in op_names}  # Tensor.add, x + y
    for reaches in functions.values():
        for function, ops in reaches.items():
            if not function.startswith("_"):
                for op in ops:
                    calls[op].append(function if "." in function else f"{function}()")
    for method, ops in _tensor_users(op_names, functions).items():
        shown = OPERATORS.get(method) or (None if method.startswith("_") else f"Tensor.{method}")
        for op in ops:
            if shown:
                methods[op].add(shown)
    for entry in entries:
        bases = [f"base of {e.name}" for e in entries if e.cls.__base__ is entry.cls]
        operators = sorted(m for m in methods[entry.name] if not m.startswith("Tensor."))
        tensor = sorted(m for m in methods[entry.name] if m.startswith("Tensor."))
        entry.users = bases + calls[entry.name] + operators + tensor


def collect() -> list[OpEntry]:
    """Every op, in page order: by family, then in source order within its file."""
    entries = []
    for cls, family in find_ops().items():
        formula, owner = formula_of(cls)
        entries.append(OpEntry(cls, family, summary(cls), formula, owner))
    find_users(entries)
    rank = {name: i for i, name in enumerate(FAMILIES)}

    def order(entry: OpEntry) -> tuple:
        lines, first = inspect.getsourcelines(entry.cls)
        return (rank.get(entry.family, len(rank)), entry.family, inspect.getsourcefile(entry.cls), first)

    return sorted(entries, key=order)


# ---------------------------------------------------------------- the page


def _code(text: str) -> str:
    """``text`` as a Markdown code span that survives a table (``|`` escaped, as GFM asks)."""
    text = text.replace("``", "").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _prose(text: str) -> str:
    """Docstring prose for a table cell: ``name`` becomes a code span; Markdown's specials are escaped."""
    parts = text.split("``")
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # inside ``...``
            out.append(_code(part))
        else:
            for char in "\\*_|<[]":
                part = part.replace(char, "\\" + char)
            out.append(part)
    return "".join(out)


def _split_top(text: str, stops: tuple[str, ...]) -> tuple[str, str, str]:
    """``text.partition`` at the first of ``stops`` outside brackets and ``code``: (head, stop, tail)."""
    depth = 0
    for i, char in enumerate(text):
        if char in "([" or (char == "`" and text.startswith("``", i) and depth == 0 and text.count("``", i) % 2):
            depth += 1
        elif char in ")]" or (char == "`" and text.startswith("``", i) and depth > 0 and text.count("``", i) % 2 == 0):
            depth -= 1
        for stop in stops:
            sentence_end = stop != ". " or text[i + 2 : i + 3].isupper()  # (not "x_0 + ... + x_i")
            if depth == 0 and sentence_end and text.startswith(stop, i):
                return text[:i], stop, text[i + len(stop) :]
    return text, "", ""


def forward_cell(entry: OpEntry) -> str:
    """What the op computes (its first sentence as a code span) and its shapes (another)."""
    main, _, shapes = entry.computes.partition("Shapes:")
    head, stop, rest = _split_top(main.strip().rstrip("."), (". ", "; "))
    if "=" in head:
        cell = _code(head) + (stop.rstrip() + " " + _prose(rest) + "." if stop else "")
    else:
        cell = _prose(main.strip())
    if shapes.strip():
        head, stop, rest = _split_top(shapes.strip().rstrip("."), (". ",))
        cell += "<br>shapes: " + _code(head) + (". " + _prose(rest) + "." if stop else "")
    return cell


def backward_cell(entry: OpEntry) -> str:
    """The backward comment: the formula as a code span, any explanation around it as prose."""
    if entry.formula is None:
        fallback = docstring_formula(entry.cls)
        if fallback:
            return _code(fallback) + " (from the docstring: backward has no formula comment yet)"
        return "**missing**: backward has no formula comment"
    head, sep, tail = _split_top(entry.formula, (": ",))
    if "=" in head:  # the formula, then why
        cell = _code(head) + (": " + _prose(tail) if sep else "")
    elif "=" in tail:  # words, then the formula
        cell = _prose(head) + ": " + _code(tail)
    else:  # words only
        cell = _prose(entry.formula)
    if entry.formula_from != entry.name:
        cell += f" (the backward of `{entry.formula_from}`)"
    return cell


def op_cell(entry: OpEntry) -> str:
    """The class (linked to its file) and the names a learner calls it by."""
    path = Path(inspect.getsourcefile(entry.cls)).resolve().relative_to(ROOT)
    cell = f"[`{entry.name}`](../{path.as_posix()})"
    if entry.users:
        cell += "<br>" + ", ".join(_code(u) for u in entry.users)
    return cell


INTRO = """\
# Derivatives of dagrad's ops

<!-- Generated by docs/derivatives.py from the ops' docstrings and backward comments:
     do not edit by hand; run `make pictures` (or `python docs/derivatives.py --write`). -->

Every op of dagrad is a `Function` with its `forward` and `backward` side by side in
[`autograd/ops/`](../autograd/ops/). This page gathers them in one table, as PyTorch's
`derivatives.yaml` does, so the whole of the calculus can be read at once. It is generated
from the code: the first column names the class and the functions, methods and operators
that call it; the second is the class docstring (what the op computes, and the shapes);
the third is the comment that opens its `backward`.

How to read the third column (lecture sections 3 to 5): `g` (or `grad`, `dy`, `dz`) is the
upstream gradient, dL/dout, with the output's shape. A formula such as `dz/dx = y` is the
local derivative; backward returns `g * y`, the vector-Jacobian product, for input `x`.
Where inputs were broadcast, the product is summed back to the input's shape
(`unbroadcast`: the adjoint of broadcasting is a sum). Backward never builds the Jacobian
itself: for `softmax` or `matmul` it would be far larger than the gradient it produces.
"""


def render(entries: list[OpEntry]) -> str:
    """The Markdown page."""
    families = list(dict.fromkeys(e.family for e in entries))
    lines = [INTRO, "Families: " + ", ".join(f"[{f}](#{f})" for f in families) + ".", ""]
    for family in families:
        members = [e for e in entries if e.family == family]
        module = importlib.import_module(members[0].cls.__module__)
        about = " ".join((inspect.getdoc(module) or "").split("\n\n")[0].split())
        lines += [f"## {family}", ""]
        if about:
            lines += [_prose(about), ""]
        lines += ["| op | computes (shapes) | backward: local derivative |", "|---|---|---|"]
        for entry in members:
            lines.append(f"| {op_cell(entry)} | {forward_cell(entry)} | {backward_cell(entry)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the page, or write it to docs/DERIVATIVES.md with ``--write``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {PAGE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    page = render(collect())
    if args.write:
        PAGE.write_text(page)
        print(f"wrote {PAGE.relative_to(ROOT)}")
    else:
        sys.stdout.write(page)


if __name__ == "__main__":
    main()
