"""Latent diffusion on emulated crossbars: VAE, latent SDE, sampling and quality metrics."""

__all__: list[str] = []
