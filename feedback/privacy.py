"""Privacy rules for free text: what is masked before anything is stored.

Customers type comments on shared kiosks; some type their e-mail address, phone number or IBAN
("call me back"). Those never reach the spool or the database. The patterns are defined once,
here, and run in two engines that read them the same way: Python's ``re`` (``redact``,
``redact_fields``: ``feedback.sink.SpoolSink``, before the runtime's spool line is written) and
DuckDB's RE2 (``redact_sql``: ingest, for every text-bearing field and rejected raw lines).
``tests/test_privacy.py`` masks a labelled corpus with both and requires the same result.

How the patterns stay the same in both engines:

- RE2 has no look-behind or look-ahead, so what must (not) come before or after a match is
  matched too, in group 1 (before) and, for phones, group 2 (after), and put back by the
  replacement (``\\1[phone]\\2``). Because a phone match may take the character after it, the
  phone rule runs twice: the second pass catches a number whose leading character the first
  pass had taken (``0171 2345678,0151 1234567``).
- Python compiles with ``re.ASCII``: ``\\b`` then means the ASCII word boundary RE2 uses.
  No ``\\s``/``\\w``/``\\d``; non-ASCII letters and spaces are written out in the classes.
- ``props`` is masked as JSON text in SQL (DuckDB re-encodes it: only ``\\"``, ``\\\\``,
  ``\\n``, ``\\t``… and ``\\u00XX`` for control characters stay escaped) and string by string in
  Python. A match never contains a quote or a backslash and never starts right after a lone
  backslash, so the JSON stays valid; an escape such as ``\\n`` counts as the separator it
  stands for (``"Tel:\\n0171 2345678"`` is masked in both). Raw lines of rejected events may
  carry ``\\u00fc``-style escapes from ``json.dumps``: e-mail addresses and the spaces inside a
  phone number absorb them. Known difference, left alone: a literal backslash-u-hex sequence
  typed as text (``\\u00fc`` as six characters) beside an address is masked by Python but
  not inside ``props`` in SQL.

What is not masked, on purpose: dates (``26.11.2026``, ``01.12.2026``, ``2026-11-26``), times,
prices (``129,95 €``), sizes, store ids, UUIDs, timestamps, coordinates and numbers of fewer
than eight digits. A phone number needs a ``+``/``00`` country code or a ``0`` trunk prefix
with an area code of at least three digits written together, and eight digits in all.
"""

from __future__ import annotations

import re
from typing import Any

# --- the patterns (RE2 syntax that Python's re reads the same way) -----------------------------

# A space, no-break space or narrow no-break space (also as json.dumps escapes them).
_SPACE = "(?:[ \u00a0\u202f]|" + r"\\u00[aA]0|\\u202[fF])"  # the characters, not \u
_LATIN = "À-ÖØ-öø-ɏ"  # letters with accents (Latin-1 supplement, Latin Extended-A/B)
_JSON_ESCAPE = r'\\[nrtbf"]'  # in JSON text: a newline, tab, quote … before the match
_UNICODE_ESCAPE = r"\\u[0-9A-Fa-f]{4}"  # in a raw line written by json.dumps: ü as \u00fc
# … one that stands for a character outside ASCII (a letter such as ü may be part of an address)
_NON_ASCII_ESCAPE = (
    r"\\u(?:00[89A-Fa-f][0-9A-Fa-f]|0[1-9A-Fa-f][0-9A-Fa-f]{2}|[1-9A-Fa-f][0-9A-Fa-f]{3})"
)

_EMAIL_CHAR = rf"(?:[A-Za-z0-9{_LATIN}._%+\-]|{_NON_ASCII_ESCAPE})"
_DOMAIN_CHAR = rf"(?:[A-Za-z0-9{_LATIN}.\-]|{_NON_ASCII_ESCAPE})"
EMAIL_PATTERN = (
    rf"(^|[^A-Za-z0-9{_LATIN}._%+\-\\]|{_JSON_ESCAPE}|{_UNICODE_ESCAPE})"
    rf"{_EMAIL_CHAR}+@{_DOMAIN_CHAR}+\.[A-Za-z]{{2,}}"
)

# Two letters, two check digits, then 11-30 letters/digits, in groups of four or not.
IBAN_PATTERN = (
    rf"(^|[^A-Za-z0-9_\\]|{_JSON_ESCAPE}|{_UNICODE_ESCAPE})"
    r"[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b"
)

# One digit, optionally after a separator (space, or . / - with spaces around) and in brackets.
_SEP = rf"(?:{_SPACE}?[./\-]{_SPACE}?|{_SPACE})"
_STEP = rf"(?:{_SEP})?\(?[0-9]\)?"
# 0 + area code (3-6 digits written together, so 01.12.2026 is no phone) + 5 more digits.
_NATIONAL = rf"\(?0[1-9][0-9]{{1,4}}\)?(?:{_STEP}){{5,}}"
# +49 / 0049 / +1 …: country code and at least 7 more digits (+01:00 is an offset, no phone).
_INTERNATIONAL = rf"(?:\+|00)[1-9](?:{_STEP}){{7,}}"
PHONE_PATTERN = (
    # Not inside a word, a number, a UUID or a date (no letter, digit, . - / + before) …
    # (an abbreviation such as "Tel." may come right before: two letters not after a backslash,
    # so that JSON's "\tn." is no abbreviation)
    rf"(^|[^A-Za-z0-9_.\-/+\\]|(?:^|[^\\])[A-Za-z]{{2}}\.|{_JSON_ESCAPE}|{_UNICODE_ESCAPE})"
    rf"(?:{_NATIONAL}|{_INTERNATIONAL})"
    # … and not followed by a letter or digit, directly or after - . / (a UUID's next group).
    r"($|[^A-Za-z0-9_.\-/]|[.\-/](?:$|[^A-Za-z0-9]))"
)

RULES: tuple[tuple[str, str], ...] = (
    (EMAIL_PATTERN, r"\1[email]"),
    (IBAN_PATTERN, r"\1[iban]"),
    (PHONE_PATTERN, r"\1[phone]\2"),
    (PHONE_PATTERN, r"\1[phone]\2"),  # again: see the module docstring
)
ANY_PATTERN = "|".join(f"(?:{p})" for p in (EMAIL_PATTERN, IBAN_PATTERN, PHONE_PATTERN))
"""Matches wherever ``redact`` would change something (the cheap check before masking)."""

MASKS: tuple[str, ...] = ("[email]", "[iban]", "[phone]")

TEXT_FIELDS: tuple[str, ...] = ("screen", "element", "task", "question", "text")
"""Event fields that carry text a person may have typed; ``props`` is walked in depth too."""

_COMPILED = tuple((re.compile(p, re.ASCII), r) for p, r in RULES)
_ANY = re.compile(ANY_PATTERN, re.ASCII)

# --- Python ------------------------------------------------------------------------------------


def has_personal_data(text: str | None) -> bool:
    """Whether ``text`` holds something ``redact`` masks."""
    return bool(text) and _ANY.search(text) is not None


def redact(text: str | None) -> str | None:
    """Mask e-mail addresses, IBANs and phone numbers in ``text``."""
    if not has_personal_data(text):
        return text
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """``redact`` on every string in a JSON-like value, at any depth (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact_fields(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of an event (as a dict) with its text fields and every string in props masked."""
    out = dict(event)
    for name in TEXT_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = redact(out[name])
    if out.get("props"):
        out["props"] = redact_value(out["props"])
    return out


# --- SQL (DuckDB) ------------------------------------------------------------------------------


def _quoted(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


def redact_sql(column: str) -> str:
    """The same masking as a DuckDB expression over the VARCHAR expression ``column``."""
    expr = column
    for pattern, replacement in RULES:
        expr = f"regexp_replace({expr}, {_quoted(pattern)}, {_quoted(replacement)}, 'g')"
    return expr


def matches_sql(*columns: str) -> str:
    """A DuckDB condition: one of the VARCHAR expressions holds something ``redact_sql`` masks.

    Several are checked with one match over them joined by newlines (every pattern treats a
    newline like the start or end of the text; NULLs are skipped): the cost of a regex on short
    values is mostly the call, so one call per row instead of six keeps ingest as fast.
    """
    text = columns[0] if len(columns) == 1 else f"concat_ws(chr(10), {', '.join(columns)})"
    return f"regexp_matches({text}, {_quoted(ANY_PATTERN)})"


def redact_json_sql(column: str) -> str:
    """``redact_sql`` for a JSON object, masked as its (DuckDB-encoded) JSON text.

    A match never takes a quote or a backslash (module docstring), so the text stays JSON;
    should the cast fail all the same, the object is dropped rather than stored unmasked.
    """
    return f"coalesce(TRY_CAST({redact_sql(f'{column}::VARCHAR')} AS JSON), '{{}}'::JSON)"
