"""Context that places an address whose district name alone is ambiguous (五个鼓楼区):
a postcode's first two digits name the province; a landline area code names the city.

The postcode table is the China Post province prefixes (complete). The area-code table is
partial, ours: the provincial capitals and the cities that share a common district name
(鼓楼区, 南山区, 朝阳区 …); an area code not in it narrows nothing (never a guess)."""

from __future__ import annotations

import re

_POSTCODE_PROVINCE = {  # first two digits → province code (China Post 邮政编码 zones)
    "01": "15", "02": "15", "03": "14", "04": "14", "05": "13", "06": "13", "07": "13",
    "10": "11", "11": "21", "12": "21", "13": "22", "15": "23", "16": "23",
    "20": "31", "21": "32", "22": "32", "23": "34", "24": "34", "25": "37", "26": "37",
    "27": "37", "30": "12", "31": "33", "32": "33", "33": "36", "34": "36", "35": "35",
    "36": "35", "40": "50", "41": "43", "42": "43", "43": "42", "44": "42", "45": "41",
    "46": "41", "47": "41", "51": "44", "52": "44", "53": "45", "54": "45", "55": "52",
    "56": "52", "57": "46", "61": "51", "62": "51", "63": "51", "64": "51", "65": "53",
    "66": "53", "67": "53", "71": "61", "72": "61", "73": "62", "74": "62", "75": "64",
    "81": "63", "83": "65", "84": "65", "85": "54", "86": "54",
}  # fmt: skip

_AREA_CODE_CITY = {  # landline area code (区号) → city code
    "010": "110100", "021": "310100", "022": "120100", "023": "500100", "020": "440100",
    "024": "210100", "025": "320100", "027": "420100", "028": "510100", "029": "610100",
    "0755": "440300", "0756": "440400", "0757": "440600", "0769": "441900", "0760": "442000",
    "0571": "330100", "0574": "330200", "0577": "330300", "0591": "350100", "0592": "350200",
    "0516": "320300", "0512": "320500", "0510": "320200", "0531": "370100", "0532": "370200",
    "0371": "410100", "0378": "410200", "0379": "410300", "0311": "130100", "0351": "140100",
    "0471": "150100", "0431": "220100", "0451": "230100", "0468": "230400", "0411": "210200",
    "0421": "211300", "0551": "340100", "0791": "360100", "0731": "430100", "0771": "450100",
    "0898": "460100", "0851": "520100", "0871": "530100", "0891": "540100", "0931": "620100",
    "0971": "630100", "0951": "640100", "0991": "650100",
}  # fmt: skip

_POSTCODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{7,8}(?!\d)")


def postcode_province(text: str | None) -> str | None:
    """The 2-digit province prefix a postcode (alone or inside an address) names, or None."""
    found = _POSTCODE.search(text or "")
    return _POSTCODE_PROVINCE.get(found.group(1)[:2]) if found else None


def area_code_city(text: str | None) -> str | None:
    """The city code a landline (0755-12345678, or a bare 0755) names, or None."""
    text = (text or "").strip()
    found = _LANDLINE.search(text)
    code = found.group(1) if found else text
    for length in (3, 4):  # 010 … 029 are three digits, the rest four
        if code[:length] in _AREA_CODE_CITY and (found or len(code) == length):
            return _AREA_CODE_CITY[code[:length]]
    return None
