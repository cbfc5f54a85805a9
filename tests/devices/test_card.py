"""Device card: round trip, validation, and the paper's numbers from the shipped default."""

from __future__ import annotations

import dataclasses
import json
import os
import stat

import pytest

import devices


def test_default_card_reproduces_the_paper():
    summary = devices.summarize(devices.default_card())
    assert abs(summary.tmr_at_read - 0.65) <= 0.02  # TMR 65 % +- 2 points at 0.2 V
    assert summary.tmr_low_bias > 1.0  # standalone TMR above 100 %
    assert abs(summary.v50_V - 1.50) <= 0.05
    assert abs(summary.window_10_90_V - 1.0) <= 0.15
    assert abs(summary.first_peak_s - 700e-12) <= 35e-12
    assert summary.pair_margin_sigma >= 6.0
    assert summary.endurance_cycles >= 1e12
    assert summary.read_voltage_V == pytest.approx(0.2)


def test_card_round_trips(tmp_path):
    card = devices.default_card()
    path = tmp_path / "card.json"
    devices.save_card(card, path)
    again = devices.load_card(path)
    assert again == card
    assert again.to_dict() == card.to_dict()


def test_unknown_and_missing_fields_are_named(tmp_path):
    data = devices.default_card().to_dict()
    data["p_bit"]["v50"] = 1.5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"p_bit: unknown field\(s\) \['v50'\]"):
        devices.load_card(path)
    data = devices.default_card().to_dict()
    del data["data_bit"]["tmr0"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"data_bit: missing field\(s\) \['tmr0'\]"):
        devices.load_card(path)


def test_invalid_values_name_the_parameter():
    params = devices.default_card().p_bit
    with pytest.raises(ValueError, match="p_bit.sigma_pulse_V"):
        dataclasses.replace(params, sigma_pulse_V=-0.1)
    with pytest.raises(ValueError, match="data_bit.read_noise_ln"):
        dataclasses.replace(devices.default_card().data_bit, read_noise_ln=float("nan"))


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  oops\n}')
    with pytest.raises(ValueError, match="line 3"):
        devices.load_card(path)


def test_save_is_atomic_on_failure(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("old")

    class Unserialisable:
        pass

    card = dataclasses.replace(devices.default_card(), provenance={"bad": Unserialisable()})
    with pytest.raises(TypeError):
        devices.save_card(card, path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]


def test_saved_files_get_the_permissions_of_an_ordinary_file(tmp_path):
    # atomic_write's temporary file starts as 0600 (mkstemp); the result must follow the umask like open().
    mask = os.umask(0o022)
    try:
        devices.save_card(devices.default_card(), tmp_path / "card.json")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "card.json").stat().st_mode) == 0o644
