"""Spec-literal SP800-22 implementations: the cross-check oracle (not library code).

Each function follows the steps of SP800-22 rev1a section 2.x as written, with plain
numpy and Python integers and no shared code with ``cim_emu.randomness``. They are
written for clarity, not speed, and serve two roles: the tests compare
the library against them on many sequences, and ``benchmarks/bench_nist.py`` uses
them as the baseline its speed-up is measured against.

``sts=True`` selects the constants STS 2.1.2 uses where they differ from the document
(longest-run and linear-complexity class probabilities, the overlapping-template
approximation, the DFT counting of the DC bin, the 10-digit ln 20).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats


def _igamc(a: float, x: float) -> float:
    return 1.0 if x <= 0 else float(special.gammaincc(a, x))


def frequency(bits: np.ndarray) -> list[float]:
    """Sec. 2.1.4."""
    x = 2 * bits.astype(np.int64) - 1
    s_obs = abs(int(x.sum())) / math.sqrt(len(bits))
    return [math.erfc(s_obs / math.sqrt(2))]


def block_frequency(bits: np.ndarray, block_bits: int = 128) -> list[float]:
    """Sec. 2.2.4."""
    n_blocks = len(bits) // block_bits
    chi_squared = 0.0
    for i in range(n_blocks):
        pi = bits[i * block_bits : (i + 1) * block_bits].sum() / block_bits
        chi_squared += 4 * block_bits * (pi - 0.5) ** 2
    return [_igamc(n_blocks / 2, chi_squared / 2)]


def runs(bits: np.ndarray, *, sts: bool = True) -> list[float] | None:
    """Sec. 2.3.4; None when the frequency pre-test fails."""
    n = len(bits)
    pi = bits.sum() / n
    tau = 2 / math.sqrt(n)
    if (abs(pi - 0.5) > tau) if sts else (abs(pi - 0.5) >= tau):
        return None
    v_obs = 1 + int(np.count_nonzero(bits[1:] != bits[:-1]))
    return [math.erfc(abs(v_obs - 2 * n * pi * (1 - pi)) / (2 * math.sqrt(2 * n) * pi * (1 - pi)))]


def _longest_run_table(block_bits: int, sts: bool) -> tuple[list[int], list[float]]:
    bounds = {8: [1, 2, 3, 4], 128: [4, 5, 6, 7, 8, 9], 10000: [10, 11, 12, 13, 14, 15, 16]}[block_bits]
    if sts:
        table = {
            8: [0.21484375, 0.3671875, 0.23046875, 0.1875],
            128: [0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847],
            10000: [0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727],
        }
        return bounds, table[block_bits]
    # Exact: enumerate by dynamic programming over (current run, longest so far).
    distribution = {(0, 0): 1}
    for _ in range(block_bits):
        updated: dict[tuple[int, int], int] = {}
        for (run, longest), count in distribution.items():
            for key in ((0, longest), (run + 1, max(longest, run + 1))):
                capped = (min(key[0], bounds[-1]), min(key[1], bounds[-1]))
                updated[capped] = updated.get(capped, 0) + count
        distribution = updated
    by_longest = [0] * (bounds[-1] + 1)
    for (_, longest), count in distribution.items():
        by_longest[longest] += count
    total = 2**block_bits
    probabilities = [sum(by_longest[: bounds[0] + 1]) / total]
    probabilities += [by_longest[v] / total for v in bounds[1:-1]]
    probabilities.append(by_longest[bounds[-1]] / total)
    return bounds, probabilities


def longest_run(bits: np.ndarray, block_bits: int | None = None, *, sts: bool = True) -> list[float]:
    """Sec. 2.4.4."""
    n = len(bits)
    if block_bits is None:
        block_bits = 8 if n < 6272 else 128 if n < 750000 else 10000
    bounds, probabilities = _longest_run_table(block_bits, sts)
    n_blocks = n // block_bits
    nu = [0] * len(bounds)
    for i in range(n_blocks):
        block = "".join(map(str, bits[i * block_bits : (i + 1) * block_bits].tolist()))
        longest = max(len(run) for run in block.split("0"))
        nu[min(max(longest, bounds[0]), bounds[-1]) - bounds[0]] += 1
    chi_squared = sum((nu[i] - n_blocks * p) ** 2 / (n_blocks * p) for i, p in enumerate(probabilities))
    return [_igamc((len(bounds) - 1) / 2, chi_squared / 2)]


def _gf2_rank(rows: list[int]) -> int:
    rank = 0
    rows = list(rows)
    while rows:
        pivot = rows.pop()
        if pivot:
            rank += 1
            top = pivot.bit_length() - 1
            rows = [row ^ pivot if (row >> top) & 1 else row for row in rows]
    return rank


def rank(bits: np.ndarray, n_rows: int = 32, n_cols: int = 32) -> list[float]:
    """Sec. 2.5.4 with the probabilities of sec. 3.5."""
    n_matrices = len(bits) // (n_rows * n_cols)
    ranks = []
    for k in range(n_matrices):
        block = bits[k * n_rows * n_cols : (k + 1) * n_rows * n_cols].reshape(n_rows, n_cols)
        ranks.append(_gf2_rank([int("".join(map(str, row.tolist())), 2) for row in block]))
    full = min(n_rows, n_cols)

    def probability(r: int) -> float:
        product = 1.0
        for i in range(r):
            product *= (1 - 2.0 ** (i - n_rows)) * (1 - 2.0 ** (i - n_cols)) / (1 - 2.0 ** (i - r))
        return 2.0 ** (r * (n_rows + n_cols - r) - n_rows * n_cols) * product

    observed = [
        ranks.count(full),
        ranks.count(full - 1),
        n_matrices - ranks.count(full) - ranks.count(full - 1),
    ]
    expected = [probability(full), probability(full - 1)]
    expected.append(1 - sum(expected))
    chi_squared = sum((o - n_matrices * p) ** 2 / (n_matrices * p) for o, p in zip(observed, expected, strict=True))
    return [math.exp(-chi_squared / 2)]


def dft(bits: np.ndarray, *, sts: bool = True) -> list[float]:
    """Sec. 2.6.4 with a full complex FFT; STS counts the DC bin, the corrected mode does not."""
    n = len(bits)
    moduli = np.abs(np.fft.fft(2.0 * bits - 1.0))[: n // 2]
    threshold = math.sqrt((2.995732274 if sts else math.log(1 / 0.05)) * n)
    n_1 = int(np.count_nonzero(moduli < threshold)) if sts else int(np.count_nonzero(moduli[1:] < threshold))
    d = (n_1 - 0.95 * n / 2) / math.sqrt(n * 0.95 * 0.05 / 4)
    return [math.erfc(abs(d) / math.sqrt(2))]


def _windows_equal(bits: np.ndarray, template: str) -> np.ndarray:
    """Boolean array: does the window starting at i equal the template (i = 0..n-m)?"""
    m = len(template)
    match = np.ones(len(bits) - m + 1, dtype=bool)
    for k, ch in enumerate(template):
        match &= bits[k : len(bits) - m + 1 + k] == int(ch)
    return match


def non_overlapping_template(bits: np.ndarray, templates: list[str], n_blocks: int = 8) -> list[float]:
    """Sec. 2.7.4: per block, scan left to right and jump m bits after each match."""
    m = len(templates[0])
    block_bits = len(bits) // n_blocks
    mean = (block_bits - m + 1) / 2**m
    variance = block_bits * (1 / 2**m - (2 * m - 1) / 2 ** (2 * m))
    p_values = []
    for template in templates:
        chi_squared = 0.0
        for j in range(n_blocks):
            block = bits[j * block_bits : (j + 1) * block_bits]
            starts = np.flatnonzero(_windows_equal(block, template))
            count, free_from = 0, 0
            for start in starts:
                if start >= free_from:
                    count += 1
                    free_from = start + m
            chi_squared += (count - mean) ** 2 / variance
        p_values.append(_igamc(n_blocks / 2, chi_squared / 2))
    return p_values


def overlapping_template(
    bits: np.ndarray, template_bits: int = 9, block_bits: int = 1032, n_classes: int = 5, *, sts: bool = True
) -> list[float]:
    """Sec. 2.8.4 for the all-ones template; STS's Pr() or the exact law by brute-force recursion."""
    n_blocks = len(bits) // block_bits
    nu = [0] * (n_classes + 1)
    for i in range(n_blocks):
        matches = int(_windows_equal(bits[i * block_bits : (i + 1) * block_bits], "1" * template_bits).sum())
        nu[min(matches, n_classes)] += 1
    if sts:
        eta = (block_bits - template_bits + 1) / 2**template_bits / 2
        probabilities = [math.exp(-eta)]
        for u in range(1, n_classes):
            probabilities.append(
                sum(
                    math.exp(-eta) * 2.0**-u * eta**ell / math.factorial(ell) * math.comb(u - 1, ell - 1)
                    for ell in range(1, u + 1)
                )
            )
        probabilities.append(1 - sum(probabilities))
    else:
        # State: current run of ones (capped at m - 1) and matches so far (capped at K).
        law = {(0, 0): 1.0}
        for _ in range(block_bits):
            updated: dict[tuple[int, int], float] = {}
            for (run, matches), mass in law.items():
                for key in (
                    (0, matches),
                    (min(run + 1, template_bits - 1), matches + (run + 1 >= template_bits)),
                ):
                    key = (key[0], min(key[1], n_classes))
                    updated[key] = updated.get(key, 0.0) + mass / 2
            law = updated
        probabilities = [sum(v for (_, k), v in law.items() if k == c) for c in range(n_classes + 1)]
    chi_squared = sum((nu[i] - n_blocks * p) ** 2 / (n_blocks * p) for i, p in enumerate(probabilities))
    return [_igamc(n_classes / 2, chi_squared / 2)]


_MAURER = {
    1: (0.7326495, 0.690), 2: (1.5374383, 1.338), 3: (2.4016068, 1.901), 4: (3.3112247, 2.358),
    5: (4.2534266, 2.705), 6: (5.2177052, 2.954), 7: (6.1962507, 3.125), 8: (7.1836656, 3.238),
    9: (8.1764248, 3.311), 10: (9.1723243, 3.356), 11: (10.170032, 3.384), 12: (11.168765, 3.401),
    13: (12.168070, 3.410), 14: (13.167693, 3.416), 15: (14.167488, 3.419), 16: (15.167379, 3.421),
}  # fmt: skip


def universal(bits: np.ndarray, block_bits: int, init_blocks: int | None = None) -> list[float]:
    """Sec. 2.9.4."""
    n_init = 10 * 2**block_bits if init_blocks is None else init_blocks
    n_test = len(bits) // block_bits - n_init
    last_seen: dict[int, int] = {}
    total = 0.0
    for i in range(1, n_init + n_test + 1):
        value = int("".join(map(str, bits[(i - 1) * block_bits : i * block_bits].tolist())), 2)
        if i > n_init:
            total += math.log2(i - last_seen.get(value, 0))
        last_seen[value] = i
    f_n = total / n_test
    expected, variance = _MAURER[block_bits]
    c = 0.7 - 0.8 / block_bits + (4 + 32 / block_bits) * n_test ** (-3 / block_bits) / 15
    sigma = c * math.sqrt(variance / n_test)
    return [math.erfc(abs(f_n - expected) / (math.sqrt(2) * sigma))]


def _circular_counts(bits: np.ndarray, m: int) -> np.ndarray:
    """Counts of the 2**m overlapping m-bit patterns of the sequence extended by its first m-1 bits."""
    if m == 0:
        return np.array([len(bits)])
    extended = np.resize(bits, len(bits) + m - 1).astype(np.int64)  # wraps as often as needed
    values = np.zeros(len(bits), dtype=np.int64)
    for k in range(m):
        values = values * 2 + extended[k : k + len(bits)]
    return np.bincount(values, minlength=2**m)


def approximate_entropy(bits: np.ndarray, block_bits: int = 10) -> list[float]:
    """Sec. 2.12.4."""
    n = len(bits)

    def phi(m: int) -> float:
        if m == 0:
            return 0.0
        c = _circular_counts(bits, m) / n
        c = c[c > 0]
        return float(np.sum(c * np.log(c)))

    apen = phi(block_bits) - phi(block_bits + 1)
    return [_igamc(2 ** (block_bits - 1), n * (math.log(2) - apen))]


def serial(bits: np.ndarray, block_bits: int = 16) -> list[float]:
    """Sec. 2.11.4."""
    n = len(bits)

    def psi(m: int) -> float:
        if m <= 0:
            return 0.0
        return float(2**m / n * np.sum(_circular_counts(bits, m).astype(np.float64) ** 2) - n)

    m = block_bits
    first = psi(m) - psi(m - 1)
    second = psi(m) - 2 * psi(m - 1) + psi(m - 2)
    return [_igamc(2 ** (m - 2), first / 2), _igamc(2 ** (m - 3), second / 2)]


def berlekamp_massey(block: list[int]) -> int:
    """Linear complexity with polynomials as Python integers (bit i = coefficient of D^i).

    ``history`` holds s[step - i] at bit i, so the discrepancy sum_i c_i s[step - i] is
    the parity of ``connection & history``.
    """
    connection, previous, complexity, last, history = 1, 1, 0, -1, 0
    for step in range(len(block)):
        history = (history << 1) | block[step]
        if (connection & history).bit_count() & 1:
            saved = connection
            connection ^= previous << (step - last)
            if complexity <= step // 2:
                complexity, last, previous = step + 1 - complexity, step, saved
    return complexity


def linear_complexity(bits: np.ndarray, block_bits: int = 500, *, sts: bool = True) -> list[float]:
    """Sec. 2.10.4."""
    n_blocks = len(bits) // block_bits
    m = block_bits
    mu = m / 2 + (9 + (-1) ** (m + 1)) / 36 - (m / 3 + 2 / 9) / 2**m
    nu = [0] * 7
    for i in range(n_blocks):
        complexity = berlekamp_massey(bits[i * m : (i + 1) * m].tolist())
        t = (-1) ** m * (complexity - mu) + 2 / 9
        edges = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]
        nu[sum(1 for edge in edges if t > edge)] += 1
    if sts:
        pi = [0.01047, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833]
    else:
        pi = [1 / 96, 1 / 32, 1 / 8, 1 / 2, 1 / 4, 1 / 16, 1 / 48]
    chi_squared = sum((nu[i] - n_blocks * pi[i]) ** 2 / (n_blocks * pi[i]) for i in range(7))
    return [_igamc(3, chi_squared / 2)]


def cumulative_sums(bits: np.ndarray) -> list[float]:
    """Sec. 2.13.4 with the document's floor limits and an accurate normal CDF."""
    n = len(bits)
    x = 2 * bits.astype(np.int64) - 1
    p_values = []
    for walk in (np.cumsum(x), np.cumsum(x[::-1])):
        z = int(np.max(np.abs(walk)))
        phi = stats.norm.cdf
        first = sum(
            phi((4 * k + 1) * z / math.sqrt(n)) - phi((4 * k - 1) * z / math.sqrt(n))
            for k in range(math.floor((-n / z + 1) / 4), math.floor((n / z - 1) / 4) + 1)
        )
        second = sum(
            phi((4 * k + 3) * z / math.sqrt(n)) - phi((4 * k + 1) * z / math.sqrt(n))
            for k in range(math.floor((-n / z - 3) / 4), math.floor((n / z - 1) / 4) + 1)
        )
        p_values.append(float(1 - first + second))
    return p_values


def _cycles(bits: np.ndarray) -> list[np.ndarray]:
    """The excursions of S' = 0, S_1, ..., S_n, 0 between consecutive zeros (sec. 2.14.4 step 3)."""
    walk = np.concatenate([[0], np.cumsum(2 * bits.astype(np.int64) - 1), [0]])
    zeros = np.flatnonzero(walk == 0)
    return [walk[a + 1 : b] for a, b in zip(zeros[:-1], zeros[1:], strict=True)]


def random_excursions(bits: np.ndarray, *, sts: bool = True) -> list[float]:
    """Sec. 2.14.4; p-values for x = -4..-1, 1..4 (the caller checks J >= 500)."""
    cycles = _cycles(bits)
    n_cycles = len(cycles)
    p_values = []
    for x in (-4, -3, -2, -1, 1, 2, 3, 4):
        visits = [min(int(np.count_nonzero(cycle == x)), 5) for cycle in cycles]
        nu = np.bincount(visits, minlength=6)
        a = abs(x)
        if sts:
            pi = {
                1: [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.03125],
                2: [0.75, 0.0625, 0.046875, 0.03515625, 0.0263671875, 0.0791015625],
                3: [0.8333333333, 0.02777777778, 0.02314814815, 0.01929012346, 0.01607510288, 0.0803755143],
                4: [0.875, 0.015625, 0.013671875, 0.01196289063, 0.0104675293, 0.0732727051],
            }[a]
        else:
            pi = [1 - 1 / (2 * a)] + [(1 / (4 * a * a)) * (1 - 1 / (2 * a)) ** (k - 1) for k in range(1, 5)]
            pi.append((1 / (2 * a)) * (1 - 1 / (2 * a)) ** 4)
        chi_squared = sum((nu[k] - n_cycles * pi[k]) ** 2 / (n_cycles * pi[k]) for k in range(6))
        p_values.append(_igamc(2.5, chi_squared / 2))
    return p_values


def random_excursions_variant(bits: np.ndarray) -> list[float]:
    """Sec. 2.15.4; p-values for x = -9..-1, 1..9."""
    walk = np.cumsum(2 * bits.astype(np.int64) - 1)
    n_cycles = len(_cycles(bits))
    p_values = []
    for x in (*range(-9, 0), *range(1, 10)):
        visits = int(np.count_nonzero(walk == x))
        p_values.append(math.erfc(abs(visits - n_cycles) / math.sqrt(2 * n_cycles * (4 * abs(x) - 2))))
    return p_values


def count_cycles(bits: np.ndarray) -> int:
    """J, the number of zero-to-zero cycles of the walk."""
    return len(_cycles(bits))
