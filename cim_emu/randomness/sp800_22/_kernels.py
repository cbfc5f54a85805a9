"""Compiled counting kernels shared by the SP800-22 tests.

Every kernel streams once over a uint8 array of 0/1 bits and returns small integer
counts; none allocates anything proportional to the sequence length, so the suite
stays within O(n) bytes of memory at 100 Mbit. The statistics and p-values are
computed from these counts in the test modules (pure Python/numpy, float64), so the
kernels hold no floating-point arithmetic except where a test sums logarithms.
``cache=True`` keeps numba's compilation out of every run after the first.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_U64_ONE = np.uint64(1)
_U64_ZERO = np.uint64(0)


@numba.njit(cache=True, nogil=True)
def count_ones(bits):
    """Number of ones in ``bits`` (uint8, values 0/1)."""
    total = 0
    for i in range(bits.shape[0]):
        total += bits[i]
    return total


@numba.njit(cache=True, nogil=True)
def count_transitions(bits):
    """Number of k in 1..n-1 with bits[k] != bits[k-1] (runs = transitions + 1)."""
    total = 0
    for i in range(1, bits.shape[0]):
        total += bits[i] != bits[i - 1]
    return total


@numba.njit(cache=True, nogil=True)
def block_ones(bits, block_bits, n_blocks):
    """Ones per non-overlapping block: int64 array (n_blocks,)."""
    out = np.zeros(n_blocks, dtype=np.int64)
    for block in range(n_blocks):
        start = block * block_bits
        total = 0
        for i in range(start, start + block_bits):
            total += bits[i]
        out[block] = total
    return out


@numba.njit(cache=True, nogil=True)
def longest_run_per_block(bits, block_bits, n_blocks):
    """Longest run of ones inside each non-overlapping block: int64 array (n_blocks,)."""
    out = np.zeros(n_blocks, dtype=np.int64)
    for block in range(n_blocks):
        start = block * block_bits
        run = 0
        longest = 0
        for i in range(start, start + block_bits):
            if bits[i]:
                run += 1
                if run > longest:
                    longest = run
            else:
                run = 0
        out[block] = longest
    return out


@numba.njit(cache=True, nogil=True)
def _gf2_ranks_narrow(bits, n_rows, n_cols, n_matrices):
    """gf2_ranks for n_cols <= 64: one 64-bit word per row."""
    rows = np.zeros(n_rows, dtype=np.uint64)
    out = np.zeros(n_matrices, dtype=np.int64)
    matrix_bits = n_rows * n_cols
    for k in range(n_matrices):
        base = k * matrix_bits
        for r in range(n_rows):
            word = _U64_ZERO
            start = base + r * n_cols
            for c in range(n_cols):
                word = (word << _U64_ONE) | np.uint64(bits[start + c])
            rows[r] = word
        rank = 0
        for c in range(n_cols):
            mask = _U64_ONE << np.uint64(c)
            pivot = -1
            for r in range(rank, n_rows):
                if rows[r] & mask:
                    pivot = r
                    break
            if pivot < 0:
                continue
            pivot_row = rows[pivot]
            rows[pivot] = rows[rank]
            rows[rank] = pivot_row
            for r in range(rank + 1, n_rows):
                if rows[r] & mask:
                    rows[r] ^= pivot_row
            rank += 1
            if rank == n_rows:
                break
        out[k] = rank
    return out


@numba.njit(cache=True, nogil=True)
def _gf2_ranks_wide(bits, n_rows, n_cols, n_matrices):
    """gf2_ranks for any n_cols: rows packed into several 64-bit words."""
    n_words = (n_cols + 63) // 64
    rows = np.zeros((n_rows, n_words), dtype=np.uint64)
    out = np.zeros(n_matrices, dtype=np.int64)
    matrix_bits = n_rows * n_cols
    for k in range(n_matrices):
        base = k * matrix_bits
        for r in range(n_rows):
            for w in range(n_words):
                rows[r, w] = _U64_ZERO
            for c in range(n_cols):
                if bits[base + r * n_cols + c]:
                    rows[r, c // 64] |= _U64_ONE << np.uint64(c % 64)
        rank = 0
        for c in range(n_cols):
            word = c // 64
            mask = _U64_ONE << np.uint64(c % 64)
            pivot = -1
            for r in range(rank, n_rows):
                if rows[r, word] & mask:
                    pivot = r
                    break
            if pivot < 0:
                continue
            if pivot != rank:
                for w in range(n_words):
                    tmp = rows[pivot, w]
                    rows[pivot, w] = rows[rank, w]
                    rows[rank, w] = tmp
            for r in range(rank + 1, n_rows):
                if rows[r, word] & mask:
                    for w in range(n_words):
                        rows[r, w] ^= rows[rank, w]
            rank += 1
            if rank == n_rows:
                break
        out[k] = rank
    return out


def gf2_ranks(bits, n_rows, n_cols, n_matrices):
    """GF(2) rank of consecutive n_rows x n_cols matrices filled row by row.

    Rows are packed into 64-bit words; elimination is the textbook forward pass (the
    column order does not change a rank). Returns int64 array (n_matrices,).
    """
    if n_cols <= 64:
        return _gf2_ranks_narrow(bits, n_rows, n_cols, n_matrices)
    return _gf2_ranks_wide(bits, n_rows, n_cols, n_matrices)


@numba.njit(cache=True, nogil=True)
def circular_window_counts(bits, m):
    """Counts of every m-bit pattern over the n overlapping windows with wrap-around.

    Window i reads bits[i], ..., bits[(i + m - 1) mod n], first bit most significant
    (SP800-22 sec. 2.11.4 step 1, 2.12.4 step 1). Returns int64 array (2**m,).
    """
    n = bits.shape[0]
    counts = np.zeros(1 << m, dtype=np.int64)
    mask = (1 << m) - 1
    window = 0
    for j in range(m - 1):
        window = ((window << 1) | bits[j % n]) & mask
    # Windows that do not wrap need no modulo; only the last m-1 do.
    straight = max(n - m + 1, 0)
    for i in range(straight):
        window = ((window << 1) | bits[i + m - 1]) & mask
        counts[window] += 1
    for i in range(straight, n):
        window = ((window << 1) | bits[(i + m - 1) % n]) & mask
        counts[window] += 1
    return counts


@numba.njit(cache=True, nogil=True)
def block_window_counts(bits, m, block_bits, n_blocks):
    """Per block, counts of every m-bit pattern over windows starting at 0..block_bits-m.

    Returns int64 array (n_blocks, 2**m). For an aperiodic template no two occurrences
    can overlap, so these counts equal the non-overlapping match counts W_j of
    SP800-22 sec. 2.7 for all templates at once.
    """
    counts = np.zeros((n_blocks, 1 << m), dtype=np.int64)
    mask = (1 << m) - 1
    for block in range(n_blocks):
        start = block * block_bits
        window = 0
        for j in range(m - 1):
            window = ((window << 1) | bits[start + j]) & mask
        for j in range(m - 1, block_bits):
            window = ((window << 1) | bits[start + j]) & mask
            counts[block, window] += 1
    return counts


@numba.njit(cache=True, nogil=True)
def non_overlapping_matches(bits, template, m, block_bits, n_blocks):
    """Matches of one template per block, skipping m bits after each match (sec. 2.7.4).

    Needed only for periodic templates (for aperiodic ones see block_window_counts).
    Returns int64 array (n_blocks,).
    """
    out = np.zeros(n_blocks, dtype=np.int64)
    mask = (1 << m) - 1
    for block in range(n_blocks):
        start = block * block_bits
        window = 0
        filled = 0
        total = 0
        for j in range(block_bits):
            window = ((window << 1) | bits[start + j]) & mask
            filled += 1
            if filled >= m and window == template:
                total += 1
                filled = 0  # the next candidate window starts after this match
        out[block] = total
    return out


@numba.njit(cache=True, nogil=True)
def overlapping_matches(bits, template, m, block_bits, n_blocks):
    """Overlapping matches of one template per block (sec. 2.8.4): int64 array (n_blocks,)."""
    out = np.zeros(n_blocks, dtype=np.int64)
    mask = (1 << m) - 1
    for block in range(n_blocks):
        start = block * block_bits
        window = 0
        total = 0
        for j in range(block_bits):
            window = ((window << 1) | bits[start + j]) & mask
            if j >= m - 1 and window == template:
                total += 1
        out[block] = total
    return out


@numba.njit(cache=True, nogil=True)
def universal_log_sum(bits, block_bits, n_init_blocks, n_test_blocks):
    """Maurer's sum of log2(i - T[block value]) over the test blocks (sec. 2.9.4 step 3).

    Uses log(x)/log(2) as STS does, summed in block order.
    """
    table = np.zeros(1 << block_bits, dtype=np.int64)
    log2 = math.log(2.0)
    total = 0.0
    for i in range(1, n_init_blocks + n_test_blocks + 1):
        start = (i - 1) * block_bits
        value = 0
        for j in range(block_bits):
            value = (value << 1) | bits[start + j]
        if i > n_init_blocks:
            total += math.log(i - table[value]) / log2
        table[value] = i
    return total


@numba.njit(cache=True, nogil=True)
def _parity64(word):
    word ^= word >> np.uint64(32)
    word ^= word >> np.uint64(16)
    word ^= word >> np.uint64(8)
    word ^= word >> np.uint64(4)
    word ^= word >> np.uint64(2)
    word ^= word >> np.uint64(1)
    return word & _U64_ONE


@numba.njit(cache=True, nogil=True)
def linear_complexities(bits, block_bits, n_blocks):
    """Berlekamp-Massey linear complexity of each non-overlapping block (sec. 2.10.4 step 2).

    Polynomials and the reversed history of the block live in 64-bit words, so one
    step costs O(step / 64): after ``step`` bits no polynomial has degree above
    step + 1 and the history holds no bit above ``step``, so higher words stay zero
    and are skipped. Returns int64 array (n_blocks,).
    """
    n_words = (block_bits + 64) // 64 + 1
    connection = np.zeros(n_words, dtype=np.uint64)  # C(D), bit i = c_i
    previous = np.zeros(n_words, dtype=np.uint64)  # B(D)
    saved = np.zeros(n_words, dtype=np.uint64)
    history = np.zeros(n_words, dtype=np.uint64)  # bit i = s[step - i]
    out = np.zeros(n_blocks, dtype=np.int64)
    for block in range(n_blocks):
        start = block * block_bits
        for w in range(n_words):
            connection[w] = _U64_ZERO
            previous[w] = _U64_ZERO
            saved[w] = _U64_ZERO
            history[w] = _U64_ZERO
        connection[0] = _U64_ONE
        previous[0] = _U64_ONE
        complexity = 0
        last_change = -1
        for step in range(block_bits):
            top = min(n_words - 1, (step + 1) // 64 + 1)  # highest word that can be nonzero
            # history <<= 1, then insert s[step] at bit 0.
            for w in range(top, 0, -1):
                history[w] = (history[w] << _U64_ONE) | (history[w - 1] >> np.uint64(63))
            history[0] = (history[0] << _U64_ONE) | np.uint64(bits[start + step])
            # Discrepancy d = sum_{i=0..L} c_i s[step - i] (mod 2); c_i = 0 for i > L.
            acc = _U64_ZERO
            for w in range(complexity // 64 + 1):
                acc ^= connection[w] & history[w]
            if _parity64(acc) == _U64_ZERO:
                continue
            for w in range(top + 1):
                saved[w] = connection[w]
            # C(D) += B(D) * D^(step - last_change)
            shift = step - last_change
            word_shift = shift // 64
            bit_shift = np.uint64(shift % 64)
            for w in range(top, word_shift - 1, -1):
                source = w - word_shift
                value = previous[source] << bit_shift
                if bit_shift != _U64_ZERO and source >= 1:
                    value |= previous[source - 1] >> (np.uint64(64) - bit_shift)
                connection[w] ^= value
            if complexity <= step // 2:
                complexity = step + 1 - complexity
                last_change = step
                for w in range(top + 1):
                    previous[w] = saved[w]
        out[block] = complexity
    return out


@numba.njit(cache=True, nogil=True)
def random_walk(bits):
    """One pass over the +/-1 random walk S_k of the sequence (sec. 2.13-2.15).

    Returns:
        final: S_n.
        highest, lowest: max and min of S_0 = 0, S_1, ..., S_n.
        n_zeros: number of k in 1..n with S_k = 0.
        excursion_counts: int64 (6, 8): row k counts cycles that visit state
            x in (-4..-1, 1..4) exactly k times (k = 5: five or more), sec. 2.14.4.
        state_visits: int64 (18,): total visits of states -9..-1, 1..9, sec. 2.15.4.
    """
    excursion_counts = np.zeros((6, 8), dtype=np.int64)
    state_visits = np.zeros(18, dtype=np.int64)
    in_cycle = np.zeros(8, dtype=np.int64)
    walk = 0
    highest = 0
    lowest = 0
    n_zeros = 0
    for i in range(bits.shape[0]):
        walk += 2 * np.int64(bits[i]) - 1
        if walk > highest:
            highest = walk
        elif walk < lowest:
            lowest = walk
        if walk == 0:
            n_zeros += 1
            for s in range(8):
                excursion_counts[min(in_cycle[s], 5), s] += 1
                in_cycle[s] = 0
        elif -9 <= walk <= 9:
            state_visits[walk + 9 if walk < 0 else walk + 8] += 1
            if -4 <= walk <= 4:
                in_cycle[walk + 4 if walk < 0 else walk + 3] += 1
    if walk != 0:
        # The last cycle ends at the appended S_{n+1} = 0 (sec. 2.14.4 step 3).
        for s in range(8):
            excursion_counts[min(in_cycle[s], 5), s] += 1
    return walk, highest, lowest, n_zeros, excursion_counts, state_visits


@numba.njit(cache=True, nogil=True)
def spectrum_count_below(grid, n, threshold, skip_dc):
    """Count moduli |X_j| < threshold of a length-n real sequence's DFT, j in 0..n//2-1.

    ``grid`` (rows, cols) holds the complex FFT Z of the n/2 samples
    z_k = x_{2k} + i x_{2k+1} (n even) with Z_j at grid[j % rows, j // rows] (rows = 1
    for a plain FFT, see dft.four_step_fft); X_j is rebuilt from Z_j and Z_{n/2-j} with
    the split-radix identity, so the full real FFT is never materialised. The twiddle
    exp(-2 pi i j / n) advances by a complex rotation, re-evaluated exactly every 64
    bins (drift below 1e-14). ``skip_dc`` leaves out j = 0.
    """
    half = n // 2
    rows = grid.shape[0]
    count = 0
    step_angle = -2.0 * math.pi / n
    rotation = complex(math.cos(step_angle), math.sin(step_angle))
    twiddle = complex(1.0, 0.0)
    for j in range(half):
        if j % 64 == 0:
            twiddle = complex(math.cos(step_angle * j), math.sin(step_angle * j))
        mirror = (half - j) % half
        a = grid[j % rows, j // rows]
        b = grid[mirror % rows, mirror // rows].conjugate()
        value = 0.5 * (a + b) + twiddle * (-0.5j * (a - b))
        twiddle *= rotation
        if j == 0 and skip_dc:
            continue
        modulus = math.sqrt(value.real * value.real + value.imag * value.imag)
        if modulus < threshold:
            count += 1
    return count


@numba.njit(cache=True, nogil=True)
def real_spectrum_count_below(spectrum, half, threshold, skip_dc):
    """Count |X_j| < threshold, j in 0..half-1, from a numpy rfft output (odd n)."""
    count = 0
    for j in range(1 if skip_dc else 0, half):
        value = spectrum[j]
        modulus = math.sqrt(value.real * value.real + value.imag * value.imag)
        if modulus < threshold:
            count += 1
    return count


@numba.njit(cache=True, nogil=True)
def pack_pairs_as_complex(bits, out):
    """out[k] = (2 bits[2k] - 1) + i (2 bits[2k+1] - 1), the input of spectrum_count_below."""
    for k in range(out.shape[0]):
        out[k] = complex(2.0 * bits[2 * k] - 1.0, 2.0 * bits[2 * k + 1] - 1.0)


@numba.njit(cache=True, nogil=True)
def entropy_sum(counts):
    """sum_i c_i log(c_i / total) over nonzero counts, in index order (sec. 2.12.4 step 4)."""
    total = 0
    for i in range(counts.shape[0]):
        total += counts[i]
    acc = 0.0
    for i in range(counts.shape[0]):
        if counts[i] > 0:
            acc += counts[i] * math.log(counts[i] / total)
    return acc


@numba.njit(cache=True, nogil=True)
def sum_of_squares(counts):
    """sum_i c_i**2 as float64 (exact while the sum stays below 2**53)."""
    acc = 0.0
    for i in range(counts.shape[0]):
        acc += float(counts[i]) * float(counts[i])
    return acc


@numba.njit(cache=True, nogil=True)
def bits_are_binary(values):
    """Index of the first value that is neither 0 nor 1, or -1 if all are 0/1."""
    for i in range(values.shape[0]):
        if values[i] != 0 and values[i] != 1:
            return i
    return -1
