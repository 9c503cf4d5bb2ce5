"""Text as a spreadsheet cell, safely: every export writer (console CSV/XLSX, the CLI's
and the diagnosis tables) passes its values through :func:`spreadsheet_cell`.

Merchant text reaches these files (a category, an extra column). Excel and LibreOffice run a
cell that starts with ``= + - @`` (or a tab/CR before one) as a formula, so such text is
prefixed with a single quote (the OWASP CSV-injection rule) and stays text. Control
characters (which XLSX cannot hold: openpyxl raises, the export would fail for everyone) are
shown escaped, ``\\x01``, so stored legacy data never breaks an export."""

from __future__ import annotations

import re

# C0 controls except tab, LF and CR, and DEL: no form field or fact needs one.
CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
PLAIN = rf"^[^{CONTROL}]*$"  # a pydantic pattern: text without control characters
_CONTROL_RE = re.compile(f"[{CONTROL}]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Text that :func:`spreadsheet_text` changes (for a vectorised look before a per-cell pass).
UNSAFE_TEXT = rf"(^[=+\-@\t\r])|[{CONTROL}]"


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def spreadsheet_text(text: str) -> str:
    """``text`` that a spreadsheet shows as written and never runs as a formula."""
    text = _CONTROL_RE.sub(_escape, text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def spreadsheet_cell(value: object) -> object:
    """A cell value: text made safe (above); numbers, booleans, None unchanged."""
    return spreadsheet_text(value) if isinstance(value, str) else value


# The one vocabulary of boolean cells (docs/formats.md), any letter case, never trimmed: the
# facts reader (facts.convert, facts.sql, vectorised), the service's rows (model.rows), the
# rulebook's JSON orders and the diagnosis all read a flag with these words and nothing else.
TRUE_WORDS = ("true", "1", "yes", "t", "y")
FALSE_WORDS = ("false", "0", "no", "f", "n")


def read_flag(value: object, field: str = "") -> bool | None:
    """A boolean cell, strictly: a bool as it is, empty (None or "") as None, a word of
    TRUE_WORDS/FALSE_WORDS as True/False; anything else is refused naming ``field``."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value)
    if text == "":
        return None
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    where = f"{field}: " if field else ""
    raise ValueError(
        f"{where}not a boolean ({'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}): {value!r}"
    )


def cell_is_true(value: object) -> bool:
    """One boolean cell read leniently, as the facts reader reads a value it keeps: a word it
    would refuse reads as False (the service and batch must not disagree on ``festival_open=t``)."""
    if isinstance(value, bool):
        return value
    return value is not None and str(value).lower() in TRUE_WORDS
