"""Operation counters hooked into every tile operation, for the energy model to price.

Tiles and stochastic layers call :func:`record` with the hardware events an
operation caused; nothing is recorded unless a :func:`track_ops` context is
active, so the counters cost one context-variable lookup when unused.

Example:
    >>> with track_ops() as counts:
    ...     y = layer(x, generator=gen)
    >>> counts.adc_conversions
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator

__all__ = ["OpCounts", "track_ops", "record", "COUNTER_FIELDS"]


@dataclasses.dataclass
class OpCounts:
    """Hardware events counted during emulation (all plain integers).

    Attributes:
        mvm_calls: analog matrix-vector multiplications (one per input row per tile).
        cell_reads: memory cells (single MTJs) sensed in MVMs.
        cell_writes: deterministic programming writes of data-bit MTJs.
        pbit_pulses: VCMA write pulses applied to p-bits (in-situ random bits made).
        pbit_resets: reset pulses returning p-bits to their reference state.
        dac_conversions: input-DAC conversions (one per driven row per MVM).
        adc_conversions: column ADC conversions (one per sensed column per MVM).
        trng_bits_generated: random bits produced by a separate (ex-situ) TRNG.
        bits_moved: ex-situ random bits sampled, buffered and transferred to the compute unit.
        digital_adds: digital additions (partial sums across tiles, bit-slice recombination).
    """

    mvm_calls: int = 0
    cell_reads: int = 0
    cell_writes: int = 0
    pbit_pulses: int = 0
    pbit_resets: int = 0
    dac_conversions: int = 0
    adc_conversions: int = 0
    trng_bits_generated: int = 0
    bits_moved: int = 0
    digital_adds: int = 0

    def add(self, **events: int) -> None:
        """Add event counts, e.g. ``add(adc_conversions=64)``; unknown names raise ``ValueError``."""
        for name, value in events.items():
            if name not in _FIELD_NAMES:
                raise ValueError(f"unknown operation counter {name!r}; known: {sorted(_FIELD_NAMES)}")
            setattr(self, name, getattr(self, name) + int(value))

    def merged(self, other: OpCounts) -> OpCounts:
        """Return the element-wise sum of two count records."""
        return OpCounts(**{f: getattr(self, f) + getattr(other, f) for f in _FIELD_NAMES})

    def to_dict(self) -> dict[str, int]:
        """Counts as a JSON-ready dictionary."""
        return dataclasses.asdict(self)


COUNTER_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(OpCounts))
_FIELD_NAMES = frozenset(COUNTER_FIELDS)
_active: contextvars.ContextVar[tuple[OpCounts, ...]] = contextvars.ContextVar("cim_emu_op_counts", default=())


@contextlib.contextmanager
def track_ops() -> Iterator[OpCounts]:
    """Count the hardware events of everything run inside the ``with`` block.

    Contexts nest: an event is added to every active record, so an outer record
    sees the sum of its inner ones.
    """
    counts = OpCounts()
    token = _active.set(_active.get() + (counts,))
    try:
        yield counts
    finally:
        _active.reset(token)


def record(**events: int) -> None:
    """Add events to every active :func:`track_ops` record (no-op when none is active)."""
    for counts in _active.get():
        counts.add(**events)
