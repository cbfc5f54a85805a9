"""diffusion.pipeline, the old home of the generation run: every old name still imports, and is the new object."""

from __future__ import annotations

import ast
import pathlib

import diffusion
import diffusion.pipeline as pipeline
from cim_emu.experiments import generation
from diffusion import evaluation, model

OLD_NAMES = ("Method", "GenerationConfig", "TrajectoryNoise", "MethodResult", "GenerationResult", "run_generation",
             "multi_seed_checks", "calibrate_network_columns", "VARIANCE_TOLERANCE")


def test_every_old_name_imports_from_its_old_places_as_the_moved_object():
    assert set(pipeline.__all__) == set(OLD_NAMES)
    moved = {
        "Method": model.Method, "calibrate_network_columns": model.calibrate_network_columns,
        "TrajectoryNoise": evaluation.TrajectoryNoise, "multi_seed_checks": evaluation.multi_seed_checks,
        "VARIANCE_TOLERANCE": evaluation.VARIANCE_TOLERANCE,
        "GenerationConfig": generation.GenerationConfig, "MethodResult": generation.MethodResult,
        # Renamed apart from cim_emu.energy.GenerationResult; the old name is an alias.
        "GenerationResult": generation.GenerationRunResult, "run_generation": generation.run_generation,
    }
    for name in OLD_NAMES:
        assert getattr(pipeline, name) is moved[name], name
        assert getattr(diffusion, name) is moved[name], name
        assert name in diffusion.__all__
    from diffusion import GenerationResult  # noqa: F401  (the from-import form, too)
    from diffusion.pipeline import run_generation  # noqa: F401


def test_unknown_names_still_raise_attribute_error():
    for module in (diffusion, pipeline):
        try:
            module.no_such_name  # noqa: B018
        except AttributeError as error:
            assert "no_such_name" in str(error)
        else:
            raise AssertionError(f"{module.__name__}.no_such_name did not raise")


def test_diffusion_imports_the_experiment_package_only_lazily():
    # The runner sits above diffusion: importing diffusion must not import it (no import cycle at load time).
    root = pathlib.Path(diffusion.__file__).parent
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: function-level imports run on first use
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cim_emu.experiments"):
                raise AssertionError(f"{path.name}:{node.lineno} imports {node.module} at module level")
