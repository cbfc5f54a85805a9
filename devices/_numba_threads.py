"""Calling numba's parallel kernels without disturbing torch's thread count."""

from __future__ import annotations

import torch


def run_numba_kernel(kernel, *args, parallel: bool = True):
    """Call a numba ``parallel=True`` kernel on min(torch's, numba's) threads, or on the calling thread only.

    numba's OpenMP threading layer shares the OpenMP runtime with torch, so setting numba's thread count
    (or launching its pool) can change ``torch.get_num_threads()``: a caller's ``torch.set_num_threads(1)``
    silently became 2. The count torch had is restored afterwards.

    Args:
        kernel: a compiled numba dispatcher.
        *args: its arguments.
        parallel: False runs it on the calling thread (small jobs: waking a pool costs milliseconds on a
            busy machine). Results do not depend on this when the kernel's per-item arithmetic does not.

    Returns:
        What the kernel returns.
    """
    import numba  # the callers have imported it already; devices itself does not need it

    torch_threads = torch.get_num_threads()
    previous = numba.get_num_threads()
    numba.set_num_threads(min(torch_threads, numba.config.NUMBA_NUM_THREADS) if parallel else 1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(previous)
        if torch.get_num_threads() != torch_threads:
            torch.set_num_threads(torch_threads)
