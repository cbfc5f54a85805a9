"""The CLI is thin: one module per command, and no command imports another command's private helpers."""

from __future__ import annotations

import ast
import pathlib

import cim_emu.cli

CLI = pathlib.Path(cim_emu.cli.__file__).parent


def _command_modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(CLI.glob("cmd_*.py"))}


def _private_imports(name: str, tree: ast.Module) -> list[str]:
    """Private names that module ``name`` takes from another ``cmd_*`` module (imported or as attributes)."""
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module.rsplit(".", 1)[-1]
            if module.startswith("cmd_") and module != name:
                found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            if node.module == "cim_emu.cli":
                aliases.update({a.asname or a.name: a.name for a in node.names if a.name.startswith("cmd_")})
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module = alias.name.rsplit(".", 1)[-1]
                if module.startswith("cmd_") and module != name:
                    aliases[alias.asname or alias.name] = module
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            base = ast.unparse(node.value)
            if base in aliases and aliases[base] != name:
                found.append(f"{aliases[base]}.{node.attr}")
    return found


def test_the_checker_sees_private_imports():
    tree = ast.parse("from cim_emu.cli.cmd_nist import _compact\nimport cim_emu.cli.cmd_trng as t\nt._helper()\n"
                     "from cim_emu.cli.cmd_nist import run\n")
    assert _private_imports("cmd_demo", tree) == ["cim_emu.cli.cmd_nist._compact", "cmd_trng._helper"]


def test_no_command_imports_another_commands_private_names():
    modules = _command_modules()
    assert {"cmd_fit", "cmd_trng", "cmd_demo", "cmd_nist"} <= set(modules)
    offenders = {name: found for name, tree in modules.items() if (found := _private_imports(name, tree))}
    assert offenders == {}


def test_every_command_module_registers_itself():
    for name, tree in _command_modules().items():
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "register" in functions, name
