"""Dispatch to the Triton kernels: CUDA tensors use them when triton is installed, else torch ops after one
warning; importing the package costs no triton import. No triton needed to run these."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

import cim_emu.crossbar.kernels.triton as triton_kernels
from cim_emu.crossbar.kernels.masked_mvm import MaskBackend, default_backend


@pytest.fixture
def fresh_warning():
    # The fallback warning is given once per process: reset it around each test.
    triton_kernels._warn_fallback.cache_clear()
    yield
    triton_kernels._warn_fallback.cache_clear()


def test_cuda_without_triton_falls_back_to_torch_with_one_warning(monkeypatch, fresh_warning):
    monkeypatch.setattr(triton_kernels, "triton_available", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"pip install 'cim-emu\[gpu\]'") as caught:
        assert default_backend("cuda") is MaskBackend.TORCH
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert default_backend("cuda:0") is MaskBackend.TORCH
        assert triton_kernels.cuda_tile_backend(None) is None


def test_cuda_with_triton_uses_the_triton_kernels(monkeypatch, fresh_warning):
    monkeypatch.setattr(triton_kernels, "triton_available", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert default_backend("cuda") is MaskBackend.TRITON
        assert triton_kernels.use_triton("cuda:1")


def test_cpu_never_uses_triton(monkeypatch):
    monkeypatch.setattr(triton_kernels, "triton_available", lambda: True)
    assert default_backend("cpu") is MaskBackend.NUMBA
    assert not triton_kernels.use_triton("cpu")


def test_importing_the_package_does_not_import_triton():
    # Checked on the source (triton may already be loaded in this process): no module-level import of it.
    tree = ast.parse(Path(triton_kernels.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert "triton" not in imported and "torch" in imported
    assert set(triton_kernels._LAZY) <= set(triton_kernels.__all__)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no_such_kernel"):
        triton_kernels.no_such_kernel  # noqa: B018


def test_cuda_tiles_get_the_triton_backend_or_the_generic_one(monkeypatch, fresh_warning):
    import torch

    from cim_emu.crossbar.kernels import dispatch
    from cim_emu.crossbar.kernels.backend import FloatBackend, select_backend

    # Importing the kernels package registered the factory; re-registering clears the per-dtype instances.
    assert dispatch._REGISTRY.get("cuda") is triton_kernels.cuda_tile_backend
    try:
        monkeypatch.setattr(triton_kernels, "triton_available", lambda: True)
        dispatch.register_backend("cuda", triton_kernels.cuda_tile_backend)
        assert select_backend("cuda", torch.float32, 8).name.startswith("triton")
        monkeypatch.setattr(triton_kernels, "triton_available", lambda: False)
        dispatch.register_backend("cuda", triton_kernels.cuda_tile_backend)
        with pytest.warns(RuntimeWarning, match="unfused torch ops"):
            backend = select_backend("cuda", torch.float32, 8)
        assert type(backend) is FloatBackend
    finally:
        monkeypatch.undo()
        dispatch.register_backend("cuda", triton_kernels.cuda_tile_backend)
