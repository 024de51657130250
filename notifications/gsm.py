"""SMS text: GSM-7 normalisation and segment counting.

An SMS in the GSM 03.38 alphabet holds 160 characters (153 per part when split); one character
outside it turns the whole message into UCS-2: 70 characters (67 per part). Normalising typographic
quotes, dashes and accents that GSM lacks keeps a Dutch text in one cheap segment.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"  # two septets each (escape + character)
_GSM = frozenset(GSM_BASIC) | frozenset(GSM_EXTENDED)

_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u00b4": "'",
    "`": "'",
    "\u2022": "-",
}


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def to_gsm7(text: str) -> str:
    """Replace characters GSM-7 lacks with their nearest GSM equivalent where one exists
    (``ë`` → ``e``, ``’`` → ``'``); characters with no equivalent are kept (the message then
    goes as UCS-2)."""
    out: list[str] = []
    for char in text:
        if char in _GSM:
            out.append(char)
            continue
        replacement = _REPLACEMENTS.get(char)
        if replacement is None:
            stripped = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            replacement = stripped if stripped and all(c in _GSM for c in stripped) else char
        out.append(replacement)
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(char in _GSM for char in text)


def measure(text: str) -> SmsSize:
    if is_gsm7(text):
        units = sum(2 if char in GSM_EXTENDED else 1 for char in text)
        single, part = 160, 153
        encoding = "gsm7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "ucs2"
    segments = 1 if units <= single else math.ceil(units / part)
    return SmsSize(encoding=encoding, units=units, segments=segments)
