"""Verify by photo: a checkpoint sends the bot a picture of someone's QR code and gets the verdict.

Telegram recompresses photos, so a file (an uncompressed document) reads more reliably; both work.
Anyone can send a picture, so it is size-capped before download, pixel- and side-capped before
decoding, and decoded in a small worker pool *before* the update's unit of work opens: a slow decode
never holds a transaction (on SQLite, the one writer slot) nor blocks the event loop. Every way a
decode can fail has its own answer; no QR code, or more than one, gets its own answer instead of a guess.
"""
from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor

import zxingcpp
from PIL import Image, UnidentifiedImageError

from bot.replies import Text, t
from bot.services import checkpoint_readings, checkpoint_staff
from bot.services.context import Turn
from bot.services.feature import Command, Content, Feature, FileSource, Picture
from bot.services.verification import VerificationUnavailable, describe, verify

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # e.g. 8000 x 5000: any phone photo, not a decompression bomb
MAX_IMAGE_SIDE = 65_535  # zxing-cpp refuses wider or taller images
# Two decodes at a time, whatever the number of senders: each can take ~160 MB and most of a core.
_DECODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qr-decode")


class UnreadablePicture(Exception):
    """Base of every reason a picture could not be decoded; ``answer`` says it to the sender."""

    def answer(self) -> Text:
        return t("verify.unreadable")


class NotAnImage(UnreadablePicture):
    """The bytes are not a picture Pillow can open."""

    def answer(self) -> Text:
        return t("verify.not_image")


class ImageTooBig(UnreadablePicture):
    """The picture has more pixels than we are willing to decode."""

    def answer(self) -> Text:
        return t("verify.image_too_big")


class ImageOutOfShape(ImageTooBig):
    """A side longer than the QR decoder accepts (e.g. 40,000,000 × 1)."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height} pixels, a side longer than {MAX_IMAGE_SIDE}")
        self.width, self.height = width, height

    def answer(self) -> Text:
        return t("verify.image_out_of_shape", width=self.width, height=self.height, max=MAX_IMAGE_SIDE)


class ImageDamaged(NotAnImage):
    """A known format whose data is truncated or corrupt."""

    def answer(self) -> Text:
        return t("verify.image_damaged")


class DecoderFailed(NotAnImage):
    """The QR decoder itself gave up with an error."""

    def answer(self) -> Text:
        return t("verify.unreadable")


def read_qr_codes(content: bytes) -> list[str]:
    """The text of every QR code in the picture (PNG, JPEG, …); blocking, so call it off the event loop.

    Raises an ``UnreadablePicture`` (never anything else a decoder throws) when it cannot be read.
    """
    grey = _grey_pixels(content)
    try:
        results = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    except Exception as error:  # noqa: BLE001 - a native decoder's errors are not a documented set
        raise DecoderFailed(type(error).__name__) from None
    return [result.text for result in results]


def _grey_pixels(content: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(content))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:  # the warning, if made an error
        raise ImageTooBig(str(error)) from None
    except UnidentifiedImageError:
        raise NotAnImage("UnidentifiedImageError") from None
    except Exception as error:  # noqa: BLE001 - a recognised format with a broken header
        raise ImageDamaged(type(error).__name__) from None
    with image:
        if image.width > MAX_IMAGE_SIDE or image.height > MAX_IMAGE_SIDE:
            raise ImageOutOfShape(image.width, image.height)
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ImageTooBig(f"{image.width}x{image.height} pixels, more than {MAX_IMAGE_PIXELS}")
        try:
            return image.convert("L")  # decodes the pixels; colour QR modules stay darker than white
        except Image.DecompressionBombError as error:
            raise ImageTooBig(str(error)) from None
        except MemoryError:
            raise ImageTooBig("out of memory while decoding") from None
        except Exception as error:  # noqa: BLE001 - truncated data, bad chunks, decoder errors of any plugin
            raise ImageDamaged(type(error).__name__) from None


def scan(content: bytes) -> Picture:
    """Decode, never raising: the picture with its QR codes, or with the answer saying why not."""
    try:
        return Picture(content, tuple(read_qr_codes(content)))
    except UnreadablePicture as error:
        log.info("picture unreadable: %s", type(error).__name__)  # the kind only: never the content
        return Picture(content, problem=error.answer())


async def receive(source: FileSource) -> Picture:
    """Download (size-capped) and decode in the worker pool; call it before opening a unit of work."""
    file_id = getattr(source, "file_id", None)  # Telegram's files have one; the picture keeps it
    content = await source.read(MAX_IMAGE_BYTES)
    if content is None:
        return Picture(None, problem=t("verify.too_large", max_mb=MAX_IMAGE_BYTES // (1024 * 1024)), file_id=file_id)
    picture = await asyncio.get_running_loop().run_in_executor(_DECODERS, scan, content)
    return replace(picture, file_id=file_id)


async def on_picture(turn: Turn, kind: str, picture: Picture) -> bool:
    if turn.state is not None and turn.state.flow == checkpoint_readings.READING_FLOW:
        await turn.clear_state()  # staff scanning the next person instead of typing a temperature
    if turn.state is not None:
        return False  # mid-flow, a picture is not a checkpoint scan; the dispatcher says what it expects
    if picture.problem is not None:
        turn.reply.say(picture.problem)
    elif not picture.codes:
        turn.reply.say(t("verify.no_qr"))
    elif len(picture.codes) > 1:
        turn.reply.say(t("verify.many_qr", count=len(picture.codes)))
    else:
        await answer(turn, picture.codes[0])
    return True


async def on_verify_command(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.reply.say(t("verify.usage"))
        return
    await answer(turn, " ".join(args))


async def answer(turn: Turn, text: str, *, channel: str = "bot") -> checkpoint_readings.Scanned | None:
    """The verdict on a scanned or typed code, as the chat and the Mini App's scanner show it.

    When checkpoint staff scanned a valid code of ours, the scan is stored (in the holder's access log)
    and returned: its random reference is what a temperature reading quotes, in any channel."""
    try:
        view = await verify(turn.services, text, channel=channel, uow=turn.uow)
    except VerificationUnavailable:
        turn.reply.say(t("verify.unavailable"))
        return None
    scanned = await checkpoint_readings.record_scan(turn.uow, turn.actor.telegram_id, view, turn.now)
    buttons = checkpoint_readings.reading_buttons(scanned)  # staff only: record a temperature
    turn.reply.say(*describe(view, language=turn.language, tz=turn.services.tz), buttons=buttons)
    return scanned


async def _help(turn: Turn) -> Text | None:
    if await turn.uow.checkpoints.appointed_at(turn.actor.telegram_id):
        return t("verify.help_staff")
    return t("verify.help")


FEATURE = Feature(
    name="checkpoint",
    commands=(Command("verify", on_verify_command), *checkpoint_staff.COMMANDS),
    presses=checkpoint_staff.PRESSES + checkpoint_readings.PRESSES,
    flows=(checkpoint_readings.FLOW,),
    content=(Content("photo", on_picture), Content("document", on_picture)),
    deep_links=checkpoint_staff.DEEP_LINKS,
    help=_help,
)
