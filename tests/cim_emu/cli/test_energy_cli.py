"""``cim-emu bench``: JSON keys, text, --counts, --config, --plot, --check, bad input."""

from __future__ import annotations

import json
import os

import pytest

from cim_emu import OpCounts
from cim_emu.cli import main

GENERATION_KEYS = {"throughput_bit_per_ns", "energy_pJ_per_bit", "area_um2"}


def _bench_json(capsys, *arguments: str) -> dict:
    assert main(["bench", "--json", *arguments]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_the_issue_keys(capsys):
    report = _bench_json(capsys)
    assert GENERATION_KEYS <= set(report["in_situ"])
    assert len(report["ex_situ"]) == 3
    assert all(GENERATION_KEYS <= set(entry) for entry in report["ex_situ"])
    assert {"throughput", "efficiency"} <= set(report["ratios"])
    assert {"pdnn", "end_to_end", "table2", "literature"} <= set(report)
    assert report["in_situ"]["throughput_bit_per_ns"] == pytest.approx(29.8, rel=0.02)
    assert report["in_situ"]["energy_pJ_per_bit"] == pytest.approx(0.089, rel=0.02)
    assert report["in_situ"]["area_um2"] == 0.0
    assert report["ratios"]["throughput"] == pytest.approx(6.0, rel=0.02)
    assert report["ratios"]["efficiency"] == pytest.approx(2.19, rel=0.02)
    assert report["table2"]["within_tolerance"] is True
    assert report["pdnn"]["fpga"]["measured_gain"] == pytest.approx(2.55, abs=0.005)
    assert report["end_to_end"]["available"] is False
    assert "generate" in report["end_to_end"]["note"]


def test_text_output_and_check(capsys):
    assert main(["bench", "--check"]) == 0
    text = capsys.readouterr().out
    assert "in_situ" in text and "ex_situ_pcb" in text and "within 2 %" in text


def test_counts_fill_end_to_end(tmp_path, capsys):
    path = tmp_path / "op_counts.json"
    in_situ = OpCounts(mvm_calls=4, cell_reads=800, adc_conversions=40, pbit_pulses=400)
    ex_situ = OpCounts(mvm_calls=4, cell_reads=800, adc_conversions=40, trng_bits_generated=40, bits_moved=40)
    path.write_text(json.dumps({"n_images": 2, "in_situ": in_situ.to_dict(), "ex_situ": ex_situ.to_dict()}))
    report = _bench_json(capsys, "--counts", str(path))
    end_to_end = report["end_to_end"]
    assert end_to_end["available"] is True
    assert end_to_end["n_images"] == 2
    assert end_to_end["in_situ"]["random_bits_per_image"] == 200
    assert end_to_end["ex_situ"]["random_bits_per_image"] == 20


def test_config_file_changes_the_model_and_dump_round_trips(tmp_path, capsys):
    config = tmp_path / "energy.json"
    config.write_text(json.dumps({"write": {"pulse_width_s": 1.4e-9}}))
    dumped = tmp_path / "full.json"
    report = _bench_json(capsys, "--config", str(config), "--dump-config", str(dumped))
    assert report["in_situ"]["energy_pJ_per_bit"] > 0.089 * 1.02
    assert report["table2"]["within_tolerance"] is False
    assert json.loads(dumped.read_text())["write"]["pulse_width_s"] == 1.4e-9
    # --check turns the verdict into exit code 1.
    assert main(["bench", "--config", str(config), "--check"]) == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (json.dumps({"array": {"access_junction_capacitance_F": -1e-15}}), ["access_junction_capacitance_F", ">= 0"]),
        (json.dumps({"write": {"pulse_width_s": 0}}), ["pulse_width_s", "cycle time"]),
        (json.dumps({"wrong": {}}), ["unknown key", "wrong"]),
        ("{", ["not valid JSON"]),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path, capsys, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["bench", "--config", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0]
    for word in words:
        assert word in lines[0]


def test_missing_counts_file_exits_2(tmp_path, capsys):
    assert main(["bench", "--counts", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_plot_directory(tmp_path, capsys):
    directory = tmp_path / "plots"
    report = _bench_json(capsys, "--plot", str(directory))
    names = sorted(os.listdir(directory))
    assert "table2_landscape.png" in names
    assert {
        "sweep_array_size.png",
        "sweep_parallel_columns.png",
        "sweep_pulse_width.png",
        "sweep_pulse_amplitude.png",
        "sweep_adc_bits.png",
        "sweep_samples.png",
    } <= set(names)
    assert len(report["plots"]) == len(names)


def test_card_option(capsys):
    pytest.importorskip("devices")
    report = _bench_json(capsys, "--card", "default")
    assert report["card"] == "default"
    # The fitted card's larger R_P lowers the Joule heating a little, and its operating point (the median
    # device's 50 % voltage at 700 ps, 1.485 V instead of 1.5 V) lowers the V^2 terms by 2 %.
    assert report["in_situ"]["energy_pJ_per_bit"] < 0.089
    assert report["in_situ"]["energy_pJ_per_bit"] == pytest.approx(0.089 * (1.485 / 1.5) ** 2, rel=0.02)
