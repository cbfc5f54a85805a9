"""The run's figures: plain matplotlib Figures (no pyplot state), saved atomically as PNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from diffusion.io import save_figure
from diffusion.plots import calibration_figure, image_grid_figure, umap_figure


def _is_plain_figure(figure) -> bool:
    # A pyplot figure has a figure manager (pyplot's global registry holds it); a plain Figure has none.
    return isinstance(figure, Figure) and figure.canvas.manager is None


def test_figures_are_plain_and_save_as_png(tmp_path):
    images = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    grid = image_grid_figure(images, n_columns=8, title="grid")
    assert _is_plain_figure(grid)
    canvas = grid.axes[0].images[0].get_array()
    # 3 rows x 8 columns of 8x8 digits with a 1-pixel border, drawn inverted (ink dark).
    assert canvas.shape == (3 * 9 + 1, 8 * 9 + 1)
    assert np.allclose(canvas[1:9, 1:9], 1.0 - images[0, 0].numpy())
    generator = np.random.default_rng(0)
    embeddings = {"real": generator.normal(size=(30, 2)), "in-situ": generator.normal(size=(10, 2))}
    umap = umap_figure(embeddings, {"real": np.arange(30) % 10, "in-situ": np.arange(10)})
    assert _is_plain_figure(umap) and len(umap.axes) == 2
    calibration = calibration_figure(np.linspace(1, 0, 5), {"in-situ": np.ones(5), "ex-situ": np.ones(5)})
    assert _is_plain_figure(calibration) and len(calibration.axes[0].lines) == 3  # the line at 1 and two series
    path = save_figure(tmp_path / "grid.png", grid)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_a_failed_save_leaves_no_file(tmp_path):
    class Broken:
        def savefig(self, *args, **kwargs):
            raise ValueError("cannot draw")

    with pytest.raises(ValueError, match="cannot draw"):
        save_figure(tmp_path / "broken.png", Broken())
    assert list(tmp_path.iterdir()) == []
