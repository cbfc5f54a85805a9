"""Latent diffusion on emulated crossbars: VAE, latent SDE, sampling and quality metrics.

The library call is :func:`sample` (model from :func:`load_model` + :func:`deploy_model`, a noise source
from :func:`build_noise_source`); scoring is in :mod:`diffusion.evaluation`. The whole experiment with its
artefacts is ``cim_emu.experiments.generation.run_generation`` (also importable here as before).
"""

from cim_emu.crossbar.layers.noise.in_situ import InSituNoiseConfig, InSituNoiseHead, NoiseHeadCalibration
from diffusion.calibration import (
    IncrementStatistics,
    StepCalibration,
    calibrate_steps,
    exact_reverse_moments,
    increment_statistics,
)
from diffusion.classifier import ClassifierConfig, ClassifierTrainingReport, DigitClassifier, train_classifier
from diffusion.data import DigitsSplit, from_model_range, load_digits_split, to_model_range
from diffusion.embedding import umap_embedding
from diffusion.evaluation import (
    VARIANCE_TOLERANCE,
    ImageFeatures,
    TrajectoryNoise,
    acceptance_checks,
    image_features,
    method_comparisons,
    multi_seed_checks,
    probe_steps,
    score,
    trajectory_noise,
)
from diffusion.metrics import (
    QualityMetrics,
    compare_features,
    evaluate_images,
    frechet_distance,
    kernel_inception_distance,
    label_entropy_bits,
    precision_recall,
)
from diffusion.model import (
    GenerationModel,
    Method,
    build_noise_source,
    calibrate_network_columns,
    deploy_model,
    load_model,
)
from diffusion.pretrained import (
    WEIGHTS_DIR,
    load_classifier,
    load_codec,
    load_schedule,
    load_score_network,
    read_weights,
    save_weights,
)
from diffusion.sampler import (
    DriftNetwork,
    GaussianIncrements,
    NoIncrements,
    NoiseSource,
    SamplerGenerators,
    TRNGIncrements,
    denoise,
    reverse_step,
    sample,
    sample_latents,
)
from diffusion.schedule import VPSchedule, euler_maruyama_step, sample_transition_pairs
from diffusion.score_net import ScoreNetConfig, ScoreNetwork, default_crossbar_config, time_embedding
from diffusion.seeding import STREAMS, metrics_stream, numpy_stream, stream, torch_stream
from diffusion.training import ScoreTrainingConfig, ScoreTrainingReport, denoising_loss, train_score_network
from diffusion.vae import LatentCodec, VAEConfig, VAETrainingConfig, VAETrainingReport, build_vae, train_vae

__all__ = [
    "IncrementStatistics", "StepCalibration", "calibrate_steps", "exact_reverse_moments", "increment_statistics",
    "ClassifierConfig", "ClassifierTrainingReport", "DigitClassifier", "train_classifier",
    "DigitsSplit", "from_model_range", "load_digits_split", "to_model_range",
    "umap_embedding",
    "QualityMetrics", "compare_features", "evaluate_images", "frechet_distance", "kernel_inception_distance",
    "label_entropy_bits", "precision_recall",
    "InSituNoiseConfig", "InSituNoiseHead", "NoiseHeadCalibration",
    "VARIANCE_TOLERANCE", "ImageFeatures", "TrajectoryNoise", "acceptance_checks", "image_features",
    "method_comparisons", "multi_seed_checks", "probe_steps", "score", "trajectory_noise",
    "GenerationModel", "Method", "build_noise_source", "calibrate_network_columns", "deploy_model", "load_model",
    "GenerationConfig", "GenerationResult", "MethodResult", "run_generation",
    "WEIGHTS_DIR", "load_classifier", "load_codec", "load_schedule", "load_score_network", "read_weights",
    "save_weights",
    "DriftNetwork", "GaussianIncrements", "NoIncrements", "NoiseSource", "SamplerGenerators", "TRNGIncrements",
    "denoise", "reverse_step", "sample", "sample_latents",
    "VPSchedule", "euler_maruyama_step", "sample_transition_pairs",
    "ScoreNetConfig", "ScoreNetwork", "default_crossbar_config", "time_embedding",
    "STREAMS", "metrics_stream", "numpy_stream", "stream", "torch_stream",
    "ScoreTrainingConfig", "ScoreTrainingReport", "denoising_loss", "train_score_network",
    "LatentCodec", "VAEConfig", "VAETrainingConfig", "VAETrainingReport", "build_vae", "train_vae",
]


def __getattr__(name: str):
    # The experiment runner's names (GenerationConfig, MethodResult, GenerationResult, run_generation) live in
    # cim_emu.experiments.generation, above this package; they load on first use (PEP 562).
    import importlib

    # import_module, not "from diffusion import pipeline": that form would ask this very __getattr__ first.
    pipeline = importlib.import_module("diffusion.pipeline")
    if name in pipeline.RUNNER_NAMES:
        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
