"""devices.io's JSON writer: valid JSON whatever floats the payload holds."""

from __future__ import annotations

import json
import math

import numpy as np

from devices.io import json_ready, write_json


def test_write_json_writes_non_finite_floats_as_null_and_numpy_as_plain_numbers(tmp_path):
    path = write_json(tmp_path / "out.json", {"a": math.nan, "b": [1.0, math.inf, np.float32(2.5)],
                                              "c": np.arange(3), 4: (np.nan,)})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None, 2.5], "c": [0, 1, 2], "4": [None]}
    assert json_ready((1, -math.inf)) == [1, None]
