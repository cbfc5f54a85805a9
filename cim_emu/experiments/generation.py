"""The generation experiment (paper Figs. 21-24): in-situ vs ex-situ sampling on emulated tiles, and its artefacts.

:func:`run_generation` is the one call behind ``cim-emu generate`` and the generation stage of
``cim-emu demo``. It composes the library, in the order diffusers keeps apart:

* the model (:mod:`diffusion.model`): load the shipped weights, program the drift network onto tiles once
  (one chip) and column-calibrate it, deploy and calibrate each method's noise source;
* the step and the loop (:mod:`diffusion.sampler`): every method samples from the same initial latents;
* scoring (:mod:`diffusion.evaluation`): each comparison against the held-out real digits and between
  methods, from its own named random stream;

and writes the artefacts: ``<method>_images.npy``, ``<method>_grid.png``, ``real_grid.png``,
``calibration.png``, ``umap.png``, ``metrics.json`` and ``op_counts.json``. The files are staged in a
temporary directory beside ``out_dir`` and moved in only when the run has finished, so a failed or
interrupted run leaves no half-written output.

Every random stream is a named child of one root ``cim_emu.rng.SeedStream(config.seed)``, built once here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch

from cim_emu.crossbar.counters import track_ops
from cim_emu.crossbar.layers.noise.in_situ import InSituNoiseConfig, NoiseHeadCalibration
from cim_emu.rng import SeedStream
from devices.io import json_ready
from diffusion.calibration import StepCalibration, calibrate_steps
from diffusion.data import load_digits_split
from diffusion.evaluation import (
    VARIANCE_TOLERANCE,
    ImageFeatures,
    TrajectoryNoise,
    acceptance_checks,
    image_features,
    method_comparisons,
    probe_steps,
    score,
    trajectory_noise,
)
from diffusion.io import save_figure, save_numpy, write_json
from diffusion.metrics import QualityMetrics
from diffusion.model import GenerationModel, Method, build_noise_source, deploy_model, load_model
from diffusion.pretrained import WEIGHTS_DIR, load_classifier
from diffusion.sampler import SamplerGenerators, sample_latents
from diffusion.seeding import stream, torch_stream

__all__ = [
    "GenerationConfig",
    "GenerationSize",
    "SIZE_LIMITS",
    "MethodResult",
    "GenerationRunResult",
    "run_generation",
]

#: ``callback(stage, done, total)``; stages are ``"<method> steps"``.
ProgressCallback = Callable[[str, int, int], None]

#: Sane sizes of one run (see :class:`GenerationSize`), refused beyond unless the caller allows it
#: (``cim-emu generate --allow-large``). The defaults (500 images, 100 steps, two methods, 16 bits, 131072
#: calibration reads) take 1e5 image steps and 2.1e6 noise bits per read: the limits leave a factor 8 to 20.
SIZE_LIMITS: dict[str, int] = {
    # images per method: the samples, their features and the metrics' kernels grow with it.
    "images": 65536,
    # images x steps x methods: reverse steps run through the emulated tiles (the run time).
    "image_steps": 2_000_000,
    # p-bit mask entries per latent entry of the largest single noise read, max(images, calibration reads) x
    # bits per entry (x latent_dim 32 x 4 bytes: ~2 GB at the limit).
    "noise_bits_per_read": 2**24,
}


@dataclasses.dataclass(frozen=True)
class GenerationSize:
    """How big a run is, from its config alone (computed before any work, see :meth:`GenerationConfig.size`).

    Attributes:
        images: images per method (``n_images``).
        image_steps: ``n_images * n_steps * len(methods)``: reverse SDE steps of all images (the run time).
        noise_bits_per_read: ``max(n_images, calibration_draws) * bits_per_sample``: random bits per latent
            entry of the largest single read of a noise source (the calibration of the in-situ block reads
            ``calibration_draws`` rows at once; without the in-situ method, ``n_images * bits_per_sample``):
            the peak memory.
    """

    images: int
    image_steps: int
    noise_bits_per_read: int

    def beyond(self, limits: dict[str, int] | None = None) -> list[str]:
        """One sentence per size beyond its limit (``SIZE_LIMITS`` by default); empty when the run is sane."""
        limits = SIZE_LIMITS if limits is None else limits
        what = {
            "images": "images per method",
            "image_steps": "image steps (n_images x n_steps x methods)",
            "noise_bits_per_read": "noise bits per latent entry in one read (max(n_images, calibration_draws) x "
                                   "bits_per_sample)",
        }
        return [f"the run would take {getattr(self, name):.4g} {what[name]}, beyond the limit {limits[name]:.4g}"
                for name in what if getattr(self, name) > limits[name]]

    def check(self, *, limits: dict[str, int] | None = None,
              fix: str = "make the run smaller, or pass larger limits if the machine can take it") -> None:
        """Raise ``ValueError`` naming every size beyond its limit and ``fix``."""
        problems = self.beyond(limits)
        if problems:
            raise ValueError(f"{'; '.join(problems)}; {fix}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GenerationConfig:
    """A generation run.

    Attributes:
        methods: noise sources to run (``Method.NO_NOISE`` is the drift-only ablation).
        n_images: images per method.
        n_steps: reverse Euler-Maruyama steps.
        seed: root seed of every random stream (same seed, same device, same images).
        device: ``"cpu"`` or ``"cuda"`` (or ``"cuda:N"``).
        bits_per_sample: random bits per increment entry, the same for the in-situ block and the TRNG.
        calibration_draws: reads of the in-situ block at deployment.
        n_probe_steps: steps of the per-step calibration of the whole step (fixed states, repeats).
        column_calibration: after programming, calibrate the drift network's tile columns (digital gain
            and offset per output) on forward-process draws of the training latents.
        umap: draw the UMAP figure (about 20 s the first time in a process: numba compiles).
        weights_dir: directory of the trained weights (None: the shipped ``diffusion/weights``).
    """

    methods: tuple[Method, ...] = (Method.IN_SITU, Method.EX_SITU)
    n_images: int = 500
    n_steps: int = 100
    seed: int = 0
    device: str = "cpu"
    bits_per_sample: int = 16
    calibration_draws: int = 131072
    n_probe_steps: int = 6
    column_calibration: bool = True
    umap: bool = True
    weights_dir: str | None = None

    def __post_init__(self) -> None:
        if not self.methods or not all(isinstance(method, Method) for method in self.methods):
            raise ValueError(f"GenerationConfig.methods: give one or more Method values, got {self.methods!r}")
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"GenerationConfig.methods: {self.methods!r} repeats a method")
        for name, minimum in (("n_images", 8), ("n_steps", 1), ("n_probe_steps", 0), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"GenerationConfig.{name}: must be an integer >= {minimum}, got {value!r}")
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"GenerationConfig.device: 'cpu' or 'cuda', got {self.device!r}") from error
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"GenerationConfig.device: 'cpu' or 'cuda', got {self.device!r}")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("GenerationConfig.device: CUDA requested but torch.cuda.is_available() is False; "
                             "use device='cpu'")
        InSituNoiseConfig(bits_per_sample=self.bits_per_sample, calibration_draws=self.calibration_draws)

    def size(self) -> GenerationSize:
        """How big this run is (cheap: from the config alone); compare with ``SIZE_LIMITS`` before running."""
        return GenerationSize(
            images=self.n_images,
            image_steps=self.n_images * self.n_steps * len(self.methods),
            # Only the in-situ block is calibrated (calibration_draws rows in one read).
            noise_bits_per_read=max(self.n_images, self.calibration_draws if Method.IN_SITU in self.methods else 0)
            * self.bits_per_sample,
        )

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        data = dataclasses.asdict(self)
        data["methods"] = [method.value for method in self.methods]
        return data


@dataclasses.dataclass(frozen=True)
class MethodResult:
    """One method's run.

    Attributes:
        method: ``"in-situ"``, ``"ex-situ"`` or ``"no-noise"``.
        n_images: images generated.
        sampling_s: wall time of the reverse SDE on the emulated tiles (seconds).
        decoding_s: wall time of the VAE decoder (seconds).
        images_per_second: n_images / (sampling_s + decoding_s).
        metrics_vs_real: quality against the held-out real digits.
        trajectory: increment moments along the run (None for the drift-only ablation).
        step_calibration: whole-step calibration at probe steps (fixed states, repeated steps).
        noise_block: the in-situ block's deployment calibration (in situ only).
        op_counts: hardware events of the generation (``cim_emu.OpCounts.to_dict()``).
        images_file: the ``.npy`` of the images (n, 8, 8), pixels in [0, 1].
        grid_file: PNG grid of the first images.
    """

    method: str
    n_images: int
    sampling_s: float
    decoding_s: float
    images_per_second: float
    metrics_vs_real: QualityMetrics
    trajectory: TrajectoryNoise | None
    step_calibration: tuple[StepCalibration, ...]
    noise_block: NoiseHeadCalibration | None
    op_counts: dict[str, int]
    images_file: str
    grid_file: str


@dataclasses.dataclass(frozen=True)
class GenerationRunResult:
    """Everything a generation run produced (JSON-serialisable with :meth:`to_dict`: ``metrics.json``).

    Named apart from ``cim_emu.energy.GenerationResult`` (the energy model's priced generation);
    ``diffusion.GenerationResult`` is kept as an alias of this class.

    Attributes:
        out_dir: where the files are.
        config: the run's :class:`GenerationConfig` as a dict.
        device: the torch device used.
        methods: method name -> :class:`MethodResult`.
        references: ``"real vs real"`` (a train subset against the test set: the noise floor) and
            ``"vae reconstruction vs real"`` (the decoder's ceiling).
        comparisons: method-vs-method metrics, e.g. ``"in-situ vs ex-situ"`` (candidate vs reference).
        checks: the acceptance checks this single run can decide (name -> passed).
        files: artefact name -> path.
    """

    out_dir: str
    config: dict
    device: str
    methods: dict[str, MethodResult]
    references: dict[str, QualityMetrics]
    comparisons: dict[str, QualityMetrics]
    checks: dict[str, bool]
    files: dict[str, str]

    def to_dict(self) -> dict:
        """JSON-ready dictionary (NaN written as null)."""
        return json_ready(dataclasses.asdict(self))



def run_generation(
    config: GenerationConfig,
    out_dir: str | os.PathLike,
    *,
    progress: ProgressCallback | None = None,
    allow_large: bool = False,
) -> GenerationRunResult:
    """Run the configured methods end to end and write their artefacts into ``out_dir``.

    Args:
        config: what to run.
        out_dir: output directory (created; files of the same names in it are replaced, others are kept).
        progress: optional ``callback(stage, done, total)``; stages are ``"<method> steps"`` per method.
        allow_large: run even if ``config.size()`` is beyond ``SIZE_LIMITS`` (checked before any work).

    Returns:
        The :class:`GenerationRunResult` (also written to ``out_dir/metrics.json``).

    Raises:
        ValueError: the run is beyond ``SIZE_LIMITS`` (without ``allow_large``), ``out_dir`` exists and is not a
            directory, or a weight file is unusable.
        OSError: ``out_dir``'s parent cannot be written (checked before any work).
    """
    if not allow_large:
        config.size().check(fix="make the run smaller or pass allow_large=True if the machine can take it")
    root = SeedStream(config.seed)  # the run's one root stream: every stream below is a named child
    out = pathlib.Path(out_dir)
    device = torch.device(config.device)
    with _staged_directory(out) as staging:
        weights = pathlib.Path(config.weights_dir) if config.weights_dir is not None else WEIGHTS_DIR
        model = load_model(weights, device=device, n_steps=config.n_steps)
        classifier = load_classifier(weights / "classifier.pt", device=device)
        split = load_digits_split()
        train_latents = model.encode(split.train_images.to(device))
        # One chip: the drift network's tiles are programmed once and shared by every method.
        deploy_model(model, stream=root, calibration_latents=train_latents if config.column_calibration else None)

        real = image_features(classifier, split.test_images)
        pick = torch.randperm(split.train_images.shape[0], generator=torch_stream(root, "real_subset"))
        real_subset = split.train_images[pick[:min(config.n_images, split.train_images.shape[0])]].to(device)
        references = {
            "real vs real": score(image_features(classifier, real_subset), real, comparison="real vs real",
                                  stream=root),
            "vae reconstruction vs real": score(
                image_features(classifier, model.codec.decode(model.codec.encode(real_subset))), real,
                comparison="vae reconstruction vs real", stream=root),
        }
        files = {"real_grid": _stage_figure(staging, out, "real_grid.png", _grid(split.test_images[:128],
                                                                                  "real (test split)"))}

        methods: dict[str, MethodResult] = {}
        features: dict[str, ImageFeatures] = {}
        op_counts: dict[str, object] = {"n_images": config.n_images}
        for method in config.methods:
            methods[method.value], features[method.value] = _run_method(
                method, model, classifier, train_latents, real, config, root, staging, out, progress)
            if method is not Method.NO_NOISE:
                # op_counts.json holds the two methods the energy model prices (cim_emu.energy.load_op_counts_file
                # accepts exactly n_images, in_situ, ex_situ); the ablation's counts are in metrics.json.
                op_counts[method.key] = methods[method.value].op_counts
        comparisons = method_comparisons(features, stream=root)

        trajectories = {name: result.trajectory for name, result in methods.items() if result.trajectory is not None}
        if trajectories:
            from diffusion.plots import calibration_figure

            first = next(iter(trajectories.values()))
            files["calibration_plot"] = _stage_figure(staging, out, "calibration.png", calibration_figure(
                np.asarray(first.times), {name: np.asarray(t.variance_ratio) for name, t in trajectories.items()},
                tolerance=VARIANCE_TOLERANCE))
        if config.umap:
            from diffusion.embedding import umap_embedding
            from diffusion.plots import umap_figure

            embeddings = umap_embedding(real.features.cpu().numpy(),
                                        {name: f.features.cpu().numpy() for name, f in features.items()},
                                        seed=stream(root, "umap").integer(31))
            labels = {"real": real.labels, **{name: f.labels for name, f in features.items()}}
            files["umap"] = _stage_figure(staging, out, "umap.png", umap_figure(embeddings, labels))
        write_json(staging / "op_counts.json", op_counts)
        files["op_counts"] = str(out / "op_counts.json")
        files["metrics"] = str(out / "metrics.json")

        result = GenerationRunResult(
            out_dir=str(out),
            config=config.to_dict(),
            device=str(device),
            methods=methods,
            references=references,
            comparisons=comparisons,
            checks=acceptance_checks(methods, comparisons),
            files=files,
        )
        write_json(staging / "metrics.json", result.to_dict())
    return result


def _run_method(method: Method, model: GenerationModel, classifier, train_latents: torch.Tensor, real: ImageFeatures,
                config: GenerationConfig, root: SeedStream, staging: pathlib.Path, out: pathlib.Path,
                progress: ProgressCallback | None) -> tuple[MethodResult, ImageFeatures]:
    """Deploy one method's noise source, sample, decode, score and stage its images and grid."""
    device = model.device
    source, noise_block = build_noise_source(method, model.latent_dim, stream=root, device=device,
                                             bits_per_sample=config.bits_per_sample,
                                             calibration_draws=config.calibration_draws)
    # Every method draws its initial latents, read noise and increments from the same named streams:
    # common random numbers, so the methods differ by their noise source only.
    generators = SamplerGenerators(
        initial=torch_stream(root, "initial_latents", device),
        network=torch_stream(root, "read_noise", device),
        noise=torch_stream(root, "sde_noise", device),
    )
    records: list[tuple[float, torch.Tensor, float]] = []
    required = model.schedule.required_noise_std().tolist()

    def on_step(index: int, t: float, increment: torch.Tensor) -> None:
        if method is not Method.NO_NOISE:
            records.append((t, increment.detach().clone(), required[index]))
        if progress is not None:
            progress(f"{method.value} steps", index + 1, model.schedule.n_steps)

    # diffusion.sample composes these two calls; they are run apart here to time sampling and decoding.
    _synchronize(device)
    start = time.perf_counter()
    with track_ops() as counts:
        latents = sample_latents(model.network, source, model.schedule, config.n_images, generators=generators,
                                 on_step=on_step)
    _synchronize(device)
    sampled = time.perf_counter()
    images = model.decode(latents)
    _synchronize(device)
    decoded = time.perf_counter()

    features = image_features(classifier, images)
    images_file = staging / f"{method.key}_images.npy"
    save_numpy(images_file, images.reshape(-1, 8, 8).cpu().numpy())
    grid_file = _stage_figure(staging, out, f"{method.key}_grid.png",
                              _grid(images[:128], f"{method.value} ({config.n_steps} steps)"))
    step_calibration = tuple(calibrate_steps(
        model.network, source, model.schedule, train_latents,
        step_indices=probe_steps(model.schedule.n_steps, config.n_probe_steps),
        generators=SamplerGenerators(
            initial=torch_stream(root, "probe_states", device),
            network=torch_stream(root, "probe_read_noise", device),
            noise=torch_stream(root, "probe_noise", device),
        ),
    ))
    result = MethodResult(
        method=method.value,
        n_images=config.n_images,
        sampling_s=sampled - start,
        decoding_s=decoded - sampled,
        images_per_second=config.n_images / (decoded - start),
        metrics_vs_real=score(features, real, comparison=f"{method.value} vs real", stream=root),
        trajectory=trajectory_noise(records) if records else None,
        step_calibration=step_calibration,
        noise_block=noise_block,
        op_counts=counts.to_dict(),
        images_file=str(out / images_file.name),
        grid_file=grid_file,
    )
    return result, features


def _grid(images: torch.Tensor, title: str):
    from diffusion.plots import image_grid_figure

    return image_grid_figure(images, title=title)


def _stage_figure(staging: pathlib.Path, out: pathlib.Path, name: str, figure) -> str:
    """Save ``figure`` as ``staging/name``; returns the path it will have once moved into ``out``."""
    save_figure(staging / name, figure)
    return str(out / name)


@contextlib.contextmanager
def _staged_directory(out: pathlib.Path) -> Iterator[pathlib.Path]:
    """A temporary directory beside ``out`` whose files move into ``out`` only if the block succeeds."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"output directory {out} exists and is not a directory: choose another path")
    # Missing parents are created now and removed again if the run fails: a failed run leaves nothing behind.
    created = [parent for parent in reversed(out.parents) if not parent.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    published = False
    try:
        # Created first, before any work: an unwritable destination fails at once (OSError).
        staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        try:
            yield staging
            out.mkdir(exist_ok=True)
            for path in sorted(staging.iterdir()):
                os.replace(path, out / path.name)
            published = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        if not published:
            for parent in reversed(created):
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only if still empty


def _synchronize(device: torch.device) -> None:
    # Timings on CUDA must wait for queued kernels.
    if device.type == "cuda":
        torch.cuda.synchronize(device)
