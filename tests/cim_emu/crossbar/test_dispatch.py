"""The CPU path dispatch (probe, override, report) and the backend registry for other devices."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch

import devices
from cim_emu import CrossbarConfig, CrossbarTile, MCDropConnectLinear
from cim_emu.crossbar.kernels import dispatch
from cim_emu.crossbar.kernels.backend import FloatBackend, IntegerBackend, select_backend
from cim_emu.crossbar.kernels.dispatch import CPU_PATH_ENV, ProbeTimes, choose_cpu_path, cpu_path_report


@pytest.mark.parametrize("ratios, expected", [
    # AVX2-only CPU (measured: _int_mm 45-320x, bfloat16 30-360x a float32 GEMM): both GEMMs in float32.
    (ProbeTimes(int8=322.0, bfloat16=134.0), ("float32", "float32")),
    # AVX-512 BF16/VNNI (measured ~0.24 each): both reduced-precision GEMMs.
    (ProbeTimes(int8=0.24, bfloat16=0.25), ("int8", "bfloat16")),
    # Only one of them fast, or a torch without _int_mm.
    (ProbeTimes(int8=40.0, bfloat16=0.3), ("float32", "bfloat16")),
    (ProbeTimes(int8=None, bfloat16=0.3), ("float32", "bfloat16")),
    # Under heavy load the fast cluster stretches to ~0.8; beyond twice a float32 GEMM: float32.
    (ProbeTimes(int8=0.82, bfloat16=1.9), ("int8", "bfloat16")),
    (ProbeTimes(int8=2.5, bfloat16=8.0), ("float32", "float32")),
])
def test_choice_follows_the_measured_ratios(ratios, expected):
    assert choose_cpu_path(ratios) == expected


def test_the_probe_measures_both_candidates_and_the_decision_follows_it(monkeypatch):
    monkeypatch.delenv(CPU_PATH_ENV, raising=False)
    report = cpu_path_report()
    assert report.source == "probe"
    assert report.cpu_capability == torch.backends.cpu.get_cpu_capability()
    assert set(report.ratios) == {"int8", "bfloat16"}
    assert all(value is None or value > 0 for value in report.ratios.values())
    kirchhoff, variance = choose_cpu_path(ProbeTimes(**report.ratios))
    # The rounded ratios shown in the report lead to the path in use (margins keep rounding harmless).
    assert dispatch.cpu_decision() == (kirchhoff, variance)
    assert report.cpu_capability in report.summary() and report.path in report.summary()
    assert report.to_dict()["path"] == report.path


@pytest.mark.parametrize("value, path", [("float32", "float32"), ("int8", "int8"), (" INT8 ", "int8")])
def test_the_override_pins_the_path(monkeypatch, value, path):
    monkeypatch.setenv(CPU_PATH_ENV, value)
    report = cpu_path_report()
    assert report.path == path and report.source == f"{CPU_PATH_ENV}={path}" and report.ratios == {}
    backend = select_backend("cpu", torch.float32, 8)
    assert isinstance(backend, IntegerBackend if path == "int8" else FloatBackend)
    assert backend.variance_method == ("bfloat16" if path == "int8" else "float")
    # float64 tiles stay exact on every path.
    assert select_backend("cpu", torch.float64, 8).variance_method == "float"


def test_a_bad_override_names_the_variable_and_the_choices(monkeypatch):
    monkeypatch.setenv(CPU_PATH_ENV, "avx9000")
    with pytest.raises(ValueError, match=r"CIM_EMU_CPU_PATH='avx9000'.*auto, float32, int8"):
        cpu_path_report()


class _CountingBackend(FloatBackend):
    """A stand-in for a device backend (e.g. Triton on CUDA): the float backend, counting its preparations."""

    def __init__(self):
        super().__init__("float")
        self.name = "counting"
        self.prepared = 0

    def prepare(self, mean_S, variance_S2, volts_per_code):
        self.prepared += 1
        return super().prepare(mean_S, variance_S2, volts_per_code)


def test_a_registered_backend_serves_its_device_type(monkeypatch):
    monkeypatch.setattr(dispatch, "_REGISTRY", {})
    monkeypatch.setattr(dispatch, "_INSTANCES", {})
    made = []
    dispatch.register_backend("meta", lambda dtype: made.append(dtype) or _CountingBackend())
    backend = select_backend("meta", torch.float32, 8)
    assert isinstance(backend, _CountingBackend) and select_backend("meta", torch.float32, 8) is backend
    assert made == [torch.float32]                       # one instance per (device type, dtype)
    assert select_backend("cuda", torch.float32, 8).variance_method == "bfloat16"   # unregistered: generic
    with pytest.raises(ValueError, match="device_type"):
        dispatch.register_backend("cpu", lambda dtype: None)
    with pytest.raises(ValueError, match="factory"):
        dispatch.register_backend("meta", "not callable")


def test_operands_are_prepared_once_per_state_and_dropped_on_copies(monkeypatch):
    monkeypatch.setenv(CPU_PATH_ENV, "float32")
    card = devices.default_card()
    weight = torch.randn(12, 50, generator=torch.Generator().manual_seed(1))
    tile = CrossbarTile.program(weight, config=CrossbarConfig(array_rows=16), card=card,
                                generator=torch.Generator().manual_seed(2))
    counting = _CountingBackend()
    monkeypatch.setattr("cim_emu.crossbar.tiles.base.select_backend", lambda *args: counting)
    inputs = torch.randn(3, 50, generator=torch.Generator().manual_seed(3))
    first = tile(inputs, generator=torch.Generator().manual_seed(4))
    tile(inputs, generator=torch.Generator().manual_seed(4))
    assert counting.prepared == 1
    # Pickles and deep copies carry the state, not the prepared operands; they run and agree.
    for clone in (pickle.loads(pickle.dumps(tile)), copy.deepcopy(tile)):
        assert clone._plan is None
        torch.testing.assert_close(clone(inputs, generator=torch.Generator().manual_seed(4)), first)
    tile.load_state_dict(tile.state_dict())               # a new programmed state: prepared again
    tile(inputs, generator=torch.Generator().manual_seed(4))
    assert counting.prepared == 4


@pytest.mark.parametrize("path", ["int8", "float32"])
def test_mc_dropconnect_layer_mean_on_each_path(path, monkeypatch):
    # The programmed layer's outputs average to its exact expected output on either path: 400 samples of
    # 4 rows, every output within 5 standard errors (the ADC rounding adds at most half a step per block).
    monkeypatch.setenv(CPU_PATH_ENV, path)
    layer = MCDropConnectLinear(60, 10, bias=False, config=CrossbarConfig(weight_bits=1, array_rows=32, adc_bits=None),
                                generator=torch.Generator().manual_seed(1))
    layer.program(generator=torch.Generator().manual_seed(2)).eval()
    inputs = torch.randn(4, 60, generator=torch.Generator().manual_seed(3))
    samples = layer(inputs, generator=torch.Generator().manual_seed(4), n_samples=400).double()
    expected = layer.expected_output(inputs).double()
    standard_error = samples.std(dim=0) / math.sqrt(samples.shape[0])
    assert torch.all((samples.mean(dim=0) - expected).abs() < 5 * standard_error + 1e-6 * expected.abs())
