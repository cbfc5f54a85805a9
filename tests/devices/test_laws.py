"""One formula for the junction laws: the device models and the (torch-free) energy model use devices.laws."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

import devices
from cim_emu.energy import MTJElectrical
from devices import laws


def test_laws_reference_values():
    assert laws.pillar_area_m2(60e-9) == pytest.approx(math.pi * 9e-16, rel=1e-15)
    assert laws.parallel_resistance_ohm(2.5e-10, math.pi * 9e-16) == pytest.approx(88419.41, rel=1e-6)
    assert laws.tmr_at_bias_V(1.08, 0.2459, 0.0) == 1.08
    assert laws.tmr_at_bias_V(1.08, 0.2459, 0.2459) == pytest.approx(0.54, rel=1e-15)  # halves at V_h


def test_energy_and_device_models_share_the_laws_exactly():
    card = devices.default_card()
    junction = MTJElectrical.from_card(card)
    assert junction.area_m2 == card.data_bit.area_m2
    assert junction.parallel_resistance_ohm == devices.resistance_parallel_ohm(card.data_bit)
    for bias_V in (0.0, 0.2, 0.7, 1.5):
        assert junction.tmr_at(bias_V) == devices.tmr_at_bias(card.data_bit, bias_V)
    bias = torch.tensor([0.0, 0.2, 1.5], dtype=torch.float64)
    as_tensor = devices.tmr_at_bias(card.data_bit, bias)
    # Same formula; torch's and Python's pow may differ in the last bit.
    assert as_tensor.tolist() == pytest.approx([junction.tmr_at(float(v)) for v in bias], rel=1e-15)


def test_the_energy_model_imports_without_torch():
    code = "import sys, cim_emu.energy; assert 'torch' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
