"""CrossbarConfig composed of parts (DAC, ADC, read noise, IR drop); the flat names of earlier versions still work."""

from __future__ import annotations

import dataclasses
import math
import pathlib

import pytest
import torch

from cim_emu import (
    ADC,
    DAC,
    ColumnReadNoise,
    CrossbarConfig,
    CrossbarLinear,
    FirstOrderIRDrop,
    PerCellReadNoise,
    ReadNoiseModel,
)

SAVED_LAYER = pathlib.Path(__file__).parent / "data" / "crossbar_linear_saved_before_config_parts.pt"


def test_defaults_are_the_documented_parts():
    config = CrossbarConfig()
    assert config.dac == DAC(bits=8) and config.adc == ADC(bits=8, range_cells=16.0)
    assert config.read_noise == ColumnReadNoise() and config.ir_drop is None and config.device_variation


def test_the_flat_keywords_build_the_same_config_as_the_parts():
    parts = CrossbarConfig(weight_bits=2, dac=DAC(bits=6, voltage_V=0.15, input_range=2.0),
                           adc=ADC(bits=7, range_cells=8.0), read_noise=PerCellReadNoise(),
                           ir_drop=FirstOrderIRDrop(0.3))
    flat = CrossbarConfig(weight_bits=2, dac_bits=6, dac_voltage_V=0.15, input_range=2.0, adc_bits=7,
                          adc_range_cells=8.0, read_noise=True, read_noise_model=ReadNoiseModel.PER_CELL, ir_drop=True,
                          wire_resistance_per_cell_ohm=0.3)
    assert parts == flat and hash(parts) == hash(flat)
    assert CrossbarConfig(read_noise=False) == CrossbarConfig(read_noise=None)
    assert CrossbarConfig(ir_drop=True) == CrossbarConfig(ir_drop=FirstOrderIRDrop(0.1))
    assert CrossbarConfig(ir_drop=False, wire_resistance_per_cell_ohm=0.7).ir_drop is None


def test_the_flat_attribute_names_read_the_parts():
    config = CrossbarConfig(dac=DAC(bits=6, voltage_V=0.15, input_range=2.0), adc=ADC(bits=7, range_cells=8.0),
                            read_noise=PerCellReadNoise(), ir_drop=FirstOrderIRDrop(0.3))
    assert (config.dac_bits, config.dac_voltage_V, config.input_range) == (6, 0.15, 2.0)
    assert (config.adc_bits, config.adc_range_cells) == (7, 8.0)
    assert config.read_noise_model is ReadNoiseModel.PER_CELL and config.wire_resistance_per_cell_ohm == 0.3
    assert config.read_noise and config.ir_drop  # truthy exactly where the old flags were True
    plain = CrossbarConfig(read_noise=None)
    assert not plain.read_noise and not plain.ir_drop
    assert plain.read_noise_model is ReadNoiseModel.COLUMN and plain.wire_resistance_per_cell_ohm == 0.1
    with pytest.raises(AttributeError):
        config.adc_bits = 4


def test_replace_takes_flat_names_and_parts():
    config = CrossbarConfig()
    assert dataclasses.replace(config, adc_bits=6).adc == ADC(bits=6, range_cells=16.0)
    assert dataclasses.replace(config, adc_bits=None, adc_range_cells=None).adc == ADC(bits=None, range_cells=None)
    assert dataclasses.replace(config, read_noise=False).read_noise is None
    assert dataclasses.replace(config, read_noise_model=ReadNoiseModel.PER_CELL).read_noise == PerCellReadNoise()
    with_ir = dataclasses.replace(config, ir_drop=FirstOrderIRDrop(0.2))
    assert dataclasses.replace(with_ir, wire_resistance_per_cell_ohm=0.5).ir_drop == FirstOrderIRDrop(0.5)
    assert dataclasses.replace(config, dac=DAC(bits=4)).dac_bits == 4
    ideal = CrossbarConfig.ideal()
    assert ideal.dac == DAC(bits=None) and ideal.adc == ADC(bits=None, range_cells=None) and ideal.read_noise is None
    assert CrossbarConfig.ideal(adc_bits=8, adc_range_cells=16.0).adc == ADC(bits=8, range_cells=16.0)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: DAC(bits=1), r"DAC.bits: must be an integer in \[2, 24\]"),
    (lambda: DAC(voltage_V=math.nan), "DAC.voltage_V: must be a finite number > 0"),
    (lambda: ADC(bits=8, range_cells=None), "ADC.range_cells: a 8-bit ADC needs a full scale"),
    (lambda: ADC(range_cells=math.inf), "ADC.range_cells: must be a finite number > 0"),
    (lambda: FirstOrderIRDrop(-0.1), "FirstOrderIRDrop.wire_resistance_per_cell_ohm: must be a finite number >= 0"),
    (lambda: FirstOrderIRDrop(math.nan), "FirstOrderIRDrop.wire_resistance_per_cell_ohm"),
    (lambda: CrossbarConfig(dac=8), r"CrossbarConfig.dac: expected a DAC \(e.g. DAC\(bits=8\)\)"),
    (lambda: CrossbarConfig(adc=DAC()), "CrossbarConfig.adc: expected an ADC"),
    (lambda: CrossbarConfig(read_noise="column"), "CrossbarConfig.read_noise: expected ColumnReadNoise"),
    (lambda: CrossbarConfig(ir_drop=0.1), r"CrossbarConfig.ir_drop: expected FirstOrderIRDrop"),
    (lambda: CrossbarConfig(adc_bits=3.0), "CrossbarConfig.adc_bits: must be an integer"),
    (lambda: CrossbarConfig(wire_resistance_per_cell_ohm=math.inf), "CrossbarConfig.wire_resistance_per_cell_ohm"),
    (lambda: CrossbarConfig.from_dict({"read_noise_model": "per_pixel"}), "read_noise_model: expected one of"),
    (lambda: CrossbarConfig.from_dict({"read_noise": "yes"}), "read_noise: must be true or false"),
])
def test_bad_parts_are_named_with_their_fix(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_unknown_keywords_are_refused_by_name():
    with pytest.raises(TypeError, match=r"unexpected keyword\(s\) \['adc_bitz'\]"):
        CrossbarConfig(adc_bitz=8)


def test_the_saved_schema_is_the_flat_one_and_round_trips():
    config = CrossbarConfig(adc=ADC(bits=6, range_cells=4.0), read_noise=PerCellReadNoise(),
                            ir_drop=FirstOrderIRDrop(1))
    data = config.to_dict()
    assert data["adc_bits"] == 6 and data["read_noise"] is True and data["read_noise_model"] == "per_cell"
    assert data["ir_drop"] is True and data["wire_resistance_per_cell_ohm"] == 1
    assert CrossbarConfig.from_dict(data) == config


def test_a_layer_saved_before_the_parts_loads_and_reproduces_its_outputs():
    saved = torch.load(SAVED_LAYER, weights_only=True)
    expected = CrossbarConfig(dac=DAC(bits=6), adc=ADC(bits=7, range_cells=12.0), array_rows=4, array_cols=2,
                              ir_drop=FirstOrderIRDrop(0.2), read_noise=None)
    assert CrossbarConfig.from_dict(saved["config"]) == expected
    layer = CrossbarLinear(6, 3)
    layer.load_state_dict(saved["state_dict"])
    layer.eval()
    assert layer.config == expected and layer.programmed
    with torch.no_grad():
        outputs = layer(saved["inputs"], generator=torch.Generator().manual_seed(3))
    # No read noise: the output is a function of the saved conductances (float32 sums in any order).
    torch.testing.assert_close(outputs, saved["outputs"], rtol=1e-5, atol=1e-6)
