"""Startup: each subcommand imports only what it needs (checked through ``sys.modules``, not timed)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

_HEAVY = ("torch", "numba", "numpy", "scipy", "matplotlib")


def _modules_after(argv: list[str]) -> tuple[int, set[str]]:
    """Run ``cim-emu argv`` in a fresh interpreter; return its exit code and the top-level modules it loaded."""
    script = (
        "import io, json, sys, contextlib\n"
        "from cim_emu.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
    code, modules = json.loads(result.stdout.strip().splitlines()[-1])
    return code, set(modules)


def test_help_loads_no_numerical_library():
    code, modules = _modules_after(["--help"])
    assert code == 0
    assert not {name for name in _HEAVY if name in modules}
    # Nor any of cim-emu's heavy subpackages.
    assert not any(name.startswith(("cim_emu.energy", "cim_emu.randomness", "cim_emu.crossbar.kernels", "diffusion"))
                   for name in modules)


def test_nist_loads_no_torch_no_numba_and_no_kernel_it_does_not_run(tmp_path):
    bits = np.random.default_rng(3).integers(0, 2, 20000)
    path = tmp_path / "bits.txt"
    path.write_text("".join(map(str, bits)))
    code, modules = _modules_after(["nist", str(path), "--json"])
    assert code in (0, 1)                                 # a verdict, not an error
    assert "cim_emu.randomness.sp800_22._kernels" in modules   # the suite's own kernels ran (the check can fail)
    # The kernels are numpy: numba's start-up alone (~0.7 s) was twice the whole command's budget.
    assert not {"torch", "numba", "scipy", "matplotlib"} & modules
    assert not any(name.startswith(("cim_emu.crossbar.kernels", "cim_emu.energy", "devices", "diffusion"))
                   for name in modules)
