"""Latent diffusion on emulated crossbars: VAE, latent SDE, sampling and quality metrics."""

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
from diffusion.metrics import (
    QualityMetrics,
    compare_features,
    evaluate_images,
    frechet_distance,
    kernel_inception_distance,
    label_entropy_bits,
    precision_recall,
)
from cim_emu.crossbar.layers.noise.in_situ import InSituNoiseConfig, InSituNoiseHead, NoiseHeadCalibration
from diffusion.pipeline import (
    VARIANCE_TOLERANCE,
    GenerationConfig,
    GenerationResult,
    Method,
    MethodResult,
    TrajectoryNoise,
    calibrate_network_columns,
    multi_seed_checks,
    run_generation,
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
    sample_latents,
)
from diffusion.schedule import VPSchedule, euler_maruyama_step, sample_transition_pairs
from diffusion.score_net import ScoreNetConfig, ScoreNetwork, default_crossbar_config, time_embedding
from diffusion.seeding import STREAMS, numpy_stream, torch_stream
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
    "VARIANCE_TOLERANCE", "GenerationConfig", "GenerationResult", "Method", "MethodResult", "TrajectoryNoise",
    "run_generation", "multi_seed_checks", "calibrate_network_columns",
    "WEIGHTS_DIR", "load_classifier", "load_codec", "load_schedule", "load_score_network", "read_weights",
    "save_weights",
    "DriftNetwork", "GaussianIncrements", "NoIncrements", "NoiseSource", "SamplerGenerators", "TRNGIncrements",
    "sample_latents",
    "VPSchedule", "euler_maruyama_step", "sample_transition_pairs",
    "ScoreNetConfig", "ScoreNetwork", "default_crossbar_config", "time_embedding",
    "STREAMS", "numpy_stream", "torch_stream",
    "ScoreTrainingConfig", "ScoreTrainingReport", "denoising_loss", "train_score_network",
    "LatentCodec", "VAEConfig", "VAETrainingConfig", "VAETrainingReport", "build_vae", "train_vae",
]
