from io import BytesIO
import zxingcpp
from PIL import Image

async def test_smoke(site, citizen):
    h = site.harness
    await h.register(citizen)
    card = (await h.declare(citizen))[-1]
    url = zxingcpp.read_barcodes(Image.open(BytesIO(card.photo)))[0].text
    token = url.rsplit("/", 1)[1]
    status, body, headers = await site.get("/v/" + token)
    print(status, body)
    print(await site.get_json("/api/v1/verify?c=" + token))
    print(await site.get_json("/api/v1/verify?c=abc"))
    print(await site.get_json("/healthz"))
    print(await site.get_json("/.well-known/healthcode/trust-list.json"))
    print(await site.get_json("/.well-known/healthcode/revoked.json"))
    yellow = (await h.declare(citizen, temperature="37.9"))[-1]
    print(await site.get_json("/api/v1/verify?c=" + token))
    print(await site.get_json("/.well-known/healthcode/revoked.json"))
    s, text, _ = await site.get("/metrics")
    print(text)
    msgs = await h.chat.send_photo(citizen, card.photo)
    print([m.body for m in msgs])
