"""Vectorised counting kernels shared by the SP800-22 tests (numpy only).

Every kernel takes a uint8 array of 0/1 bits and returns small integer counts (or, where a test sums
logarithms, one float). They walk the sequence in chunks of at most ``CHUNK_BITS`` bits, so their
scratch memory is bounded (a few bytes per chunk bit) whatever the sequence length: the suite stays
within O(n) bytes, the bits themselves, at 100 Mbit.

The kernels are plain numpy, not numba: the suite on 1 Mbit takes ~0.1 s either way, but a process that
loads numba-compiled kernels pays ~0.7 s of numba start-up (import, its one-time registry set-up, loading
the cached kernels) before the first test runs, which made ``cim-emu nist`` on 1 Mbit a 1.3 s command.
The sequential algorithms run across many blocks at once instead: Berlekamp-Massey on 64 blocks per
machine word (bit-sliced), GF(2) elimination over all matrices together, Maurer's distances by a stable
sort. Sums of logarithms are accumulated in sequence order (``np.cumsum``), as STS does.
"""

from __future__ import annotations

import numpy as np

CHUNK_BITS = 1 << 19          # bits per chunk: bounds the scratch memory; temporaries of a few MiB stay clear of
                              # fresh-page faults, which cost more than the arithmetic on bigger ones
_LOG_2 = np.log(2.0)


def _chunks(n: int, size: int | None = None):
    size = max(1, CHUNK_BITS if size is None else size)      # CHUNK_BITS read per call: tests shrink it
    for start in range(0, n, size):
        yield start, min(n, start + size)


def count_ones(bits) -> int:
    """Number of ones in ``bits`` (uint8, values 0/1)."""
    return int(np.count_nonzero(bits))


def count_transitions(bits) -> int:
    """Number of k in 1..n-1 with bits[k] != bits[k-1] (runs = transitions + 1)."""
    n = bits.shape[0]
    total = 0
    for start, stop in _chunks(n - 1):
        total += int(np.count_nonzero(bits[start + 1:stop + 1] != bits[start:stop]))
    return total


def block_ones(bits, block_bits, n_blocks):
    """Ones per non-overlapping block: int64 array (n_blocks,)."""
    blocks = bits[:n_blocks * block_bits].reshape(n_blocks, block_bits)
    out = np.empty(n_blocks, dtype=np.int64)
    per_chunk = max(1, CHUNK_BITS // block_bits)
    for start, stop in _chunks(n_blocks, per_chunk):
        out[start:stop] = np.count_nonzero(blocks[start:stop], axis=1)
    return out


def longest_run_per_block(bits, block_bits, n_blocks):
    """Longest run of ones inside each non-overlapping block: int64 array (n_blocks,).

    Each block gets a trailing zero; a run ends at every zero, its length is the distance to the zero before
    it, and a block's longest run is the maximum over the zeros that fall in it.
    """
    blocks = bits[:n_blocks * block_bits].reshape(n_blocks, block_bits)
    out = np.empty(n_blocks, dtype=np.int64)
    width = block_bits + 1
    per_chunk = max(1, CHUNK_BITS // width)
    for start, stop in _chunks(n_blocks, per_chunk):
        padded = np.zeros((stop - start, width), dtype=np.uint8)
        padded[:, :block_bits] = blocks[start:stop]
        zeros = np.flatnonzero(padded.ravel() == 0)
        runs = np.diff(zeros, prepend=-1) - 1
        # Block b's zeros sit at positions [b width, (b + 1) width); each block has its sentinel zero.
        first = np.searchsorted(zeros, np.arange(stop - start, dtype=np.int64) * width)
        out[start:stop] = np.maximum.reduceat(runs, first)
    return out


def gf2_ranks(bits, n_rows, n_cols, n_matrices):
    """GF(2) rank of consecutive n_rows x n_cols matrices filled row by row: int64 array (n_matrices,).

    Rows are packed into 64-bit words and all matrices of a chunk are eliminated together (Gauss-Jordan:
    per column, the first unused row holding a one is the pivot and is added to every other row holding
    one; the rank is the number of pivots).
    """
    n_words = (n_cols + 63) // 64
    matrix_bits = n_rows * n_cols
    matrices = bits[:n_matrices * matrix_bits].reshape(n_matrices, n_rows, n_cols)
    out = np.empty(n_matrices, dtype=np.int64)
    # Column c lands in word c // 64 at bit 8 (c % 64 // 8) + 7 - c % 8 (packbits is MSB first, the words
    # little-endian); the order of the columns does not change a rank.
    column = np.arange(n_cols)
    word_of = column // 64
    bit_of = (8 * (column % 64 // 8) + 7 - column % 8).astype(np.uint64)
    per_chunk = max(1, CHUNK_BITS // matrix_bits)
    for start, stop in _chunks(n_matrices, per_chunk):
        count = stop - start
        padded = np.zeros((count, n_rows, 64 * n_words), dtype=np.uint8)
        padded[..., :n_cols] = matrices[start:stop]
        rows = np.packbits(padded, axis=-1).view("<u8")            # (count, n_rows, n_words)
        used = np.zeros((count, n_rows), dtype=bool)
        rank = np.zeros(count, dtype=np.int64)
        index = np.arange(count)
        for word, bit in zip(word_of, bit_of):
            has = ((rows[:, :, word] >> bit) & np.uint64(1)).astype(bool)
            candidates = has & ~used
            found = candidates.any(axis=1)
            pivot = candidates.argmax(axis=1)
            pivot_row = rows[index, pivot]                               # (count, n_words)
            has[index, pivot] = False
            has &= found[:, None]
            rows ^= np.where(has[:, :, None], pivot_row[:, None, :], np.uint64(0))
            used[index, pivot] |= found
            rank += found
        out[start:stop] = rank
    return out


def _window_values(array: np.ndarray, m: int) -> np.ndarray:
    """Values of the m-bit windows along the last axis of ``array`` (first bit most significant): shape
    ``(..., length - m + 1)``, uint32 for m <= 32."""
    dtype = np.uint32 if m <= 32 else np.uint64
    n_windows = array.shape[-1] - m + 1
    values = np.zeros((*array.shape[:-1], n_windows), dtype=dtype)
    for j in range(m):
        values <<= dtype(1)
        values |= array[..., j:j + n_windows]
    return values


def _windows(bits, start: int, stop: int, m: int) -> np.ndarray:
    """The m-bit windows starting at start..stop-1; needs ``stop + m - 1 <= len(bits)``."""
    return _window_values(bits[start:stop + m - 1], m)


def circular_window_counts(bits, m):
    """Counts of every m-bit pattern over the n overlapping windows with wrap-around.

    Window i reads bits[i], ..., bits[(i + m - 1) mod n], first bit most significant
    (SP800-22 sec. 2.11.4 step 1, 2.12.4 step 1). Returns int64 array (2**m,).
    """
    n = bits.shape[0]
    counts = np.zeros(1 << m, dtype=np.int64)
    straight = max(n - m + 1, 0)  # windows that do not wrap
    for start, stop in _chunks(straight):
        counts += np.bincount(_windows(bits, start, stop, m), minlength=1 << m)
    wrapped = np.arange(straight, n, dtype=np.int64)
    if wrapped.size:
        positions = (wrapped[:, None] + np.arange(m, dtype=np.int64)[None, :]) % n
        weights = np.left_shift(np.int64(1), np.arange(m - 1, -1, -1, dtype=np.int64))
        counts += np.bincount(bits[positions].astype(np.int64) @ weights, minlength=1 << m)
    return counts


def block_window_counts(bits, m, block_bits, n_blocks):
    """Per block, counts of every m-bit pattern over windows starting at 0..block_bits-m.

    Returns int64 array (n_blocks, 2**m). For an aperiodic template no two occurrences
    can overlap, so these counts equal the non-overlapping match counts W_j of
    SP800-22 sec. 2.7 for all templates at once.
    """
    counts = np.zeros((n_blocks, 1 << m), dtype=np.int64)
    for block in range(n_blocks):
        base = block * block_bits
        for start, stop in _chunks(max(block_bits - m + 1, 0)):
            counts[block] += np.bincount(_windows(bits, base + start, base + stop, m), minlength=1 << m)
    return counts


def _match_positions(bits, template, m, base, block_bits):
    """Start offsets (in the block) of the windows equal to ``template``, in order."""
    found = []
    for start, stop in _chunks(max(block_bits - m + 1, 0)):
        found.append(np.flatnonzero(_windows(bits, base + start, base + stop, m) == template) + start)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def non_overlapping_matches(bits, template, m, block_bits, n_blocks):
    """Matches of one template per block, skipping m bits after each match (sec. 2.7.4).

    Needed only for periodic templates (for aperiodic ones see block_window_counts). A match counts
    when it starts at least m bits after the last counted one. Returns int64 array (n_blocks,).
    """
    out = np.zeros(n_blocks, dtype=np.int64)
    for block in range(n_blocks):
        positions = _match_positions(bits, template, m, block * block_bits, block_bits)
        total, i = 0, 0
        while i < positions.size:
            total += 1
            i = int(np.searchsorted(positions, positions[i] + m))
        out[block] = total
    return out


def overlapping_matches(bits, template, m, block_bits, n_blocks):
    """Overlapping matches of one template per block (sec. 2.8.4): int64 array (n_blocks,)."""
    out = np.zeros(n_blocks, dtype=np.int64)
    n_windows = block_bits - m + 1
    if n_windows <= 0:
        return out
    blocks = bits[:n_blocks * block_bits].reshape(n_blocks, block_bits)
    per_chunk = max(1, CHUNK_BITS // block_bits)
    for start, stop in _chunks(n_blocks, per_chunk):
        out[start:stop] = np.count_nonzero(_window_values(blocks[start:stop], m) == template, axis=1)
    return out


def universal_log_sum(bits, block_bits, n_init_blocks, n_test_blocks):
    """Maurer's sum of log2(i - T[block value]) over the test blocks (sec. 2.9.4 step 3).

    T[v] is the last block before i (1-based) holding the value v, 0 if none: within a chunk of blocks
    a stable sort by value puts each block next to its predecessor of the same value; the table carries
    the last index of every value across chunks. Uses log(x)/log(2) as STS does, summed in block order.
    """
    n_blocks = n_init_blocks + n_test_blocks
    values_all = bits[:n_blocks * block_bits].reshape(n_blocks, block_bits)
    weights = np.left_shift(np.int64(1), np.arange(block_bits - 1, -1, -1, dtype=np.int64))
    table = np.zeros(1 << block_bits, dtype=np.int64)
    terms = []
    for start, stop in _chunks(n_blocks, max(1, CHUNK_BITS // block_bits)):
        values = values_all[start:stop].astype(np.int64) @ weights
        index = np.arange(start + 1, stop + 1, dtype=np.int64)        # 1-based block numbers
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        previous = np.empty(order.size, dtype=np.int64)
        previous[order[~first]] = index[order[np.flatnonzero(~first) - 1]]
        previous[order[first]] = table[ordered[first]]
        last = np.ones(order.size, dtype=bool)
        last[:-1] = first[1:]
        table[ordered[last]] = index[order[last]]
        test = index > n_init_blocks
        if test.any():
            terms.append(np.log((index[test] - previous[test]).astype(np.float64)) / _LOG_2)
    if not terms:
        return 0.0
    return float(np.cumsum(np.concatenate(terms))[-1])


def _bit_slices(blocks: np.ndarray) -> np.ndarray:
    """(k, M) bits of k blocks -> (M, ceil(k / 64)) uint64: word w of row j holds bit j of blocks
    64 w .. 64 w + 63 (block 64 w + b at bit b)."""
    count, length = blocks.shape
    n_words = (count + 63) // 64
    padded = np.zeros((length, 64 * n_words), dtype=np.uint8)
    padded[:, :count] = blocks.T
    return np.packbits(padded, axis=1, bitorder="little").view("<u8")


def linear_complexities(bits, block_bits, n_blocks):
    """Berlekamp-Massey linear complexity of each non-overlapping block (sec. 2.10.4 step 2).

    Bit-sliced: 64 blocks share a machine word, so one step runs for all blocks of a chunk at once.
    With C(D) the connection polynomial, B(D) the one before the last length change at step m and
    ``shifted`` = B(D) D^(step - m), step ``step`` computes the discrepancy d = sum_i c_i s[step - i],
    adds ``shifted`` to C where d = 1 and, where also 2L <= step, sets L = step + 1 - L and
    B = the old C; ``shifted`` then moves up one degree. Coefficient arrays hold degrees 0..M+1, and
    after ``step`` nothing above degree step + 1 is nonzero. Returns int64 array (n_blocks,).
    """
    blocks_all = bits[:n_blocks * block_bits].reshape(n_blocks, block_bits)
    out = np.empty(n_blocks, dtype=np.int64)
    # Wider chunks here: each of the M steps is a dozen numpy calls per chunk, on arrays of M x words.
    per_chunk = 64 * max(1, 16 * CHUNK_BITS // (64 * block_bits))
    all_ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    for start, stop in _chunks(n_blocks, per_chunk):
        count = stop - start
        sequence = _bit_slices(blocks_all[start:stop])                   # (M, words)
        n_words = sequence.shape[1]
        connection = np.zeros((block_bits + 2, n_words), dtype=np.uint64)
        shifted = np.zeros_like(connection)
        connection[0] = all_ones
        shifted[1] = all_ones                                              # B = 1, m = -1: D^1 at step 0
        complexity = np.zeros(64 * n_words, dtype=np.int64)
        for step in range(block_bits):
            top = step + 2
            discrepancy = np.bitwise_xor.reduce(connection[:step + 1] & sequence[step::-1], axis=0)
            if not discrepancy.any():
                shifted[1:top + 1] = shifted[:top]
                shifted[0] = 0
                continue
            d = np.unpackbits(discrepancy.view(np.uint8), bitorder="little").astype(bool)
            change = d & (2 * complexity <= step)
            complexity[change] = step + 1 - complexity[change]
            change_mask = np.packbits(change, bitorder="little").view("<u8")
            old = connection[:top].copy()
            connection[:top] ^= shifted[:top] & discrepancy
            # Where the length changed B becomes the old C, else it stays; then up one degree.
            kept = shifted[:top] & ~change_mask
            shifted[1:top + 1] = kept | (old & change_mask)
            shifted[0] = 0
        out[start:stop] = complexity[:count]
    return out


def random_walk(bits):
    """One pass over the +/-1 random walk S_k of the sequence (sec. 2.13-2.15).

    Returns:
        final: S_n.
        highest, lowest: max and min of S_0 = 0, S_1, ..., S_n.
        n_zeros: number of k in 1..n with S_k = 0.
        excursion_counts: int64 (6, 8): row k counts cycles that visit state
            x in (-4..-1, 1..4) exactly k times (k = 5: five or more), sec. 2.14.4.
        state_visits: int64 (18,): total visits of states -9..-1, 1..9, sec. 2.15.4.

    A cycle ends at each zero of the walk; per chunk, a position's cycle is the number of zeros before it,
    and the visits of the cycle still open at a chunk's end carry into the next chunk.
    """
    excursion_counts = np.zeros((6, 8), dtype=np.int64)
    state_visits = np.zeros(18, dtype=np.int64)
    open_cycle = np.zeros(8, dtype=np.int64)
    walk, highest, lowest, n_zeros = 0, 0, 0, 0
    state_of = np.full(9, -1, dtype=np.int64)        # walk + 4 -> column of excursion_counts (none for 0)
    state_of[[0, 1, 2, 3, 5, 6, 7, 8]] = np.arange(8)
    for start, stop in _chunks(bits.shape[0], CHUNK_BITS // 4):
        steps = bits[start:stop].view(np.int8) * np.int8(2)
        steps -= np.int8(1)
        path = np.cumsum(steps, dtype=np.int64)
        path += walk
        walk = int(path[-1])
        highest = max(highest, int(path.max()))
        lowest = min(lowest, int(path.min()))
        zero_positions = np.flatnonzero(path == 0)
        zeros_here = zero_positions.size
        n_zeros += zeros_here
        near = np.flatnonzero(np.abs(path) <= 9)
        near_values = path[near]
        visits = np.bincount(near_values + 9, minlength=19)
        state_visits += np.delete(visits, 9)
        inner = np.abs(near_values) <= 4
        inner &= near_values != 0
        inner_positions = near[inner]
        cycle = np.searchsorted(zero_positions, inner_positions)     # the zeros before each visit
        column = state_of[near_values[inner] + 4]
        per_cycle = np.bincount(cycle * 8 + column, minlength=(zeros_here + 1) * 8).reshape(zeros_here + 1, 8)
        per_cycle[0] += open_cycle
        closed = np.minimum(per_cycle[:zeros_here], 5)
        for s in range(8):
            excursion_counts[:, s] += np.bincount(closed[:, s], minlength=6)
        open_cycle = per_cycle[zeros_here]
    if walk != 0:
        # The last cycle ends at the appended S_{n+1} = 0 (sec. 2.14.4 step 3).
        excursion_counts[np.minimum(open_cycle, 5), np.arange(8)] += 1
    return walk, highest, lowest, n_zeros, excursion_counts, state_visits


def _spectrum_range(grid: np.ndarray, low: int, high: int) -> np.ndarray:
    """Z_low .. Z_(high-1), contiguous, from the grid that holds Z_j at grid[j % rows, j // rows]."""
    rows = grid.shape[0]
    if rows == 1:
        return grid[0, low:high]
    first, last = low // rows, (high - 1) // rows + 1
    return grid[:, first:last].T.ravel()[low - rows * first:high - rows * first]


_TWIDDLE_BLOCK = 1024


def _twiddles(start: int, stop: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of -2 pi j / n for j = start..stop-1, as e^{-2 pi i B q / n} e^{-2 pi i r / n} with
    j = B q + r: 2 (stop - start) / B + 2 B sines and cosines instead of 2 (stop - start), products
    within a few ulp."""
    j = np.arange(start, stop, dtype=np.int64)
    coarse = -2.0 * np.pi / n * (_TWIDDLE_BLOCK * np.arange(start // _TWIDDLE_BLOCK, (stop - 1) // _TWIDDLE_BLOCK + 1))
    fine = -2.0 * np.pi / n * np.arange(_TWIDDLE_BLOCK, dtype=np.float64)
    q = j // _TWIDDLE_BLOCK - start // _TWIDDLE_BLOCK
    r = j % _TWIDDLE_BLOCK
    cos_q, sin_q = np.cos(coarse)[q], np.sin(coarse)[q]
    cos_r, sin_r = np.cos(fine)[r], np.sin(fine)[r]
    return cos_q * cos_r - sin_q * sin_r, sin_q * cos_r + cos_q * sin_r


def spectrum_count_below(grid, n, threshold, skip_dc):
    """Count moduli |X_j| < threshold of a length-n real sequence's DFT, j in 0..n//2-1.

    ``grid`` (rows, cols) holds the complex FFT Z of the n/2 samples
    z_k = x_{2k} + i x_{2k+1} (n even) with Z_j at grid[j % rows, j // rows] (rows = 1
    for a plain FFT, see dft.four_step_fft); X_j is rebuilt from Z_j and Z_{n/2-j} with
    the split-radix identity, in real arithmetic and in chunks of bins, so the full real FFT is never
    materialised: with u = Z_j + conj Z_{n/2-j}, v = Z_j - conj Z_{n/2-j} and e^{-2 pi i j / n} = c + i s,

        2 X_j = (Re u + c Im v + s Re v) + i (Im u - c Re v + s Im v).

    ``skip_dc`` leaves out j = 0.
    """
    half = n // 2
    count = 0
    limit = threshold * threshold * 4.0
    for start, stop in _chunks(half, CHUNK_BITS // 8):
        a = _spectrum_range(grid, start, stop)
        # Z_{(n/2 - j) mod n/2} for j = start..stop-1: Z_0 first when start = 0, then descending.
        if start == 0:
            mirror = np.concatenate((_spectrum_range(grid, 0, 1), _spectrum_range(grid, half - stop + 1, half)[::-1]))
        else:
            mirror = _spectrum_range(grid, half - stop + 1, half - start + 1)[::-1]
        u_real = a.real + mirror.real
        u_imag = a.imag - mirror.imag
        v_real = a.real - mirror.real
        v_imag = a.imag + mirror.imag
        cosine, sine = _twiddles(start, stop, n)
        x_real = u_real + cosine * v_imag + sine * v_real
        x_imag = u_imag - cosine * v_real + sine * v_imag
        squared = x_real * x_real + x_imag * x_imag
        if start == 0 and skip_dc:
            squared = squared[1:]
        count += int(np.count_nonzero(squared < limit))
    return count


def real_spectrum_count_below(spectrum, half, threshold, skip_dc):
    """Count |X_j| < threshold, j in 0..half-1, from a numpy rfft output (odd n)."""
    values = spectrum[1 if skip_dc else 0:half]
    return int(np.count_nonzero(np.sqrt(values.real * values.real + values.imag * values.imag) < threshold))


def pack_pairs_as_complex(bits, out):
    """out[k] = (2 bits[2k] - 1) + i (2 bits[2k+1] - 1), the input of spectrum_count_below."""
    flat = out.view(np.float64)           # real and imaginary parts interleaved: the bits in order
    for start, stop in _chunks(flat.shape[0]):
        chunk = flat[start:stop]
        chunk[:] = bits[start:stop]
        chunk *= 2.0
        chunk -= 1.0


def entropy_sum(counts):
    """sum_i c_i log(c_i / total) over nonzero counts, in index order (sec. 2.12.4 step 4)."""
    total = int(counts.sum())
    nonzero = counts[counts > 0].astype(np.float64)
    if nonzero.size == 0:
        return 0.0
    return float(np.cumsum(nonzero * np.log(nonzero / total))[-1])


def sum_of_squares(counts):
    """sum_i c_i**2 as float64 (exact while the sum stays below 2**53)."""
    counts = np.asarray(counts, dtype=np.int64)
    return float(np.dot(counts, counts))


def bits_are_binary(values):
    """Index of the first value that is neither 0 nor 1, or -1 if all are 0/1."""
    for start, stop in _chunks(values.shape[0]):
        chunk = values[start:stop]
        bad = (chunk != 0) & (chunk != 1)
        if bad.any():
            return start + int(bad.argmax())
    return -1
