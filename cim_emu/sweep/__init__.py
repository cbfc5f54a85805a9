"""Design and Monte-Carlo sweeps on Dask distributed (``cim-emu sweep``).

    from cim_emu.sweep import run
    result = run("docs/examples/sweep_trng.toml", "out/trng-sweep")        # embedded LocalCluster
    result = run(spec, "out/dir", client=distributed.Client("tcp://host:8786"))  # an existing cluster

* :mod:`~cim_emu.sweep.spec`: the TOML spec, its validation and the grid of cells;
* :mod:`~cim_emu.sweep.overrides`: dotted-name settings of frozen configuration objects;
* :mod:`~cim_emu.sweep.experiments`: one adapter per experiment (trng, regress, bench, generate);
* :mod:`~cim_emu.sweep.runner`: what runs on a worker (one cell; one-thread, warm workers);
* :mod:`~cim_emu.sweep.store`: part files, ``results.parquet``, ``sweep.json``;
* :mod:`~cim_emu.sweep.plots`: one figure per metric;
* :mod:`~cim_emu.sweep.engine`: :func:`run`, the Dask orchestration.
"""

from cim_emu.sweep.engine import ClusterInfo, SweepResult, cell_seed, run, run_one_cell
from cim_emu.sweep.experiments import Experiment, Group, experiment_names, get_experiment, register_experiment
from cim_emu.sweep.runner import CellOutcome, CellTask, SweepWorkerPlugin, run_cell
from cim_emu.sweep.spec import DEFAULT_MAX_CELLS, Axis, Cell, SweepSpec, load_spec, parse_spec

__all__ = ["run", "run_one_cell", "cell_seed", "SweepResult", "ClusterInfo", "SweepSpec", "Axis", "Cell",
           "load_spec", "parse_spec", "DEFAULT_MAX_CELLS", "Experiment", "Group", "register_experiment",
           "get_experiment", "experiment_names", "CellTask", "CellOutcome", "run_cell", "SweepWorkerPlugin"]
