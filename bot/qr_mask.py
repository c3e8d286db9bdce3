"""Choose the QR data mask with numpy, exactly as segno would, so segno can encode with a fixed mask.

segno scores the eight ISO/IEC 18004 data masks in pure Python, which is most of its encode time.
This module reproduces segno 1.6's choice bit for bit (``segno.encoder.find_and_apply_best_mask`` and
``mask_scores``), including its particular readings of the standard:

- the masks are scored on the symbol *before* format and version information are written: those
  areas, and the dark module, are still light (0);
- N1: every run of 5 + i equal modules in a row or column scores 3 + i;
- N2: every 2×2 block of one colour scores 3 (overlapping blocks count separately);
- N3: every 1:1:3:1:1 pattern (``1011101``) with four light modules before *or* after it scores 40;
  modules outside the symbol count as light, and segno scans each line left to right: after a
  scoring pattern it resumes 7 modules on (so an overlapping pattern 4 or 6 modules later is not
  counted), after a non-scoring one 4 modules on;
- N4: ``10 * int(abs(dark_percent - 50) / 5)``, in floating point as segno computes it;
- ties go to the lowest mask number.

The data codewords come from segno's own encoder functions (the steps of ``segno.encoder._encode``);
error correction and interleaving are done with numpy, from unit blocks encoded once by segno's
``make_blocks``; the placement order is taken once per version from segno's ``add_codewords``.
Those are segno internals, hence the ``segno>=1.6,<1.7`` pin; tests/bot/test_qr_mask.py compares the
choice with segno's automatic one on 10,000 URLs and the scores with ``segno.encoder.mask_scores``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
from segno import consts, encoder

_N3_PATTERN = np.array([1, 0, 1, 1, 1, 0, 1], dtype=np.uint8)
_LIGHT_RUN = 4  # light modules N3 asks for on one side of the pattern
# segno's tables are unannotated and mypy infers their rows as ``object`` (the keys mix None, for
# Micro QR, and int): by version, then error level.
_SYMBOL_CAPACITY = cast("dict[int, dict[int | None, int]]", consts.SYMBOL_CAPACITY)
_ECC = cast("dict[int, dict[int | None, tuple[consts.EC, ...]]]", consts.ECC)


class _VersionLayout:
    """What does not depend on the content: function patterns, data positions, mask patterns."""

    def __init__(self, version: int) -> None:
        size = encoder.calc_matrix_size(version)
        # Exactly segno's matrix before codewords: timing, finders, alignment; format/version areas 0.
        matrix = encoder.make_matrix(size, size)
        encoder.add_finder_patterns(matrix, size, size)
        encoder.add_alignment_patterns(matrix, size, size)
        base = np.frombuffer(b"".join(matrix), dtype=np.uint8).reshape(size, size)
        data_cells = base == 0x2  # segno's is_encoding_region (the dark module cell is 0, not 2)
        self.size = size
        self.base = np.where(data_cells, 0, base).astype(np.uint8)
        self.placement = self._placement_order(matrix, version, int(data_cells.sum()))
        rows, columns = np.indices((size, size))
        self.masks = (np.stack([_mask_condition(number, rows, columns) for number in range(8)])
                      & data_cells).astype(np.uint8)

    @staticmethod
    def _placement_order(matrix: tuple[bytearray, ...], version: int, cells: int) -> np.ndarray:
        """Flat index of the cell each codeword bit goes to, asked of segno's own placement."""
        grid = [list(row) for row in matrix]
        encoder.add_codewords(grid, [3 + index for index in range(cells)], version)  # 3+: never 0x2
        values = np.array(grid, dtype=np.int64).ravel()
        order = np.empty(cells, dtype=np.intp)
        placed = values >= 3
        order[values[placed] - 3] = np.flatnonzero(placed)
        return order


def _mask_condition(number: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """ISO/IEC 18004 table 10, as segno's get_data_mask_functions (i row, j column)."""
    conditions = (
        lambda: (i + j) % 2 == 0,
        lambda: i % 2 == 0,
        lambda: j % 3 == 0,
        lambda: (i + j) % 3 == 0,
        lambda: (i // 2 + j // 3) % 2 == 0,
        lambda: (i * j) % 2 + (i * j) % 3 == 0,
        lambda: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        lambda: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
    )
    return conditions[number]()


@lru_cache(maxsize=None)
def _layout(version: int) -> _VersionLayout:
    return _VersionLayout(version)


def best_mask(content: str, error: str = "m") -> int:
    """The mask segno's ``make_qr(content, error=error, boost_error=False)`` would choose."""
    version, bits = _codeword_bits(content, encoder.normalize_errorlevel(error))
    layout = _layout(version)
    unmasked = layout.base.copy()
    unmasked.flat[layout.placement[:len(bits)]] = bits  # remainder bits, if any, stay 0 as in segno
    return int(np.argmin(penalties(unmasked[np.newaxis] ^ layout.masks)))  # first minimum, as segno


def _codeword_bits(content: str, error: int) -> tuple[int, np.ndarray]:
    """Version and final message bits (data + error correction), as segno's make_final_message."""
    segments = encoder.prepare_data(content, None, None)
    version = encoder.find_version(segments, error, eci=False, micro=False)
    # The data codewords by segno's own encoder steps (those of segno.encoder._encode)...
    buffer = encoder.Buffer()
    version_range = encoder.version_range(version)
    for segment in segments:
        encoder.write_segment(buffer, segment, None, version_range, False)
    capacity = _SYMBOL_CAPACITY[version][error]
    encoder.write_terminator(buffer, capacity, None, len(buffer))
    encoder.write_padding_bits(buffer, version, len(buffer))
    encoder.write_pad_codewords(buffer, version, capacity, len(buffer))
    data = np.packbits(np.frombuffer(buffer.getbits(), dtype=np.uint8))
    # ...then error correction and interleaving with numpy (segno's are pure Python, ~40 % of the cost).
    return version, np.unpackbits(_message_layout(version, error).final_message(data))


class _MessageLayout:
    """Blocks, Reed-Solomon and interleaving of one version and error level (ISO/IEC 18004 7.5-7.6).

    Reed-Solomon is linear over GF(256): the error codewords of a block are the XOR of its data
    codewords times the error codewords of the unit blocks, and those come from segno's make_blocks.
    """

    def __init__(self, version: int, error: int) -> None:
        self.groups: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # blocks, data length, log E, E == 0
        block_ranges: list[range] = []
        for info in _ECC[version][error]:
            unit_errors = _unit_error_codewords(info.num_data, info.num_total - info.num_data)
            self.groups.append((info.num_blocks, info.num_data, _LOG[unit_errors], unit_errors == 0))
            for _ in range(info.num_blocks):
                start = block_ranges[-1].stop if block_ranges else 0
                block_ranges.append(range(start, start + info.num_data))
        longest = max(len(block) for block in block_ranges)
        # Data codewords interleaved column by column, as segno's zip_longest over the blocks.
        self.data_order = np.array([block[index] for index in range(longest)
                                    for block in block_ranges if index < len(block)], dtype=np.intp)

    def final_message(self, data: np.ndarray) -> np.ndarray:
        error_blocks = []
        offset = 0
        for blocks, length, log_unit, unit_is_zero in self.groups:
            block_data = data[offset:offset + blocks * length].reshape(blocks, length)
            offset += blocks * length
            products = _EXP[_LOG[block_data][:, :, np.newaxis] + log_unit]  # (blocks, data, errors)
            products[(block_data == 0)[:, :, np.newaxis] | unit_is_zero] = 0
            error_blocks.append(np.bitwise_xor.reduce(products, axis=1))
        errors = np.concatenate(error_blocks)  # every block has as many error codewords
        return np.concatenate([data[self.data_order], errors.T.ravel()])


_LOG = np.array(consts.GALIOS_LOG, dtype=np.intp)
_EXP = np.array(consts.GALIOS_EXP, dtype=np.uint8)


def _unit_error_codewords(data_length: int, error_length: int) -> np.ndarray:
    """Row k: segno's Reed-Solomon error codewords of the block that is 1 at k and 0 elsewhere."""
    class _Codewords:  # what make_blocks reads from its buffer
        def __init__(self, values: list[int]) -> None:
            self.values = values

        def toints(self) -> object:
            return iter(self.values)

    info = [consts.EC(1, data_length + error_length, data_length)]
    rows = []
    for index in range(data_length):
        unit = [0] * data_length
        unit[index] = 1
        _, (errors,) = encoder.make_blocks(info, _Codewords(unit))
        rows.append(list(errors))
    return np.array(rows, dtype=np.uint8)


@lru_cache(maxsize=None)
def _message_layout(version: int, error: int) -> _MessageLayout:
    return _MessageLayout(version, error)


def penalties(symbols: np.ndarray) -> np.ndarray:
    """segno's penalty score (N1 + N2 + N3 + N4) of each square 0/1 matrix in ``symbols`` (k, n, n)."""
    return np.array([sum(scores) for scores in penalty_scores(symbols)])


def penalty_scores(symbols: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(N1, N2, N3, N4) per matrix, as ``segno.encoder.mask_scores``."""
    symbols = symbols.astype(bool)
    size = symbols.shape[-1]
    lines = np.concatenate([symbols, symbols.transpose(0, 2, 1)], axis=1)  # rows, then columns
    n1 = _run_penalty(lines)
    top_left = symbols[:, :-1, :-1]
    blocks = (top_left == symbols[:, 1:, :-1]) & (top_left == symbols[:, :-1, 1:]) & (top_left == symbols[:, 1:, 1:])
    n2 = 3 * blocks.sum(axis=(1, 2))
    n3 = 40 * _finder_like_patterns(lines).sum(axis=(1, 2))
    dark = symbols.sum(axis=(1, 2))
    return [(int(a), int(b), int(c), _proportion_penalty(int(d), size)) for a, b, c, d in zip(n1, n2, n3, dark)]


def _run_penalty(lines: np.ndarray) -> np.ndarray:
    """N1: a run of r >= 5 equal modules scores r - 2 = (number of 5-windows in it) + 2."""
    same = lines[..., 1:] == lines[..., :-1]
    windows = same[..., :-3] & same[..., 1:-2] & same[..., 2:-1] & same[..., 3:]  # 5 equal from k
    run_starts = windows.copy()
    run_starts[..., 1:] &= ~same[..., :-4]  # the window starts a run: module k differs from k - 1
    return windows.sum(axis=(1, 2)) + 2 * run_starts.sum(axis=(1, 2))


def _finder_like_patterns(lines: np.ndarray) -> np.ndarray:
    """N3: where segno's left-to-right scan counts a 1011101 pattern (bool, per start position)."""
    size = lines.shape[-1]
    starts = size - len(_N3_PATTERN) + 1
    light = ~lines
    found = lines[..., :starts].copy()
    for offset, bit in enumerate(_N3_PATTERN[1:], start=1):
        found &= (lines if bit else light)[..., offset:offset + starts]
    # Light before or after, outside the symbol counting as light: pad with light modules.
    padded = np.zeros(lines.shape[:-1] + (size + 2 * _LIGHT_RUN,), dtype=bool)
    padded[..., _LIGHT_RUN:-_LIGHT_RUN] = lines
    dark_in_window = padded[..., :-3] | padded[..., 1:-2] | padded[..., 2:-1] | padded[..., 3:]
    light_before = ~dark_in_window[..., :starts]  # modules p-4 .. p-1
    after = _LIGHT_RUN + len(_N3_PATTERN)
    light_after = ~dark_in_window[..., after:after + starts]  # modules p+7 .. p+10
    qualifies = found & (light_before | light_after)
    # A counted pattern at p hides overlapping ones at p+4 and p+6 (the scan resumes at p+7).
    # Each position depends only on earlier ones, so iterating to the fixed point gives the scan.
    counted = qualifies
    while True:
        hidden = np.zeros_like(counted)
        hidden[..., 4:] |= counted[..., :-4]
        hidden[..., 6:] |= counted[..., :-6]
        following = qualifies & ~hidden
        if np.array_equal(following, counted):
            return counted
        counted = following


def _proportion_penalty(dark: int, size: int) -> int:
    """N4, with segno's exact floating-point steps."""
    percent = float(dark) / (size ** 2)
    return 10 * int(abs(percent * 100 - 50) / 5)
