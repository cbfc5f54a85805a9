"""CrossbarConfig and WritePulse: frozen, validated, round-tripping; bad values named with their fix."""

from __future__ import annotations

import dataclasses
import json

import pytest

import devices
from cim_emu import CrossbarConfig, ReadNoiseModel, WritePulse


@pytest.mark.parametrize("field, value, message", [
    ("adc_range_cells", 0.0, "adc_range_cells: must be a finite number > 0"),
    ("adc_range_cells", float("nan"), "adc_range_cells"),
    ("adc_bits", 1, r"adc_bits: must be an integer in \[2, 24\]"),
    ("dac_bits", 8.0, "dac_bits"),
    ("weight_bits", 0, "weight_bits"),
    ("dac_voltage_V", -0.2, "dac_voltage_V: must be a finite number > 0"),
    ("input_range", 0, "input_range"),
    ("array_rows", 0, "array_rows: must be an integer >= 1"),
    ("wire_resistance_per_cell_ohm", -1.0, "wire_resistance_per_cell_ohm"),
    ("read_noise", 1, r"read_noise: expected ColumnReadNoise\(\), PerCellReadNoise\(\) or None"),
    ("read_noise_model", "column", "read_noise_model: must be a ReadNoiseModel"),
])
def test_bad_values_are_rejected_with_the_field_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        CrossbarConfig(**{field: value})


def test_finite_adc_needs_a_range():
    with pytest.raises(ValueError, match="adc_range_cells: a 8-bit ADC needs a full scale"):
        CrossbarConfig(adc_range_cells=None)
    assert CrossbarConfig(adc_bits=None, adc_range_cells=None).adc_range_cells is None


def test_config_is_frozen_and_round_trips_through_json():
    config = CrossbarConfig(weight_bits=3, read_noise_model=ReadNoiseModel.PER_CELL, ir_drop=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.adc_bits = 4
    assert CrossbarConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown field"):
        CrossbarConfig.from_dict({"adc_bitz": 8})
    assert CrossbarConfig.ideal().n_slices == 1 and config.n_slices == 3


def test_write_pulse_for_a_keep_probability():
    card = devices.default_card()
    pulse = WritePulse.for_keep_probability(card, 0.8)
    probability = float(devices.switching_probability(card.p_bit, pulse.voltage_V, pulse.pulse_width_s))
    assert probability == pytest.approx(0.8, abs=1e-9)
    assert WritePulse.from_card(card).voltage_V == card.p_bit.write_voltage_V
    with pytest.raises(ValueError, match=r"probability: must be in \(0, 1\)"):
        WritePulse.for_keep_probability(card, 1.2)
    with pytest.raises(ValueError, match="WritePulse.pulse_width_s"):
        WritePulse(pulse_width_s=0.0)
