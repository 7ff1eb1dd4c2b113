"""Handover codes: one journey continued on another device of the same store.

The sending device (a phone) asks ``issue_code`` for a short code; it shows the code and a QR
code of the receiving device's link (``?journey=CODE``). The receiving device (the kiosk, the
associate tablet) gives the code to ``claim_code`` and gets the ``Handoff``: the journey id,
the task and screen to continue on, the persona, context and language, and the experiment arm
(experiment, variant, version) the journey runs in, so the receiving device shows the same
variant (sticky bucketing, ``runtime.handoff.journey_run``). Both devices talk to
the same prototype server, so the registry is a folder of the lab, ``<lab>/handover/``: one
small JSON file per live code (written to a temporary name and renamed, mode 0600). A claim
renames the file away first, so a code works once, on one device, even when two try at once.

Codes are six digits (a big keypad, read aloud easily): a million codes, of which a store has a
few live at a time, each for ``CODE_TTL_S`` (10 minutes); a device that tries
``MAX_ATTEMPTS`` wrong codes is locked for the session (the runtime counts). Guessing a live
code then has a chance of a few in a million per session. The journey id never leaves the
lab in a link: the code stands for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from errors import HandoverCodeError
from lab import Lab

CODE_DIGITS = 6
CODE_TTL_S = 600
MAX_ATTEMPTS = 5
_CODE_RE = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s\-./]")

MESSAGES = {
    "format": {
        "de": "Bitte geben Sie die 6 Ziffern ein, die Ihr Handy zeigt.",
        "en": "Please enter the 6 digits your phone shows.",
    },
    "unknown": {
        "de": "Dieser Code passt nicht. Bitte prüfen Sie die Ziffern.",
        "en": "That code does not match. Please check the digits.",
    },
    "expired": {
        "de": "Dieser Code ist abgelaufen. Lassen Sie sich auf dem Handy einen neuen zeigen.",
        "en": "This code has expired. Show a new one on your phone.",
    },
    "locked": {
        "de": "Zu viele falsche Codes. Bitte fragen Sie eine Mitarbeiterin oder einen Mitarbeiter.",
        "en": "Too many wrong codes. Please ask a member of staff.",
    },
}
"""What the customer reads for each ``HandoverCodeError.reason`` (German and English)."""


@dataclass(frozen=True)
class Handoff:
    """What one device hands to the next: the journey and where it goes on."""

    code: str
    journey: str
    """The journey id (the first sending session's id)."""
    prototype_id: str
    store_id: str
    to: str
    """The receiving device (kiosk, phone, associate-tablet)."""
    target: str
    """The screen the receiving device continues on."""
    task: str | None = None
    persona: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    locale: str = "de"
    expires_at: float = 0.0
    experiment_id: str | None = None
    """The sending session's experiment (None: it ran in none)."""
    variant: str | None = None
    """The sending session's experiment arm: the receiving session continues in it."""
    version: int | None = None
    """The prototype version the sending session showed (an arm may pin one)."""


def handover_dir(lab: Lab) -> Path:
    """The lab's registry of live handover codes."""
    return lab.root / "handover"


def issue_code(lab: Lab, now: float | None = None, **handoff: Any) -> Handoff:
    """A fresh code for ``handoff`` (its fields but ``code`` and ``expires_at``), registered
    until ``CODE_TTL_S`` from now; expired codes are cleared on the way."""
    now = time.time() if now is None else now
    folder = handover_dir(lab)
    folder.mkdir(parents=True, exist_ok=True)
    prune(lab, now)
    for _ in range(50):
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        path = folder / f"{code}.json"
        if not path.exists():
            break
    else:  # a million codes and fifty collisions in a row: the folder is being flooded
        raise HandoverCodeError("locked", MESSAGES["locked"]["en"])
    entry = Handoff(code=code, expires_at=now + CODE_TTL_S, **handoff)
    tmp = folder / f".{code}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(entry), out)
    os.replace(tmp, path)
    return entry


def normalise_code(raw: str | None) -> str:
    """The code as typed or scanned, without spaces and dashes (``"482 913"`` → ``"482913"``)."""
    return _SEPARATORS.sub("", str(raw or ""))


def claim_code(
    lab: Lab,
    raw: str | None,
    *,
    prototype_id: str,
    store_id: str,
    locale: str = "de",
    now: float | None = None,
) -> Handoff:
    """Take the handoff behind a code, once: ``HandoverCodeError`` (its message in ``locale``)
    when it is not six digits, unknown here (wrong, used, another prototype or store) or
    expired. Nothing about other codes shows in the message."""
    now = time.time() if now is None else now
    lang = "en" if locale == "en" else "de"
    code = normalise_code(raw)
    if not _CODE_RE.fullmatch(code):
        raise HandoverCodeError("format", MESSAGES["format"][lang])
    folder = handover_dir(lab)
    live = folder / f"{code}.json"
    taken = folder / f".{code}.{uuid.uuid4().hex}.claimed"
    try:
        os.replace(live, taken)
    except OSError:
        raise HandoverCodeError("unknown", MESSAGES["unknown"][lang]) from None
    entry = _read(taken)
    if entry is not None and (entry.prototype_id != prototype_id or entry.store_id != store_id):
        # another store's or prototype's code: put it back, so a wrong try elsewhere cannot
        # use up a customer's live code
        with contextlib.suppress(OSError):
            os.replace(taken, live)
        raise HandoverCodeError("unknown", MESSAGES["unknown"][lang])
    with contextlib.suppress(OSError):
        taken.unlink()
    if entry is None:
        raise HandoverCodeError("unknown", MESSAGES["unknown"][lang])
    if entry.expires_at <= now:
        raise HandoverCodeError("expired", MESSAGES["expired"][lang])
    return entry


def _read(path: Path) -> Handoff | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Handoff(**data)
    except (OSError, ValueError, TypeError):
        return None


def prune(lab: Lab, now: float | None = None) -> int:
    """Remove expired codes (and unreadable leftovers); how many went."""
    now = time.time() if now is None else now
    folder = handover_dir(lab)
    if not folder.is_dir():
        return 0
    gone = 0
    for path in folder.glob("*.json"):
        entry = _read(path)
        if entry is None or entry.expires_at <= now:
            with contextlib.suppress(OSError):
                path.unlink()
                gone += 1
    return gone


__all__ = [
    "CODE_DIGITS",
    "CODE_TTL_S",
    "MAX_ATTEMPTS",
    "MESSAGES",
    "Handoff",
    "claim_code",
    "handover_dir",
    "issue_code",
    "normalise_code",
    "prune",
]
