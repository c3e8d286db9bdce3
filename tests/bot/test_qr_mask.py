"""bot.qr_mask chooses exactly segno's automatic mask, so the card is the symbol segno would make.

segno's automatic choice costs ~13 ms a URL, too slow for 10,000 URLs in a test run: its choices for
the 10,000 seeded URLs below are stored in data/segno_auto_masks.txt, written by
``python -m tests.bot.test_qr_mask`` (segno's own automatic encode, ~3 minutes). A sample of them and
all the PNG comparisons are recomputed live with segno on every run, so the file cannot silently rot.
"""
from __future__ import annotations

import base64
import hashlib
import io
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import segno
from segno import encoder

from bot import card_image as qr_card
from bot.qr_mask import _message_layout, best_mask, penalty_scores
from rules.model import Colour

CASES = 10_000
SEED = 20240501
REFERENCE = Path(__file__).parent / "data" / "segno_auto_masks.txt"


def credential_like_urls(count: int = CASES, seed: int = SEED) -> list[str]:
    """URLs shaped like our verification links: today's base64url (byte mode) and the compact
    upper-case base32 form (alphanumeric mode), 180-260 characters, and one in 50 short."""
    rng = random.Random(seed)
    urls = []
    for index in range(count):
        short = index % 50 == 0
        length = rng.randint(12, 80) if short else rng.randint(180, 260)
        if index % 2:
            prefix = "HTTPS://HC.EXAMPLE.CN/V/"
            token = base64.b32encode(rng.randbytes(length)).decode().rstrip("=")
        else:
            prefix = "https://hc.example.cn/v/"
            token = base64.urlsafe_b64encode(rng.randbytes(length)).decode().rstrip("=")
        urls.append(prefix + token[: max(1, length - len(prefix))])
    return urls


def _segno_automatic(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=qr_card.ERROR_LEVEL, boost_error=False)


def _reference() -> tuple[str, list[int]]:
    digest, masks = REFERENCE.read_text().split()
    return digest, [int(mask) for mask in masks]


def _digest(urls: list[str]) -> str:
    return hashlib.sha256("\n".join(urls).encode()).hexdigest()


@pytest.fixture(scope="module")
def urls() -> list[str]:
    return credential_like_urls()


def test_the_reference_matches_the_urls_and_segno_today(urls: list[str]) -> None:
    digest, masks = _reference()
    assert digest == _digest(urls), "URL generator changed: regenerate with python -m tests.bot.test_qr_mask"
    assert len(masks) == CASES
    for index in random.Random(1).sample(range(CASES), 25):
        assert _segno_automatic(urls[index]).mask == masks[index], urls[index]


@pytest.mark.slow  # 10,000 URLs, ~20 s on an idle core
def test_best_mask_equals_segnos_automatic_choice_for_10000_urls(urls: list[str]) -> None:
    _, masks = _reference()
    versions = {segno.make_qr(url, error="m", boost_error=False, mask=0).version for url in urls[::500]}
    assert len(versions) > 1  # the URLs do span several symbol versions
    mismatches = [(url, mask) for url, mask in zip(urls, masks) if best_mask(url) != mask]
    assert mismatches == []


def test_card_png_equals_the_card_from_segnos_automatic_symbol(urls: list[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Same PNG bytes as when segno chooses the mask itself, on a sample across lengths and modes."""
    sample = urls[::50]  # 200 URLs: both URL forms, the short ones included
    ours = [qr_card.render_card(url, Colour.GREEN) for url in sample]
    monkeypatch.setattr(qr_card, "_make_qr", _segno_automatic)
    theirs = [qr_card.render_card(url, Colour.GREEN) for url in sample]
    assert ours == theirs


def test_the_card_does_not_pay_for_segnos_mask_scoring(urls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def scored(*_args: object) -> int:
        raise AssertionError("segno scored the masks itself")

    monkeypatch.setattr(encoder, "evaluate_mask", scored)
    assert qr_card.render_card(urls[1], Colour.RED).startswith(b"\x89PNG")


def test_same_url_and_colour_give_the_same_png_in_every_colour(urls: list[str]) -> None:
    for url in urls[:30]:
        for colour in Colour:
            qr_card._frame.cache_clear()  # the pre-rendered frame must not change the bytes either
            first = qr_card.render_card(url, colour)
            assert qr_card.render_card(url, colour) == first


@pytest.mark.parametrize("version", range(1, 41))
def test_error_correction_and_interleaving_equal_segnos(version: int) -> None:
    rng = random.Random(version)
    for error in (encoder.consts.ERROR_LEVEL_L, encoder.consts.ERROR_LEVEL_M,
                  encoder.consts.ERROR_LEVEL_Q, encoder.consts.ERROR_LEVEL_H):
        data_bits = [rng.getrandbits(1) for _ in range(encoder.consts.SYMBOL_CAPACITY[version][error])]
        theirs = np.frombuffer(encoder.make_final_message(version, error, encoder.Buffer(data_bits)).getbits(),
                               dtype=np.uint8)
        ours = np.unpackbits(_message_layout(version, error).final_message(np.packbits(data_bits)))
        assert ours.tolist() == theirs[:len(ours)].tolist()
        assert not theirs[len(ours):].any()  # segno's remainder bits: zeros, which the matrix already has


# The scores themselves, on matrices that hit the rules' edge cases, against segno.encoder.mask_scores.

def _segno_scores(matrix: np.ndarray) -> tuple[int, int, int, int]:
    size = matrix.shape[0]
    return tuple(encoder.mask_scores(tuple(bytearray(row) for row in matrix.tolist()), size, size))


@pytest.mark.parametrize("seed", range(200))
def test_penalty_scores_equal_segnos_on_random_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.choice([21, 25, 45, 53, 61, 77]))
    matrix = (rng.random((size, size)) < rng.uniform(0.2, 0.8)).astype(np.uint8)
    assert penalty_scores(matrix[np.newaxis])[0] == _segno_scores(matrix)


LINES = [
    "1011101",                              # the pattern alone: both sides are outside, so light
    "00001011101",                          # light before
    "10111010000",                          # light after
    "1000101110100001",                     # three light modules on each side: no score
    "0000101110111010000",                  # overlap at +4 after a scoring pattern: skipped
    "00001011101011101",                    # overlap at +6 after a scoring pattern: skipped
    "1111101110111010000",                  # non-scoring pattern, then one at +4 that scores
    "000010111011101110111010000",          # a chain of overlaps
    "1011101110111011101110111011101",      # a long chain with the symbol's edges as light
    "0000101110100001011101",               # two separate patterns
]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("as_column", [False, True])
def test_finder_like_pattern_scan_equals_segnos(line: str, as_column: bool) -> None:
    size = 41
    rng = np.random.default_rng(len(line))
    matrix = (rng.random((size, size)) < 0.5).astype(np.uint8)
    bits = [int(bit) for bit in line]
    for row in (0, 7, size - 1):
        for start in (0, 3, size - len(bits)):
            placed = matrix.copy()
            placed[row, start:start + len(bits)] = bits
            if as_column:
                placed = placed.T.copy()
            assert penalty_scores(placed[np.newaxis])[0] == _segno_scores(placed)


def _regenerate() -> None:
    urls = credential_like_urls()
    masks = []
    for index, url in enumerate(urls):
        masks.append(str(_segno_automatic(url).mask))
        if index % 1000 == 999:
            print(f"{index + 1} / {len(urls)}", file=sys.stderr)
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(f"{_digest(urls)}\n{''.join(masks)}\n")


if __name__ == "__main__":
    _regenerate()
