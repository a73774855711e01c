"""Municipality names in English, read from the registry's kana in (modified) Hepburn romaji,
the way Japanese addresses are written in English: ``Chiyoda-ku, Tokyo``, ``Chuo-ku, Sapporo,
Hokkaido``, ``Tobetsu-cho, Hokkaido``.

The registry keeps a municipality's kana as one word (サッポロシチュウオウク), so the ward of a
designated city is split off with the city's own reading, from the table below (the 20
designated cities). Long vowels are written without macrons (Tokyo, Chuo), as the postal
romaji does. The county (郡) is left out, as English addresses do.
"""

from __future__ import annotations

from typing import Final

__all__ = ["hepburn", "municipality_en", "prefecture_en"]

_DIGRAPHS: Final = {
    "キャ": "kya", "キュ": "kyu", "キョ": "kyo", "シャ": "sha", "シュ": "shu", "ショ": "sho",
    "チャ": "cha", "チュ": "chu", "チョ": "cho", "ニャ": "nya", "ニュ": "nyu", "ニョ": "nyo",
    "ヒャ": "hya", "ヒュ": "hyu", "ヒョ": "hyo", "ミャ": "mya", "ミュ": "myu", "ミョ": "myo",
    "リャ": "rya", "リュ": "ryu", "リョ": "ryo", "ギャ": "gya", "ギュ": "gyu", "ギョ": "gyo",
    "ジャ": "ja", "ジュ": "ju", "ジョ": "jo", "ビャ": "bya", "ビュ": "byu", "ビョ": "byo",
    "ピャ": "pya", "ピュ": "pyu", "ピョ": "pyo", "ヂャ": "ja", "ヂュ": "ju", "ヂョ": "jo",
}  # fmt: skip
_MONOGRAPHS: Final = dict(
    zip(
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲ"
        "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヰヱヴ",
        [
            "a",
            "i",
            "u",
            "e",
            "o",
            "ka",
            "ki",
            "ku",
            "ke",
            "ko",
            "sa",
            "shi",
            "su",
            "se",
            "so",
            "ta",
            "chi",
            "tsu",
            "te",
            "to",
            "na",
            "ni",
            "nu",
            "ne",
            "no",
            "ha",
            "hi",
            "fu",
            "he",
            "ho",
            "ma",
            "mi",
            "mu",
            "me",
            "mo",
            "ya",
            "yu",
            "yo",
            "ra",
            "ri",
            "ru",
            "re",
            "ro",
            "wa",
            "o",
            "ga",
            "gi",
            "gu",
            "ge",
            "go",
            "za",
            "ji",
            "zu",
            "ze",
            "zo",
            "da",
            "ji",
            "zu",
            "de",
            "do",
            "ba",
            "bi",
            "bu",
            "be",
            "bo",
            "pa",
            "pi",
            "pu",
            "pe",
            "po",
            "i",
            "e",
            "vu",
        ],
        strict=True,
    )
)
_SMALL: Final = dict(zip("ァィゥェォ", "aiueo", strict=True))

# The designated cities (政令指定都市) whose wards are municipalities of the registry.
_DESIGNATED: Final = {
    "札幌市": "サッポロシ", "仙台市": "センダイシ", "さいたま市": "サイタマシ",
    "千葉市": "チバシ", "横浜市": "ヨコハマシ", "川崎市": "カワサキシ",
    "相模原市": "サガミハラシ", "新潟市": "ニイガタシ", "静岡市": "シズオカシ",
    "浜松市": "ハママツシ", "名古屋市": "ナゴヤシ", "京都市": "キョウトシ",
    "大阪市": "オオサカシ", "堺市": "サカイシ", "神戸市": "コウベシ", "岡山市": "オカヤマシ",
    "広島市": "ヒロシマシ", "北九州市": "キタキュウシュウシ", "福岡市": "フクオカシ",
    "熊本市": "クマモトシ",
}  # fmt: skip

# A municipality's kind from the end of its kana: 区 -ku, 市 -shi, 町 -machi or -cho, 村 -mura
# or -son (the kana says which reading the municipality uses).
_SUFFIXES: Final = (("チョウ", "cho"), ("マチ", "machi"), ("ムラ", "mura"), ("ソン", "son"))
_SUFFIX_OF_KANJI: Final = {"区": ("ク", "ku"), "市": ("シ", "shi")}


def _to_katakana(text: str) -> str:
    # Hiragana (ぁ..ゖ) share the katakana's order, 0x60 code points lower.
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def hepburn(kana: str) -> str:
    """Kana in Hepburn romaji, lower case, long vowels without macrons: チュウオウ → chuo."""
    text = _to_katakana(kana)
    out: list[str] = []
    double = False
    i = 0
    while i < len(text):
        pair, char = text[i : i + 2], text[i]
        if pair in _DIGRAPHS:
            syllable, i = _DIGRAPHS[pair], i + 2
        elif char == "ッ":
            double, i = True, i + 1
            continue
        elif char == "ン":
            syllable, i = "n", i + 1
        elif char == "ー":
            i += 1
            continue
        elif char in _MONOGRAPHS:
            syllable, i = _MONOGRAPHS[char], i + 1
        elif char in _SMALL and out:
            out[-1] = out[-1][:-1] + _SMALL[char]
            i += 1
            continue
        else:
            syllable, i = char, i + 1
        if double and syllable[0] not in "aiueon":
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
        double = False
        out.append(syllable)
    word = "".join(out)
    for long, short in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        word = word.replace(long, short)
    return word


def _title(word: str) -> str:
    return word[:1].upper() + word[1:]


def prefecture_en(name: str, kana: str) -> str:
    """A prefecture in English: 東京都 → Tokyo, 大阪府 → Osaka, 愛知県 → Aichi, 北海道 →
    Hokkaido."""
    kana = _to_katakana(kana)
    for kanji, suffix in (("都", "ト"), ("府", "フ"), ("県", "ケン")):
        if name.endswith(kanji) and kana.endswith(suffix):
            kana = kana[: -len(suffix)]
            break
    return _title(hepburn(kana))


def _with_suffix(name: str, kana: str) -> str:
    kana = _to_katakana(kana)
    kind = _SUFFIX_OF_KANJI.get(name[-1:])
    if kind is not None and kana.endswith(kind[0]):
        return f"{_title(hepburn(kana[: -len(kind[0])]))}-{kind[1]}"
    for suffix, roman in _SUFFIXES:
        if name[-1:] in "町村" and kana.endswith(suffix):
            return f"{_title(hepburn(kana[: -len(suffix)]))}-{roman}"
    return _title(hepburn(kana))


def municipality_en(name: str, kana: str, pref_name: str, pref_kana: str) -> str:
    """A municipality with its prefecture in English (``Chuo-ku, Sapporo, Hokkaido``)."""
    prefecture = prefecture_en(pref_name, pref_kana)
    kana = _to_katakana(kana)
    for city, city_kana in _DESIGNATED.items():
        if name.startswith(city) and name != city and kana.startswith(city_kana):
            ward = _with_suffix(name[len(city) :], kana[len(city_kana) :])
            return f"{ward}, {_title(hepburn(city_kana[:-1]))}, {prefecture}"
    if prefecture == "Tokyo" and name.endswith("区"):
        return f"{_with_suffix(name, kana)}, Tokyo"
    return f"{_with_suffix(name, kana)}, {prefecture}"
