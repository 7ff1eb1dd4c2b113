"""Privacy rules for free text: what is masked before anything is stored.

Customers type comments on shared kiosks; some type their e-mail address or phone number
("call me back"). Those never reach the database. The patterns are applied in SQL at ingest
(``feedback.ingest_sql``) and by ``redact`` wherever Python handles text; both use these patterns.
"""

from __future__ import annotations

import re

# RE2 syntax (DuckDB) that Python's re reads the same way.
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
IBAN_PATTERN = r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b"
PHONE_PATTERN = r"(?:\+|\b0)[0-9][0-9 /()\-]{5,}[0-9]"

RULES: tuple[tuple[str, str], ...] = (
    (EMAIL_PATTERN, "[email]"),
    (IBAN_PATTERN, "[iban]"),
    (PHONE_PATTERN, "[phone]"),
)

_COMPILED = tuple((re.compile(p), r) for p, r in RULES)


def redact(text: str | None) -> str | None:
    """Mask e-mail addresses, IBANs and phone numbers in ``text``."""
    if text is None:
        return None
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text


def redact_sql(column: str) -> str:
    """The same masking as a DuckDB expression over ``column`` (patterns are constants)."""
    expr = column
    for pattern, replacement in RULES:
        expr = f"regexp_replace({expr}, '{pattern}', '{replacement}', 'g')"
    return expr
