"""Spec parsing, validation and grid expansion (no cluster)."""

from __future__ import annotations

import dataclasses
import math

import pytest

import devices
from cim_emu import CrossbarConfig
from cim_emu.rng import SeedStream
from cim_emu.sweep import cell_seed, load_spec, parse_spec
from cim_emu.sweep.overrides import apply_overrides, coerce_value


def _trng(**extra):
    spec = {"experiment": "trng", "seed": 5, "replicas": 2, "options": {"n_bits": 256},
            "axes": {"card.p_bit.sigma_v50_device_V": [0.0, 0.03], "options.mode": ["reset", "toggle"]}}
    spec.update(extra)
    if "options.n_bits" in spec["axes"]:
        spec["options"] = {}
    return spec


def test_cells_enumerate_points_major_replicas_minor_with_seeds_from_the_index():
    spec = parse_spec(_trng())
    cells = spec.cells()
    assert spec.n_points == 4 and spec.n_cells == 8 and [cell.index for cell in cells] == list(range(8))
    assert [(cell.point, cell.replica) for cell in cells[:4]] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # The first axis varies slowest.
    assert cells[2].values == {"card.p_bit.sigma_v50_device_V": 0.0, "options.mode": "toggle"}
    assert cells[4].values == {"card.p_bit.sigma_v50_device_V": 0.03, "options.mode": "reset"}
    assert [spec.cell(index) for index in range(8)] == cells
    seeds = [cell_seed(spec, cell.index) for cell in cells]
    assert seeds == [SeedStream(5).index(index).integer() for index in range(8)]
    assert len(set(seeds)) == 8


def test_cell_settings_carry_fixed_and_axis_values_into_the_library_objects():
    spec = parse_spec(_trng())
    settings = spec.build(spec.cells()[6])
    assert settings["card"].p_bit.sigma_v50_device_V == 0.03
    assert settings["options"].mode == "toggle" and settings["options"].n_bits == 256
    default = devices.default_card()
    # Everything not named keeps the base card's value; the pulse defaults to the card's operating point.
    assert settings["card"].data_bit == default.data_bit
    assert settings["pulse"].pulse_width_s == default.p_bit.pulse_width_s


def test_grids_linear_log_and_integer():
    spec = parse_spec({"experiment": "bench", "axes": {
        "energy.write.pulse_width_s": {"start": 5e-10, "stop": 9e-10, "num": 5},
        "energy.array.n_rows": {"start": 64, "stop": 1024, "num": 5, "scale": "log"}}})
    widths, rows = spec.axes
    assert widths.values == pytest.approx((5e-10, 6e-10, 7e-10, 8e-10, 9e-10), rel=1e-12)
    assert rows.values == (64, 128, 256, 512, 1024) and all(isinstance(v, int) for v in rows.values) and rows.log
    assert parse_spec({"experiment": "bench", "axes": {"energy.array.n_rows": {"start": 64, "stop": 64,
                                                                              "num": 1}}}).axes[0].values == (64.0,)


def test_nested_tables_and_quoted_dotted_keys_mean_the_same_setting():
    flat = parse_spec({"experiment": "trng", "card": {"p_bit.sigma_pulse_V": 0.2}})
    nested = parse_spec({"experiment": "trng", "card": {"p_bit": {"sigma_pulse_V": 0.2}}})
    assert flat.digest() == nested.digest()
    assert flat.build(flat.cells()[0])["card"].p_bit.sigma_pulse_V == 0.2


@pytest.mark.parametrize("spec, key, expected", [
    (_trng(axes={"card.p_bit.sigma_v50": [0.1]}), "card.p_bit.sigma_v50", "unknown field 'sigma_v50'"),
    (_trng(axes={"options.n_bits": []}), "axes.options.n_bits", "empty axis"),
    (_trng(axes={"options.n_bits": [256.5]}), "options.n_bits", "expected an integer"),
    (_trng(axes={"options.trimmed": [1]}), "options.trimmed", "expected true or false"),
    (_trng(axes={"card.p_bit.v50_V": ["high"]}), "card.p_bit.v50_V", "expected a number"),
    (_trng(axes={"card.p_bit.v50_V": [math.nan]}), "card.p_bit.v50_V", "NaN"),
    (_trng(axes={"card.p_bit.v50_V": [-1.0]}), "p_bit.v50_V", "must be a finite number > 0"),
    (_trng(axes={"card.p_bit": [1.0]}), "card.p_bit", "a section; set one of its fields"),
    (_trng(axes={"crossbar.adc_bits": [4]}), "axes.crossbar.adc_bits", "group one of card, pulse, options"),
    (_trng(axes={"options.n_bits": {"start": 1, "stop": 9}}), "axes.options.n_bits", "missing num"),
    (_trng(axes={"options.n_bits": {"start": 1, "stop": 9, "num": 0}}), "axes.options.n_bits.num", ">= 1"),
    (_trng(axes={"options.n_bits": [256, 256]}), "axes.options.n_bits", "repeats a value"),
    (_trng(axes={"options.mode": ["sideways"]}), "options.mode", "'reset' or 'toggle'"),
    (_trng(axes={}, options={"n_bits": 256}, pulse={"voltage_V": 1.6}), "pulse.voltage_V", "options.trimmed"),
    (_trng(replicas=0), "replicas", "integer >= 1"),
    (_trng(seed=-1), "seed", "integer >= 0"),
    (_trng(seeds=3), "seeds", "unknown key"),
    ({"experiment": "teleport"}, "teleport", "unknown experiment"),
    ({"experiment": "regress", "options": {"seed": 3}}, "options.seed", "cannot be set"),
    ({"experiment": "regress", "axes": {"options.crossbar.adc_bits": [4]}}, "options.crossbar.adc_bits",
     "cannot be swept"),
    ({"experiment": "regress", "axes": {"crossbar.adc_range_cells": [16.0, "none"]}},
     "crossbar.adc_range_cells = 'none'", "needs a full scale"),
])
def test_bad_specs_are_refused_naming_the_key(spec, key, expected):
    with pytest.raises(ValueError) as error:
        parse_spec(spec, source="spec.toml")
    message = str(error.value)
    assert message.startswith("spec.toml: ") and key in message and expected in message, message


def test_the_cell_limit_names_the_size_and_the_flag():
    spec = _trng(replicas=100, axes={"options.n_bits": {"start": 64, "stop": 128, "num": 65}})
    with pytest.raises(ValueError, match=r"6500 cells .* exceed the limit of 1000; raise it with --max-cells 6500"):
        parse_spec(spec, max_cells=1000)
    assert parse_spec(spec, max_cells=6500).n_cells == 6500


def test_none_selects_an_ideal_converter_where_the_field_allows_it():
    spec = parse_spec({"experiment": "regress", "crossbar": {"adc_range_cells": 16.0},
                       "axes": {"crossbar.adc_bits": [4, "none"]}})
    assert [spec.build(cell)["crossbar"].adc_bits for cell in spec.cells()] == [4, None]


def test_overrides_rebuild_nested_frozen_objects_and_keep_the_base():
    card = devices.default_card()
    changed = apply_overrides(card, {"p_bit.sigma_v50_device_V": 0.07, "data_bit.tmr0": 1.5}, "card")
    assert changed.p_bit.sigma_v50_device_V == 0.07 and changed.data_bit.tmr0 == 1.5
    assert card.p_bit.sigma_v50_device_V != 0.07  # frozen base untouched
    assert dataclasses.replace(changed.p_bit, sigma_v50_device_V=card.p_bit.sigma_v50_device_V) == card.p_bit
    both = apply_overrides(CrossbarConfig(), {"adc_bits": "none", "adc_range_cells": "none"}, "crossbar")
    assert both.adc_bits is None and both.adc_range_cells is None  # cross-field check sees both changes at once


@dataclasses.dataclass(frozen=True)
class _Loud:
    gain: float = 2.0


@dataclasses.dataclass(frozen=True)
class _Quiet:
    pass


@dataclasses.dataclass(frozen=True)
class _Wire:
    ohm: float = 0.1


@dataclasses.dataclass(frozen=True, kw_only=True, init=False)
class _Composed:
    """A configuration made of parts, with one flat name kept for compatibility (like CrossbarConfig)."""

    noise: _Loud | _Quiet | None = None
    wire: _Wire | None = None

    def __init__(self, *, noise=None, wire=None, wire_ohm=None):
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "wire", _Wire(wire_ohm) if wire_ohm is not None else wire)

    @property
    def wire_ohm(self) -> float | None:
        return None if self.wire is None else self.wire.ohm


def test_parts_by_class_name_table_or_dotted_path_and_flat_compatibility_names():
    base = _Composed()
    assert apply_overrides(base, {"noise": "_Quiet"}, "c").noise == _Quiet()
    assert apply_overrides(base, {"noise": {"kind": "_Loud", "gain": 3}}, "c").noise == _Loud(3.0)
    assert apply_overrides(apply_overrides(base, {"noise": "_Loud"}, "c"), {"noise": "none"}, "c").noise is None
    # A dotted path through a part that is None switches the part on (its defaults plus the field).
    assert apply_overrides(base, {"wire.ohm": 0.5}, "c").wire == _Wire(0.5)
    # A flat name kept as a property is set through the constructor's keyword.
    assert apply_overrides(base, {"wire_ohm": 0.7}, "c").wire == _Wire(0.7)
    with pytest.raises(ValueError, match=r"c.noise: name the part with kind = one of \['_Loud', '_Quiet'\]"):
        apply_overrides(base, {"noise": {"gain": 3.0}}, "c")
    with pytest.raises(ValueError, match=r"c.noise: expected one of \['_Loud', '_Quiet'\]"):
        apply_overrides(base, {"noise": "_Silent"}, "c")
    with pytest.raises(ValueError, match="c.noise.gain: 'noise' is a value, not a section"):
        apply_overrides(base, {"noise.gain": 1.0}, "c")  # two kinds admit it: the path is ambiguous


def test_coercion_is_strict():
    assert coerce_value(3, float, "x") == 3.0 and isinstance(coerce_value(3, float, "x"), float)
    for value, annotation in ((True, int), (True, float), (2.0, int), ("1", float), (math.inf, float)):
        with pytest.raises(ValueError, match="x: expected"):
            coerce_value(value, annotation, "x")


def test_toml_files_report_the_line_and_resolve_card_files_beside_the_spec(tmp_path):
    devices.save_card(dataclasses.replace(devices.default_card(), name="mine"), tmp_path / "card.json")
    good = tmp_path / "good.toml"
    good.write_text('experiment = "trng"\ncard_file = "card.json"\n[options]\nn_bits = 128\n')
    assert load_spec(good).base_card().name == "mine"
    bad = tmp_path / "bad.toml"
    bad.write_text('experiment = "trng"\n[axes]\n"options.n_bits" = = [1, 2]\n')
    with pytest.raises(ValueError, match=r"bad.toml: not valid TOML: .*line 3"):
        load_spec(bad)


def test_the_example_specs_in_the_docs_are_valid():
    import pathlib

    examples = sorted((pathlib.Path(__file__).parents[3] / "docs" / "examples").glob("sweep_*.toml"))
    assert len(examples) >= 4
    for path in examples:
        spec = load_spec(path)
        assert spec.n_cells >= 2 and spec.axes, path
