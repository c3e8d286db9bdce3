"""The QR status card: it scans back to the exact URL, in every colour, and renders reproducibly."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
import zxingcpp
from PIL import Image, ImageFilter

from bot.credentials.cwt import issue_credential, verify_credential
from bot.credentials.keyring import KeyRing
from bot.card_image import FRAME_COLOURS, FRAME_PIXELS, MODULE_COLOURS, QUIET_ZONE_MODULES, render_card, render_terminal
from bot.credentials.trust import TrustStore
from rules.model import Colour

PUBLIC_URL = "https://hc.example.cn"
ISSUER = "CN-330100"
ISSUED = datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing.generate(tmp_path_factory.mktemp("qr") / "keys", ISSUED - timedelta(days=1))


def _url_for(ring: KeyRing, colour: Colour) -> str:
    issued = issue_credential(ring.current_signer(), issuer=ISSUER, subject="sub_k3J9xQ2mT7vW5pL8nR4c",
                              colour=colour, issued_at=ISSUED, expires_at=ISSUED + timedelta(hours=40))
    return f"{PUBLIC_URL}/v/{issued.token}"


def _scan(image: Image.Image) -> list[str]:
    # RGB, so the scanner sees the real colours rather than palette indices.
    return [result.text for result in zxingcpp.read_barcodes(image.convert("RGB"))
            if result.format == zxingcpp.BarcodeFormat.QRCode]


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize("colour", list(Colour))
def test_card_scans_back_to_the_exact_url_and_the_credential_verifies(ring: KeyRing, colour: Colour) -> None:
    url = _url_for(ring, colour)
    assert _scan(_open(render_card(url, colour))) == [url]

    token = url.removeprefix(f"{PUBLIC_URL}/v/")
    trust = TrustStore()
    trust.add_own(ring, ISSUER, "杭州市")
    result = verify_credential(token, trust, ISSUED + timedelta(hours=1))
    assert (result.valid, result.colour) == (True, colour)


@pytest.mark.parametrize("colour", list(Colour))
def test_card_still_scans_when_small_and_blurred(ring: KeyRing, colour: Colour) -> None:
    url = _url_for(ring, colour)
    image = _open(render_card(url, colour)).convert("RGB")
    degraded = image.resize((240, 240), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1))
    assert _scan(degraded) == [url]


@pytest.mark.parametrize("colour", list(Colour))
def test_card_layout_frame_quiet_zone_and_size(ring: KeyRing, colour: Colour) -> None:
    image = _open(render_card(_url_for(ring, colour), colour)).convert("RGB")
    width, height = image.size
    assert width == height
    assert 600 <= width <= 800
    assert image.getpixel((0, 0)) == FRAME_COLOURS[colour]
    assert image.getpixel((FRAME_PIXELS - 1, width // 2)) == FRAME_COLOURS[colour]
    assert image.getpixel((FRAME_PIXELS, FRAME_PIXELS)) == (255, 255, 255)
    assert image.getpixel((width // 2, FRAME_PIXELS)) == (255, 255, 255)
    # The quiet zone is white all the way to the first finder pattern, which is module-coloured.
    module_pixels = _module_pixels(image)
    finder_corner = FRAME_PIXELS + QUIET_ZONE_MODULES * module_pixels
    assert image.getpixel((finder_corner - 1, finder_corner - 1)) == (255, 255, 255)
    assert image.getpixel((finder_corner, finder_corner)) == MODULE_COLOURS[colour]
    colours_used = {rgb for _, rgb in image.getcolors()}
    assert colours_used == {(255, 255, 255), MODULE_COLOURS[colour], FRAME_COLOURS[colour]}


def _module_pixels(image: Image.Image) -> int:
    """Width of one module, measured along the diagonal from the card's inner edge."""
    position = FRAME_PIXELS
    while image.getpixel((position, position)) == (255, 255, 255):
        position += 1
    quiet_zone_pixels = position - FRAME_PIXELS
    assert quiet_zone_pixels % QUIET_ZONE_MODULES == 0
    return quiet_zone_pixels // QUIET_ZONE_MODULES


def _relative_luminance(rgb: tuple[int, int, int]) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("colour", list(Colour))
def test_module_colour_contrast_with_white_is_at_least_3_to_1(colour: Colour) -> None:
    contrast = 1.05 / (_relative_luminance(MODULE_COLOURS[colour]) + 0.05)
    assert contrast >= 3.0


def test_colours_are_the_status_hues() -> None:
    for colour, (red, green, blue) in FRAME_COLOURS.items():
        dominant = {Colour.GREEN: green > max(red, blue), Colour.RED: red > 2 * max(green, blue),
                    Colour.YELLOW: red > green > 3 * blue}
        assert dominant[colour], colour


def test_rendering_is_deterministic(ring: KeyRing) -> None:
    url = _url_for(ring, Colour.GREEN)
    first = render_card(url, Colour.GREEN)
    assert render_card(url, Colour.GREEN) == first
    assert render_card(url, Colour.RED) != first
    assert render_card(url + "x", Colour.GREEN) != first


def test_terminal_rendering_encodes_the_url() -> None:
    url = "https://hc.example.cn/v/0oRNogEnBEhc7J2jObLsXKBYR6YBaUNOLTMz"
    text = render_terminal(url)
    assert isinstance(text, str)
    lines = text.splitlines()
    assert len(lines) > 10
    # Rebuild the picture from the half-block characters (two module rows per line) and scan it.
    rows: list[list[int]] = []
    halves = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1), " ": (0, 0)}  # 1 = light module
    for line in lines:
        pairs = [halves[char] for char in line]
        rows.append([top for top, _ in pairs])
        rows.append([bottom for _, bottom in pairs])
    image = Image.new("L", (len(rows[0]), len(rows)))
    image.putdata([255 * light for row in rows for light in row])
    assert _scan(image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST)) == [url]


@pytest.mark.parametrize("bad", ["", None])
def test_empty_url_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="url"):
        render_card(bad, Colour.GREEN)  # type: ignore[arg-type]
