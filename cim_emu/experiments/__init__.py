"""Experiments: the runs behind the paper's figures, composed from the public API (library code, no printing).

Like the CLI, this package sits at the top of the dependency graph: an experiment may use ``diffusion``.
"""
