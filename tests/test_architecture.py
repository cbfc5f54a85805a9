"""Dependencies point one way: devices -> cim_emu -> diffusion; only the CLI reaches into all three."""

from __future__ import annotations

import ast
import pathlib

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
        if relative.parts[:2] in {("cim_emu", "cli"), ("cim_emu", "experiments")}:
            continue  # the CLI and the experiments it runs sit on top: they may use all three packages
        bad = _imported_top_levels(path) - ALLOWED[package]
        if bad:
            offenders.append(f"{relative} imports {sorted(bad)}")
    assert not offenders, "imports against the layering:\n" + "\n".join(offenders)


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
}


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


def test_library_code_uses_no_global_random_state():
    offenders = []
    for relative, tree in _library_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func) in GLOBAL_RANDOMNESS:
                # torch.rand(..., generator=g) draws from an explicit generator: allowed.
                if any(keyword.arg == "generator" for keyword in node.keywords):
                    continue
                offenders.append(f"{relative}:{node.lineno}: {_dotted(node.func)}")
    assert not offenders, "global random state in library code (take a generator):\n" + "\n".join(offenders)
