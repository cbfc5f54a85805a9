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
        if relative.parts[:2] == ("cim_emu", "cli"):
            continue  # the CLI is the one place allowed to use all three packages
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
