"""The Ising / Boltzmann model sampled by the p-bit samplers.

Spins m_i in {-1, +1}; energy E(m) = -1/2 m^T J m - h^T m with J symmetric and a zero diagonal, so that
the conditional law of one spin given the others is P(m_i = +1 | m_-i) = sigmoid(2 beta I_i) =
(1 + tanh(beta I_i)) / 2 with the local field I_i = sum_j J_ij m_j + h_i (what one crossbar MVM computes).
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import torch

__all__ = ["IsingModel", "load_model_npz", "check_beta", "MAX_MODEL_SPINS"]

#: Largest model read without ``allow_large``: J of 10^4 spins is 800 MB of float64.
MAX_MODEL_SPINS = 10_000

#: Largest symmetric-difference |J - J^T| (relative to max |J|) accepted as rounding rather than asymmetry.
_SYMMETRY_TOLERANCE = 1e-9


def check_beta(beta, what: str = "beta") -> float:
    """Return ``beta`` as a float, or raise ``ValueError`` if it is not a finite number >= 0."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating, np.integer)):
        raise ValueError(f"{what}: must be a finite number >= 0 (inverse temperature), got {beta!r}")
    value = float(beta)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what}: must be a finite number >= 0 (inverse temperature), got {value!r}")
    return value


@dataclasses.dataclass(frozen=True, eq=False)
class IsingModel:
    """Couplings and fields of an Ising model (dimensionless energies; beta carries the temperature).

    Attributes:
        J: (n, n) float64 tensor, symmetric, zero diagonal.
        h: (n,) float64 tensor.
        source: where the model came from (a file name, for error messages); "" when built in memory.

    Raises:
        ValueError: on a non-square or asymmetric J, a nonzero diagonal, a mismatched h or NaN/inf,
            naming the offending entry.
    """

    J: torch.Tensor
    h: torch.Tensor
    source: str = ""

    def __post_init__(self):
        where = f"{self.source}: " if self.source else ""
        couplings = torch.as_tensor(np.asarray(self.J) if not isinstance(self.J, torch.Tensor) else self.J)
        fields = torch.as_tensor(np.asarray(self.h) if not isinstance(self.h, torch.Tensor) else self.h)
        if not (couplings.is_floating_point() or couplings.dtype in (torch.int32, torch.int64, torch.int16)):
            raise ValueError(f"{where}J: expected a real (n, n) array, got dtype {couplings.dtype}")
        couplings = couplings.detach().to("cpu", torch.float64)
        fields = fields.detach().to("cpu", torch.float64)
        if couplings.dim() != 2 or couplings.shape[0] != couplings.shape[1]:
            raise ValueError(f"{where}J: expected a square (n, n) matrix, got shape {tuple(couplings.shape)}")
        n_spins = couplings.shape[0]
        if n_spins < 1:
            raise ValueError(f"{where}J: the model needs at least one spin, got shape {tuple(couplings.shape)}")
        if fields.dim() != 1 or fields.shape[0] != n_spins:
            raise ValueError(f"{where}h: expected shape ({n_spins},) to match J, got {tuple(fields.shape)}")
        for name, array in (("J", couplings), ("h", fields)):
            bad = ~torch.isfinite(array)
            if bool(bad.any()):
                index = tuple(int(i) for i in torch.nonzero(bad)[0])
                raise ValueError(f"{where}{name}: entry {index if len(index) > 1 else index[0]} is "
                                 f"{float(array[index])}; couplings and fields must be finite numbers")
        diagonal = torch.diagonal(couplings)
        if bool((diagonal != 0).any()):
            index = int(torch.nonzero(diagonal != 0)[0])
            raise ValueError(f"{where}J: diagonal entry ({index}, {index}) is {float(diagonal[index])}; a self-"
                             "coupling only adds a constant to the energy of +-1 spins: set the diagonal to 0")
        asymmetry = (couplings - couplings.T).abs()
        scale = float(couplings.abs().max()) if n_spins > 1 else 0.0
        if bool((asymmetry > _SYMMETRY_TOLERANCE * max(scale, 1e-300)).any()):
            row, column = (int(i) for i in torch.nonzero(asymmetry > _SYMMETRY_TOLERANCE * scale)[0])
            raise ValueError(f"{where}J: not symmetric, J[{row}, {column}] = {float(couplings[row, column])} but "
                             f"J[{column}, {row}] = {float(couplings[column, row])}; use (J + J.T) / 2")
        object.__setattr__(self, "J", 0.5 * (couplings + couplings.T))
        object.__setattr__(self, "h", fields)

    @property
    def n_spins(self) -> int:
        """Number of spins n."""
        return int(self.J.shape[0])

    def energy(self, spins: torch.Tensor) -> torch.Tensor:
        """E(m) = -1/2 m^T J m - h^T m for spins (..., n) in {-1, +1}; returns (...) float64."""
        spins = spins.to(torch.float64)
        return -0.5 * ((spins @ self.J) * spins).sum(dim=-1) - spins @ self.h

    def local_fields(self, spins: torch.Tensor) -> torch.Tensor:
        """I = m J + h for spins (..., n); returns (..., n) float64 (J is symmetric)."""
        return spins.to(torch.float64) @ self.J + self.h

    def neighbours(self) -> list[np.ndarray]:
        """For each spin, the indices of the spins it is coupled to (J_ij != 0), ascending."""
        nonzero = (self.J != 0).numpy()
        return [np.flatnonzero(row) for row in nonzero]

    def save_npz(self, path: str | os.PathLike) -> None:
        """Write ``J`` and ``h`` to an ``.npz`` file atomically (the format of :func:`load_model_npz`)."""
        from devices import atomic_write

        with atomic_write(path, mode="wb") as handle:
            np.savez(handle, J=self.J.numpy(), h=self.h.numpy())

    @classmethod
    def random(cls, n_spins: int, *, density: float = 1.0, coupling_scale: float = 1.0, field_scale: float = 0.5,
               generator: np.random.Generator) -> IsingModel:
        """A random model: each pair coupled with probability ``density``, J_ij ~ N(0, coupling_scale^2 / d),
        d the mean degree (so fields stay O(1) whatever n), h_i ~ N(0, field_scale^2).

        Args:
            n_spins: n >= 1.
            density: share of coupled pairs, in (0, 1].
            coupling_scale: standard deviation of the summed couplings of one spin.
            field_scale: standard deviation of h.
            generator: a ``numpy.random.Generator``.
        """
        from cim_emu.rng import require_generator

        require_generator(generator, "IsingModel.random", kind="numpy")
        if not 0 < density <= 1:
            raise ValueError(f"density: must be in (0, 1], got {density!r}")
        mean_degree = max(density * (n_spins - 1), 1.0)
        upper = np.triu(generator.normal(0.0, coupling_scale / math.sqrt(mean_degree), (n_spins, n_spins)), 1)
        upper *= np.triu(generator.random((n_spins, n_spins)) < density, 1)
        fields = generator.normal(0.0, field_scale, n_spins)
        return cls(torch.from_numpy(upper + upper.T), torch.from_numpy(fields))


def _stored_shape(name: str, member: str) -> tuple[int, ...]:
    """Shape of array ``member`` of an .npz, read from its header without loading the data."""
    import zipfile

    with zipfile.ZipFile(name) as archive, archive.open(f"{member}.npy") as handle:
        version = np.lib.format.read_magic(handle)
        shape, _, _ = (np.lib.format.read_array_header_1_0(handle) if version == (1, 0)
                       else np.lib.format.read_array_header_2_0(handle))
    return tuple(shape)


def load_model_npz(path: str | os.PathLike, *, max_spins: int = MAX_MODEL_SPINS) -> IsingModel:
    """Read a model from an ``.npz`` holding arrays ``J`` (n, n) and ``h`` (n,).

    Args:
        path: the file.
        max_spins: refuse larger models before loading them (CLI: ``--allow-large`` lifts it).

    Raises:
        ValueError: naming the file and what is wrong (missing array, shape, symmetry, diagonal, NaN, size).
        OSError: if the file cannot be read.
    """
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as archive:
            missing = [key for key in ("J", "h") if key not in archive.files]
            if missing:
                raise ValueError(f"{name}: missing array(s) {missing}; expected 'J' (n x n) and 'h' (n), "
                                 f"found {sorted(archive.files)}")
            shape = _stored_shape(name, "J")
            if any(size > max_spins for size in shape):
                raise ValueError(f"{name}: J has shape {shape}, more than {max_spins} spins; pass --allow-large "
                                 "(max_spins) to load it")
            couplings, fields = archive["J"], archive["h"]
    except (ValueError, EOFError, OSError) as error:
        if isinstance(error, ValueError) and str(error).startswith(name):
            raise
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{name}: not a readable .npz archive of arrays J and h ({error})") from None
    for key, array in (("J", couplings), ("h", fields)):
        if array.dtype.kind not in "fiu":
            raise ValueError(f"{name}: array {key} has dtype {array.dtype}; expected real numbers")
    return IsingModel(torch.from_numpy(np.ascontiguousarray(couplings, dtype=np.float64)),
                      torch.from_numpy(np.ascontiguousarray(fields, dtype=np.float64)), source=name)
