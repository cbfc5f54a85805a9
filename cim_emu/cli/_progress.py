"""Progress bars on stderr for the library's ``progress(stage, done, total)`` callbacks (private to the CLI)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stage_bars(*, prefix: str = "", unit: str = "step",
               disable: bool | None = False) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a ``progress(stage, done, total)`` callback that draws one tqdm bar per stage.

    Args:
        prefix: put before every stage name (indentation under a heading).
        unit: tqdm's unit.
        disable: tqdm's ``disable`` (None: no bars when stderr is not a terminal).

    The bars are closed when the block ends, also on an error.
    """
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=f"{prefix}{stage}", unit=unit, file=sys.stderr, leave=False,
                               disable=disable)
        bars[stage].update(done - bars[stage].n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()
