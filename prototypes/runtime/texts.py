"""The runtime's own texts (not from a spec) in German and English, and a spec text's language.

``T`` holds what the customer flow says around a prototype (consent, mission card, questions,
thank-you; ``tr``); ``UI`` what the element renderers add to spec content (stock, prices, maps;
``ui``). A locale without an entry falls back to English. ``in_locale`` picks a spec text's
language through ``LocalizedText.get_text``.
"""

from __future__ import annotations

from typing import Any

from prototypes.spec import LocalizedText

T: dict[str, dict[str, str]] = {
    "welcome_eyebrow": {"de": "Neu im Test", "en": "Now in testing"},
    "welcome_fallback": {
        "de": "Helfen Sie uns, eine neue Idee für Ihren Einkauf auszuprobieren.",
        "en": "Help us try out a new idea for your shopping.",
    },
    "fact_time": {"de": "Dauert etwa 2 Minuten", "en": "Takes about 2 minutes"},
    "fact_anon": {
        "de": "Anonym – keine personenbezogenen Daten",
        "en": "Anonymous – no personal data",
    },
    "fact_tap": {
        "de": "Einfach tippen – es gibt kein Richtig oder Falsch",
        "en": "Just tap – there is no right or wrong",
    },
    "consent_small": {
        "de": "Wir speichern nur, was Sie antippen und antworten – ohne Namen, ohne Fotos, "
        "ohne Standort. Sie können jederzeit aufhören.",
        "en": "We only record what you tap and answer – no names, no photos, no location. "
        "You can stop at any time.",
    },
    "yes": {"de": "Los geht's", "en": "Let's start"},
    "no": {"de": "Nein, danke", "en": "No, thanks"},
    "declined_title": {"de": "Kein Problem!", "en": "No problem!"},
    "declined_text": {
        "de": "Es wird nichts aufgezeichnet. Sie können sich trotzdem umsehen.",
        "en": "Nothing is recorded. You are welcome to look around anyway.",
    },
    "look_around": {"de": "Trotzdem umsehen", "en": "Look around anyway"},
    "mission": {"de": "Ihre Aufgabe", "en": "Your task"},
    "of": {"de": "von", "en": "of"},
    "mission_hint": {
        "de": "Tippen Sie sich durch, als wären Sie gerade im Laden. Wenn Sie nicht "
        "weiterkommen, tippen Sie unten auf „Aufgeben“ – auch das hilft uns.",
        "en": "Tap through as if you were in the store right now. If you get stuck, tap "
        "“Give up” at the bottom – that helps us too.",
    },
    "start_task": {"de": "Aufgabe starten", "en": "Start task"},
    "done_chip": {"de": "Aufgabe geschafft", "en": "Task done"},
    "give_up": {"de": "Aufgeben", "en": "Give up"},
    "continue": {"de": "Weiter", "en": "Continue"},
    "great": {"de": "Geschafft!", "en": "Done!"},
    "great_text": {"de": "Sie haben es gefunden.", "en": "You found it."},
    "explore": {"de": "Schauen Sie sich in Ruhe um", "en": "Take a look around"},
    "finish": {"de": "Fertig", "en": "Done"},
    "handed_over": {"de": "Übergeben", "en": "Handed over"},
    "handed_over_text": {
        "de": "Es geht am anderen Gerät weiter. Tippen Sie auf „Fertig“, wenn Sie dort sind.",
        "en": "It goes on at the other device. Tap “Done” once you are there.",
    },
    "exit": {"de": "Beenden", "en": "Exit"},
    "question": {"de": "Frage", "en": "Question"},
    "skip": {"de": "Überspringen", "en": "Skip"},
    "send": {"de": "Absenden", "en": "Send"},
    "comment_ph": {"de": "Ihre Anmerkung …", "en": "Your comment …"},
    # --- questions of the prototype's own (runtime/asking.py) ---
    "pick_any": {"de": "Mehrere Antworten möglich", "en": "Choose as many as you like"},
    "prefer": {"de": "Diese gefällt mir besser", "en": "I prefer this one"},
    "look_seconds": {
        "de": "Sehen Sie sich die folgende Seite {n} Sekunden lang an. Danach fragen wir Sie, "
        "woran Sie sich erinnern.",
        "en": "Look at the following page for {n} seconds. Then we ask what you remember.",
    },
    "look_start": {"de": "Seite zeigen", "en": "Show the page"},
    "recall_ph": {"de": "Woran erinnern Sie sich?", "en": "What do you remember?"},
    "first_click_hint": {
        "de": "Tippen Sie auf der Seite unten dorthin, wo Sie zuerst tippen würden.",
        "en": "Tap the page below where you would tap first.",
    },
    "thanks_title": {"de": "Vielen Dank!", "en": "Thank you!"},
    "thanks_text": {
        "de": "Ihre Antworten helfen uns, das Einkaufen bei uns besser zu machen.",
        "en": "Your answers help us make shopping with us better.",
    },
    "restart": {"de": "Neu starten", "en": "Start again"},
    "restart_kiosk": {
        "de": "Die Seite startet gleich für die nächste Person neu.",
        "en": "This screen restarts for the next person in a moment.",
    },
    # Every broken customer link says the same, so it tells nobody which ids exist.
    "link_title": {
        "de": "Dieser Link funktioniert leider nicht",
        "en": "Sorry, this link does not work",
    },
    "link_text": {
        "de": "Bitte scannen Sie den QR-Code noch einmal oder fragen Sie unser Team im Laden.",
        "en": "Please scan the QR code again, or ask our staff in the store.",
    },
    "team_title": {"de": "Nur für das Team", "en": "For the team only"},
    "team_text": {
        "de": "Diese Ansicht braucht den Zugangscode des Labs.",
        "en": "This view needs the lab's access token.",
    },
}


UI: dict[str, dict[str, str]] = {
    "in_stock": {"de": "Vorrätig", "en": "In stock"},
    "low": {"de": "Nur wenige", "en": "Few left"},
    "out_of_stock": {"de": "Ausverkauft", "en": "Sold out"},
    "online": {"de": "Online-Shop", "en": "Online shop"},
    "here": {"de": "hier", "en": "here"},
    "sizes": {"de": "Größen", "en": "Sizes"},
    "ratings": {"de": "Bewertungen", "en": "ratings"},
    "personal": {"de": "Ihr persönliches Angebot", "en": "Your personal offer"},
    "offer": {"de": "Angebot", "en": "Offer"},
    "code": {"de": "Code", "en": "Code"},
    "vat": {"de": "inkl. MwSt.", "en": "incl. VAT"},
    "now": {"de": "jetzt", "en": "now"},
    "scan_hint": {"de": "Barcode in den Rahmen halten", "en": "Hold the barcode inside the frame"},
    "camera": {"de": "KAMERA", "en": "CAMERA"},
    "you": {"de": "Sie", "en": "You"},
    "route": {"de": "zu Fuß", "en": "on foot"},
    "selected": {"de": "gewählt", "en": "selected"},
    "km": {"de": "km entfernt", "en": "km away"},
}


def tr(key: str, locale: str) -> str:
    """A text of the customer flow (``T``) in ``locale``."""
    texts = T[key]
    return texts.get(locale, texts["en"])


def ui(key: str, locale: str) -> str:
    """A text the element renderers add (``UI``) in ``locale``."""
    texts = UI[key]
    return texts.get(locale, texts["en"])


def in_locale(text: Any, locale: str, fallback: str | None = None) -> str:
    """A text in ``locale``, else ``fallback``, else the first given (``LocalizedText.get_text``).

    ``text`` is a spec text (``LocalizedText``), a plain ``{locale: text}`` dict (question texts
    and anchors, a view's title, what a custom screen passes), a str (as it is) or None ("").
    """
    if text is None:
        return ""
    if not isinstance(text, dict):
        return str(text)
    if not isinstance(text, LocalizedText):
        text = LocalizedText(text)
    return text.get_text(locale, fallback)


__all__ = ["T", "UI", "in_locale", "tr", "ui"]
