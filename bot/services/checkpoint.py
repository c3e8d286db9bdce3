"""Verify by photo: a checkpoint sends the bot a picture of someone's QR code and gets the verdict.

Telegram recompresses photos, so a file (an uncompressed document) reads more reliably; both work.
The picture is size-capped before download and pixel-capped before decoding, and decoded off the
event loop.  No QR code, or more than one, gets its own answer instead of a guess.
"""
from __future__ import annotations

import asyncio
import io

import zxingcpp
from PIL import Image, UnidentifiedImageError

from bot.replies import Text, t
from bot.services.context import Turn
from bot.services.feature import Command, Content, Feature, FileSource
from bot.services.verification import VerificationUnavailable, describe, verify

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # e.g. 8000 x 5000: any phone photo, not a decompression bomb


class NotAnImage(Exception):
    """The bytes are not a picture Pillow can open."""


class ImageTooBig(Exception):
    """The picture has more pixels than we are willing to decode."""


def read_qr_codes(content: bytes) -> list[str]:
    """The text of every QR code in the picture (PNG, JPEG, …); blocking, so call it in a thread."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageTooBig(f"{image.width}x{image.height} pixels, more than {MAX_IMAGE_PIXELS}")
            grey = image.convert("L")  # decodes the pixels; colour QR modules stay darker than white
    except Image.DecompressionBombError as error:
        raise ImageTooBig(str(error)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise NotAnImage(f"{type(error).__name__}") from None
    return [result.text for result in zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)]


async def on_picture(turn: Turn, kind: str, source: FileSource) -> bool:
    if turn.state is not None:
        return False  # mid-flow, a picture is not a checkpoint scan; the dispatcher says what it expects
    content = await source.read(MAX_IMAGE_BYTES)
    if content is None:
        turn.reply.say(t("verify.too_large", max_mb=MAX_IMAGE_BYTES // (1024 * 1024)))
        return True
    try:
        codes = await asyncio.to_thread(read_qr_codes, content)
    except NotAnImage:
        turn.reply.say(t("verify.not_image"))
        return True
    except ImageTooBig:
        turn.reply.say(t("verify.image_too_big"))
        return True
    if not codes:
        turn.reply.say(t("verify.no_qr"))
    elif len(codes) > 1:
        turn.reply.say(t("verify.many_qr", count=len(codes)))
    else:
        await answer(turn, codes[0])
    return True


async def on_verify_command(turn: Turn, args: list[str]) -> None:
    if not args:
        turn.reply.say(t("verify.usage"))
        return
    await answer(turn, " ".join(args))


async def answer(turn: Turn, text: str) -> None:
    try:
        view = await verify(turn.services, text, channel="bot", uow=turn.uow)
    except VerificationUnavailable:
        turn.reply.say(t("verify.unavailable"))
        return
    turn.reply.say(*describe(view, language=turn.language, tz=turn.services.tz))


async def _help(turn: Turn) -> Text | None:
    return t("verify.help")


FEATURE = Feature(
    name="checkpoint",
    commands=(Command("verify", on_verify_command),),
    content=(Content("photo", on_picture), Content("document", on_picture)),
    help=_help,
)
