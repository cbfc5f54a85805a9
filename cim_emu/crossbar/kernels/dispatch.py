"""Which backend runs a tile's MVM: chosen once per process by what is fastest on the machine in use.

A tile's MVM has two GEMMs whose fastest form depends on the CPU's instruction set:

- the Kirchhoff sums ``sum_i v_i G_ic``: a float32 GEMM, or exact int8 GEMMs of DAC codes and 15-bit
  conductance codes (``torch._int_mm``);
- the per-read noise variance ``sum_i v_i^2 Var_ic``: a float32 or a bfloat16 GEMM.

With AVX-512 BF16/VNNI (or AMX) ``_int_mm`` and bfloat16 GEMMs cost a fifth to a half of a float32 GEMM, through
oneDNN; without them torch falls back to loops that cost 40-150 float32 GEMMs. So the path is measured, not
assumed: the first tile MVM of a process times the candidates once, on one thread (~10 ms where they are fast,
~60 ms where they are slow: a small shape weeds out the slow ones cheaply, a tile-sized shape times the rest,
where per-call overheads no longer bias it), and each reduced-precision GEMM is used when it takes at most
twice the float32 one's time. The measured ratios fall in two clusters far apart, 0.1-0.8 with the hardware
units (0.8 on a machine with load 11 on 2 cores) and 30-500 without, so the threshold between them keeps the
choice stable from run to run on one machine, loaded or not, and a seed reproduces its results there.

``CIM_EMU_CPU_PATH=auto|float32|int8`` overrides the probe (tests, benchmarks, reproducing another machine's
numbers): ``float32`` runs both GEMMs in float32, ``int8`` the int8 Kirchhoff sums and the bfloat16 variance.
:func:`cpu_path_report` says which path runs and why, with ``torch.backends.cpu.get_cpu_capability()``.

An exact-input int8 variance through fbgemm (torch's quantized linear op, fast on AVX2) was measured and left
out: the squared DAC codes need 14 bits, i.e. two passes of fbgemm's 7-bit-safe AVX2 kernel (its
``vpmaddubsw`` step saturates at 2^15), which cost 1.1-1.4 float32 GEMMs on a 256-row block.

Other devices: :func:`register_backend` plugs a backend for a device type (e.g. a Triton backend for
``"cuda"``) into the same interface; without one, a tile on that device runs the generic torch backend.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import statistics
import threading
import time
from collections.abc import Callable

import torch

__all__ = ["CPU_PATH_ENV", "CPU_PATHS", "CpuPathReport", "ProbeTimes", "choose_cpu_path", "cpu_path_report",
           "cpu_decision", "device_backend", "register_backend", "reset_cpu_path"]

CPU_PATH_ENV = "CIM_EMU_CPU_PATH"
CPU_PATHS = ("auto", "float32", "int8")
_THRESHOLD = 2.0         # a reduced-precision GEMM is used up to this many float32 GEMMs' time
_SMALL_SHAPE = (32, 128, 256)    # rows, inputs, columns of the first probe stage
_LARGE_SHAPE = (256, 512, 512)   # tile-sized: batch 256, between 256-row arrays and one 1024-row array
_ROUNDS = 7
_SLOW = 8.0                      # a candidate this many float32 GEMMs slow at the small shape is out


@dataclasses.dataclass(frozen=True)
class ProbeTimes:
    """Each candidate GEMM's time over a float32 GEMM's of the same shape (None: not available here)."""

    int8: float | None
    bfloat16: float | None

    def ratios(self) -> dict[str, float | None]:
        """The ratios by candidate name."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CpuPathReport:
    """The CPU path tiles run in this process, and why.

    Attributes:
        path: ``"float32"``, ``"int8"`` (int8 Kirchhoff sums, bfloat16 variance) or, where the probe found
            only one of the two reduced-precision GEMMs fast, ``"int8+float32"`` / ``"float32+bfloat16"``.
        kirchhoff: how the Kirchhoff sums run (``"float32 GEMM"`` or ``"int8 GEMM (torch._int_mm)"``).
        variance: how the read-noise variance runs (``"bfloat16 GEMM"`` or ``"float32 GEMM"``).
        cpu_capability: ``torch.backends.cpu.get_cpu_capability()``.
        source: ``"probe"`` or ``"CIM_EMU_CPU_PATH=<value>"``.
        ratios: the probe's time ratios to a float32 GEMM (empty when overridden without a probe).
    """

    path: str
    kirchhoff: str
    variance: str
    cpu_capability: str
    source: str
    ratios: dict = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        """One line for benchmark and demo reports."""
        return (f"CPU path {self.path} ({self.source}): Kirchhoff sums {self.kirchhoff}, read-noise variance "
                f"{self.variance}; torch CPU capability {self.cpu_capability}")

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return dataclasses.asdict(self)


def choose_cpu_path(times: ProbeTimes) -> tuple[str, str]:
    """(Kirchhoff sums, variance) methods for probe ratios: each ``"int8"``/``"bfloat16"`` if it takes at most
    twice a float32 GEMM's time (see the module docstring for why not 1), else ``"float32"``."""
    kirchhoff = "int8" if times.int8 is not None and times.int8 <= _THRESHOLD else "float32"
    variance = "bfloat16" if times.bfloat16 is not None and times.bfloat16 <= _THRESHOLD else "float32"
    return kirchhoff, variance


def _seconds(function: Callable[[], object], repeats: int) -> float:
    """Best of ``repeats`` calls."""
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def _candidates(rows: int, inputs: int, columns: int) -> dict[str, Callable[[], object] | None]:
    """The GEMMs of each path on one shape (None where this torch lacks the operation)."""
    generator = torch.Generator().manual_seed(0)
    activations = torch.randn(rows, inputs, generator=generator)
    weights = torch.randn(inputs, columns, generator=generator)
    candidates: dict[str, Callable[[], object] | None] = {"float32": lambda: torch.mm(activations, weights)}
    candidates["int8"] = None
    if hasattr(torch, "_int_mm"):
        codes = torch.randint(-127, 128, (rows, inputs), generator=generator, dtype=torch.int8)
        # The int8 path multiplies by [high | low] conductance codes: twice the columns.
        weight_codes = torch.randint(-127, 128, (inputs, 2 * columns), generator=generator, dtype=torch.int8)
        candidates["int8"] = lambda: torch._int_mm(codes, weight_codes)
    half_activations, half_weights = activations.bfloat16(), weights.bfloat16()
    candidates["bfloat16"] = lambda: torch.mm(half_activations, half_weights)
    return candidates


def _probe() -> ProbeTimes:
    """Time the candidates on one thread (a second thread of a busy machine makes small GEMMs erratic)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _probe_one_thread()
    finally:
        torch.set_num_threads(threads)


def _probe_one_thread() -> ProbeTimes:
    names = ("int8", "bfloat16")
    small = _candidates(*_SMALL_SHAPE)
    for function in small.values():
        if function is not None:
            function()   # lazy initialisation
    reference = _seconds(small["float32"], 5)
    ratios: dict[str, float | None] = {name: None for name in names}
    slow = set()
    for name in names:
        if small[name] is None:
            continue
        try:
            ratio = _seconds(small[name], 1) / reference
        except RuntimeError:     # an operation this build declares but cannot run
            small[name] = None
            continue
        if ratio > _SLOW:
            ratios[name] = ratio
            slow.add(name)
    fast = [name for name in names if small[name] is not None and name not in slow]
    if fast:
        large = _candidates(*_LARGE_SHAPE)
        for name in ["float32", *fast]:
            large[name]()
        # Interleaved rounds, median of the per-round ratios: load drifting on a shared machine hits both.
        rounds = {name: [] for name in fast}
        for _ in range(_ROUNDS):
            reference = _seconds(large["float32"], 1)
            for name in fast:
                rounds[name].append(_seconds(large[name], 1) / reference)
        ratios.update({name: statistics.median(values) for name, values in rounds.items()})
    return ProbeTimes(**ratios)


_LOCK = threading.Lock()
_DESCRIPTIONS = {"float32": "float32 GEMM", "int8": "int8 GEMM (torch._int_mm)", "bfloat16": "bfloat16 GEMM"}


def _override() -> str:
    value = os.environ.get(CPU_PATH_ENV, "auto").strip().lower() or "auto"
    if value not in CPU_PATHS:
        raise ValueError(f"{CPU_PATH_ENV}={value!r}: expected one of {', '.join(CPU_PATHS)} (auto probes the CPU "
                         "once per process)")
    return value


@functools.cache
def _decide(override: str) -> tuple[str, str, str, tuple]:
    if override == "auto":
        times = _probe()
        kirchhoff, variance = choose_cpu_path(times)
        return kirchhoff, variance, "probe", tuple(times.ratios().items())
    if override == "int8":
        return "int8", "bfloat16", f"{CPU_PATH_ENV}=int8", ()
    return "float32", "float32", f"{CPU_PATH_ENV}=float32", ()


def cpu_decision() -> tuple[str, str]:
    """(Kirchhoff sums, variance) methods in use: probed once per process, or set by ``CIM_EMU_CPU_PATH``."""
    override = _override()
    with _LOCK:
        path, variance, _, _ = _decide(override)
    return path, variance


def cpu_path_report() -> CpuPathReport:
    """The CPU path tiles run in this process (probing the CPU if that has not happened yet).

    Raises:
        ValueError: ``CIM_EMU_CPU_PATH`` holds something other than auto, float32 or int8.
    """
    override = _override()
    with _LOCK:
        kirchhoff, variance, source, ratios = _decide(override)
    path = "int8" if (kirchhoff, variance) == ("int8", "bfloat16") else (
        "float32" if (kirchhoff, variance) == ("float32", "float32") else f"{kirchhoff}+{variance}")
    return CpuPathReport(path=path, kirchhoff=_DESCRIPTIONS[kirchhoff], variance=_DESCRIPTIONS[variance],
                         cpu_capability=torch.backends.cpu.get_cpu_capability(), source=source,
                         ratios={name: (None if value is None else round(value, 3)) for name, value in ratios})


def reset_cpu_path() -> None:
    """Forget the probed decision (tests; the next tile MVM probes again)."""
    with _LOCK:
        _decide.cache_clear()


# ------------------------------------------------------------------------------------------ other devices
_REGISTRY: dict[str, Callable] = {}
_INSTANCES: dict[tuple, object] = {}


def register_backend(device_type: str, factory: Callable) -> None:
    """Run tiles on ``device_type`` tensors with the backend ``factory(tile_dtype)`` returns.

    The factory returns a :class:`cim_emu.crossbar.kernels.backend.TileBackend` (or None to fall back on the
    generic torch backend for that dtype). The CPU's paths are chosen by the probe and cannot be replaced.
    """
    if not isinstance(device_type, str) or device_type == "cpu" or not device_type:
        raise ValueError(f"device_type: expected a non-CPU torch device type such as 'cuda', got {device_type!r}")
    if not callable(factory):
        raise ValueError(f"factory: expected a callable returning a TileBackend, got {factory!r}")
    with _LOCK:
        _REGISTRY[device_type] = factory
        _INSTANCES.clear()


def device_backend(device_type: str, dtype: torch.dtype):
    """The backend the factory registered for ``device_type`` makes for ``dtype`` (one instance per pair), or
    None."""
    key = (device_type, dtype)
    with _LOCK:
        if key not in _INSTANCES:
            factory = _REGISTRY.get(device_type)
            _INSTANCES[key] = None if factory is None else factory(dtype)
        return _INSTANCES[key]
