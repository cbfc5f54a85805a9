"""Weight files: self-describing, refused when of the wrong kind or broken."""

from __future__ import annotations

import pytest

from diffusion import read_weights
from diffusion.pretrained import WEIGHTS_DIR


def test_weight_file_of_wrong_kind_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="expected 'classifier'"):
        read_weights(WEIGHTS_DIR / "vae.pt", kind="classifier")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a weight file")
    with pytest.raises(ValueError, match="broken.pt"):
        read_weights(broken, kind="vae")
