"""Dependencies point one way: devices -> cim_emu -> diffusion; only the CLI reaches into all three."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
OURS = ("devices", "cim_emu", "diffusion", "calibration_data")
ALLOWED = {
    "devices": {"devices"},
    "cim_emu": {"cim_emu", "devices", "calibration_data"},
    "diffusion": {"diffusion", "cim_emu", "devices", "calibration_data"},
    "calibration_data": {"calibration_data", "devices"},
}


def _imported_top_levels(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(OURS)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if _node(_module_name(path)) in TOP:
            continue  # the CLI and the experiments and sweeps it runs sit on top: they may use all three packages
        bad = _imported_top_levels(path) - ALLOWED[package]
        if bad:
            offenders.append(f"{relative} imports {sorted(bad)}")
    assert not offenders, "imports against the layering:\n" + "\n".join(offenders)


# ------------------------------------------------------------------------------------------ the package graph
# Nodes: devices, calibration_data, diffusion, the cim_emu facade (its __init__ and the old-path alias modules)
# and each cim_emu subpackage. TOP nodes run whole experiments and may import every package (diffusion too).
TOP = {"cim_emu.cli", "cim_emu.experiments", "cim_emu.sweep", "cim_emu.__main__"}
FACADE = "cim_emu"


def _node(module: str) -> str:
    """The graph node of a dotted module name (``cim_emu.crossbar.tiles.tile`` -> ``cim_emu.crossbar``)."""
    parts = module.split(".")
    if parts[0] != "cim_emu" or len(parts) == 1:
        return parts[0]
    child = ROOT / "cim_emu" / parts[1]
    # A subpackage is a node; a top-level module of cim_emu is an old-path alias of the facade, except __main__.
    return f"cim_emu.{parts[1]}" if child.is_dir() or parts[1] == "__main__" else FACADE


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: pathlib.Path) -> set[str]:
    """Absolute dotted names of ours imported by a file (relative imports resolved against its package)."""
    name = _module_name(path).split(".")
    return _imports_of(path.read_text(), tuple(name if path.name == "__init__.py" else name[:-1]))


def _dependency_nodes(tree: ast.Module):
    """``ast.walk`` without the old-name aliases: module-level ``__getattr__`` (PEP 562, an old name loaded on
    first use from its new home above) and ``if TYPE_CHECKING:`` blocks are not dependencies of the module."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__" and node in tree.body:
            continue
        if isinstance(node, ast.If) and _dotted(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            pending.extend(node.orelse)
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _imports_of(source: str, package: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for node in _dependency_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            names.add(".".join([*base, *([node.module] if node.module else [])]))
    return {name for name in names if name.split(".")[0] in OURS}


def package_graph() -> dict[str, set[str]]:
    """Who imports whom: node -> the set of other nodes its files import."""
    graph: dict[str, set[str]] = {}
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = _node(_module_name(path))
            targets = {_node(module) for module in _imported_modules(path)} - {source}
            graph.setdefault(source, set()).update(targets)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by depth-first search (each reported once, from its smallest node)."""
    found: list[list[str]] = []

    def visit(start: str, node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target == start:
                found.append([*path, start])
            elif target > start and target not in path:
                visit(start, target, [*path, target])

    for start in sorted(graph):
        visit(start, start, [start])
    return found


def test_package_graph(capsys):
    graph = package_graph()
    lines = [f"{node:<24} -> {', '.join(sorted(targets)) or '(nothing of ours)'}" for node, targets in
             sorted(graph.items())]
    with capsys.disabled():
        print("\npackage graph (who imports whom):\n  " + "\n  ".join(lines))
    problems = []
    if graph.get("devices"):
        problems.append(f"devices imports {sorted(graph['devices'])}: the device layer imports nothing of ours")
    if graph.get("calibration_data", set()) - {"devices"}:
        problems.append(f"calibration_data imports {sorted(graph['calibration_data'] - {'devices'})}")
    for node, targets in sorted(graph.items()):
        if node not in TOP and node != "diffusion" and "diffusion" in targets:
            problems.append(f"{node} imports diffusion: only {sorted(TOP)} sit above diffusion")
        if node not in TOP and node != FACADE and targets & TOP:
            problems.append(f"{node} imports {sorted(targets & TOP)}: nothing below the top layer imports it")
        if node.startswith("cim_emu.") and node not in TOP and FACADE in targets:
            problems.append(f"{node} imports the cim_emu facade: import the subpackage by its path instead")
    # The facade re-exports every subpackage (old paths alias experiment modules too), so it is left out of the
    # cycle search (subpackages never import it).
    below_facade = {node: targets - {FACADE} for node, targets in graph.items() if node != FACADE}
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(below_facade)]
    assert {"devices", "cim_emu.crossbar", "cim_emu.rng", "diffusion"} <= set(graph), sorted(graph)
    assert not problems, "package graph against the architecture:\n" + "\n".join(problems)


def test_package_graph_checker_finds_cycles_and_resolves_relative_imports():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set(), "c": {"a"}}) == []
    assert _node("cim_emu.crossbar.tiles.tile") == "cim_emu.crossbar"
    assert _node("cim_emu.tile") == FACADE and _node("devices.rng.philox") == "devices"
    source = "from .kernels import masked_mvm\nfrom ..rng import SeedStream\nimport devices.rng\nimport numpy\n"
    assert _imports_of(source, ("cim_emu", "crossbar", "tiles")) == {
        "cim_emu.crossbar.tiles.kernels", "cim_emu.crossbar.rng", "devices.rng"}
    assert _imports_of("from . import config\n", ("cim_emu", "crossbar")) == {"cim_emu.crossbar"}
    aliases = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cim_emu.cli\n"
               "def __getattr__(name):\n    import cim_emu.experiments\n"
               "def run():\n    import cim_emu.energy\n")
    assert _imports_of(aliases, ("diffusion",)) == {"cim_emu.energy"}


def test_randomness_suite_imports_nothing_else_of_ours():
    suite = ROOT / "cim_emu" / "randomness"
    if not suite.exists():
        pytest.skip("randomness suite not present")
    offenders = []
    for path in sorted(suite.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            module = None
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                module = node.module or ""
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            if module and module.split(".")[0] in OURS and not module.startswith("cim_emu.randomness"):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert not offenders, offenders


LIBRARY = ("devices", "cim_emu", "diffusion", "calibration_data")
# Calls that seed or draw from a global random state (library code takes an explicit generator).
GLOBAL_RANDOMNESS = {
    "torch.manual_seed", "torch.seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all",
    "np.random.seed", "numpy.random.seed", "random.seed",
    *(f"{module}.random.{name}" for module in ("np", "numpy")
      for name in ("rand", "randn", "randint", "random", "random_sample", "normal", "uniform", "choice",
                   "shuffle", "permutation", "binomial", "bytes")),
    *(f"torch.{name}" for name in ("rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
                                   "rand_like", "randn_like", "randint_like")),
    # nn.init draws from the global generator unless given generator= (torch >= 2.3 takes one).
    *(f"{prefix}.{name}" for prefix in ("nn.init", "torch.nn.init", "init")
      for name in ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                   "kaiming_normal_", "orthogonal_", "sparse_")),
}
# In-place tensor methods that draw from the global generator unless given generator=: x.uniform_(...), ...
GLOBAL_RANDOM_METHODS = {"uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_", "cauchy_",
                         "log_normal_"}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _library_files():
    for package in LIBRARY:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[:2] != ("cim_emu", "cli"):
                yield relative, ast.parse(path.read_text(), filename=str(path))


def test_library_code_neither_prints_nor_draws_progress_bars():
    offenders = []
    for relative, tree in _library_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func) in {"print", "sys.stdout.write", "sys.stderr.write"}:
                offenders.append(f"{relative}:{node.lineno}: {_dotted(node.func)}")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{relative}:{node.lineno}: imports tqdm" for m in modules if m.split(".")[0] == "tqdm"]
    assert not offenders, "only cim_emu/cli/ may print (pass a progress callback instead):\n" + "\n".join(offenders)


def _draws_globally(call: ast.Call) -> bool:
    """A call of a global-RNG function (by name) or of an in-place random tensor method."""
    if _dotted(call.func) in GLOBAL_RANDOMNESS:
        return True
    return isinstance(call.func, ast.Attribute) and call.func.attr in GLOBAL_RANDOM_METHODS


def test_the_global_randomness_checker_catches_nn_init_and_tensor_methods():
    def flagged(source: str) -> list[bool]:
        calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
        return [_draws_globally(call) and not any(k.arg == "generator" for k in call.keywords) for call in calls]

    assert flagged("nn.init.kaiming_uniform_(w, a=5)") == [True]
    assert flagged("torch.nn.init.normal_(w, generator=g)") == [False]
    assert flagged("init.xavier_uniform_(w)") == [True]
    assert flagged("nn.init.zeros_(w)") == [False]
    assert flagged("w.uniform_(-1, 1)") == [True]
    assert flagged("w.normal_(generator=g)") == [False]
    assert flagged("np.random.default_rng(0)") == [False]


def test_library_code_uses_no_global_random_state():
    offenders = []
    for relative, tree in _library_files():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _draws_globally(node):
                continue
            # torch.rand(..., generator=g) draws from an explicit generator: allowed.
            if any(keyword.arg == "generator" for keyword in node.keywords):
                continue
            offenders.append(f"{relative}:{node.lineno}: {_dotted(node.func) or node.func.attr}")
    assert not offenders, "global random state in library code (take a generator):\n" + "\n".join(offenders)


def _pyplot_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for each matplotlib.use call and each pyplot import in a module."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in {"matplotlib.use", "mpl.use"}:
            uses.append((node.lineno, "matplotlib.use"))
        elif isinstance(node, ast.Import):
            uses += [(node.lineno, "imports pyplot") for alias in node.names if alias.name == "matplotlib.pyplot"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == "matplotlib.pyplot" or (
                    node.module == "matplotlib" and any(alias.name == "pyplot" for alias in node.names)):
                uses.append((node.lineno, "imports pyplot"))
    return sorted(uses)


def test_library_code_leaves_matplotlib_global_state_alone():
    """Figures are built with matplotlib.figure.Figure: no backend switch, no pyplot state in library code."""
    assert [what for _, what in _pyplot_uses(ast.parse(
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nfrom matplotlib import pyplot\n"
        "from matplotlib.figure import Figure\n"))] == ["matplotlib.use", "imports pyplot", "imports pyplot"]
    offenders = [f"{relative}:{line}: {what}" for relative, tree in _library_files()
                 for line, what in _pyplot_uses(tree)]
    assert not offenders, ("library code must build figures with matplotlib.figure.Figure (no matplotlib.use, no "
                           "pyplot):\n" + "\n".join(offenders))


def _readme_architecture_rows() -> dict[str, tuple[str, str]]:
    """The README's architecture table: package folder -> (what it holds, what it may import)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Architecture"):text.index("\n## ", text.index("## Architecture") + 1)]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith("/`"):
            rows[cells[0].strip("`").rstrip("/")] = (cells[1], cells[2])
    return rows


def test_readme_architecture_table_matches_the_tree_and_the_graph():
    rows = _readme_architecture_rows()
    assert len(rows) >= 10, f"README architecture table not found or cut short: {sorted(rows)}"
    graph = package_graph()
    problems = []
    for folder, (holds, imports) in rows.items():
        directory = ROOT / folder
        if not (directory / "__init__.py").exists():
            problems.append(f"README lists {folder}/, which is not a package")
            continue
        # Every file or folder the row names (`name.py`, `name/`, `name/sub/`) exists inside the package.
        for name in re.findall(r"`([\w/]+(?:\.py|/))`", holds):
            if not (directory / name).exists():
                problems.append(f"README: {folder}/ names {name}, which does not exist")
        node = folder.replace("/", ".")
        if imports == "all three":
            continue
        allowed = set() if imports.startswith("nothing") else set(re.findall(r"`([\w.]+)`", imports))
        outside = {target for target in graph.get(node, set()) - {node}
                   if not any(target == a or target.startswith(a + ".") for a in allowed)}
        if outside:
            problems.append(f"README: {folder}/ says it imports {imports!r}, but it imports {sorted(outside)}")
    # Every package and cim_emu subpackage has a row (the old-path alias package cim_emu/kernels excepted).
    listed = set(rows)
    for directory in sorted((ROOT / "cim_emu").iterdir()):
        name = f"cim_emu/{directory.name}"
        if (directory / "__init__.py").exists() and name not in listed and directory.name != "kernels":
            problems.append(f"README's architecture table has no row for {name}/")
    for package in ("devices", "diffusion"):
        if package not in listed:
            problems.append(f"README's architecture table has no row for {package}/")
    assert not problems, "\n".join(problems)
