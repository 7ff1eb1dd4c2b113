"""Free-text comments customers leave after a prototype session, in German and English.

Three moods (negative, neutral, positive) per language; the simulator picks the mood from a
session's latent satisfaction. A negative comment says what was bad in evaluative words, as
customers write them ("umständlich", "nervt", "frustrating"), not only what happened. A few
comments carry an e-mail address or a phone number, as real customers sometimes type them, so
that redaction at ingest has something to catch.
"""

from __future__ import annotations

MOODS: tuple[str, ...] = ("negative", "neutral", "positive")

COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "negative": (
            "Umständlich: Ob die Regenjacke in M hier im Laden ist, stand nirgends.",
            "Der Scanner ist schlecht, er hat den Barcode erst beim dritten Versuch erkannt.",
            "Viel zu viele Schritte, bis ich die Größe sehen konnte. Das nervt.",
            "Die Schrift am Kiosk ist viel zu klein, das ist ärgerlich.",
            "Warum muss ich mich registrieren, nur um die Verfügbarkeit zu sehen? Unnötig.",
            "Die Knöpfe reagieren schlecht, ich habe mehrfach getippt. Frustrierend.",
            "Der Zurück-Button fehlt, ich bin im Kreis gelaufen. Schlecht gemacht.",
            "Beim Toaster wurde mir falsches Zubehör angezeigt, das gar nicht passt. Ärgerlich.",
            "Hat ewig geladen, total langsam, dann habe ich aufgegeben.",
            "Bitte ruft mich zurück, die Lieferung ist falsch: 0171 2345678",
        ),
        "neutral": (
            "Ganz okay, aber die Farben der Chinos sahen in echt anders aus.",
            "Funktioniert, aber ich frage lieber das Personal.",
            "Die Filialsuche ist praktisch, die Karte könnte größer sein.",
            "Mir fehlt die Angabe, wann die Ware wieder da ist.",
            "Brauchbar. Die Pflegehinweise hätte ich gern direkt gesehen.",
            "Gebt mir Bescheid, wenn meine Größe wieder da ist: lena.schmidt@example.de",
            "Auf dem Handy ging es besser als am Kiosk.",
            "Die Preise sollten auch im Vergleich zum Onlineshop stehen.",
        ),
        "positive": (
            "Super, ich sehe sofort, dass der Pullover in Hamburg in meiner Größe da ist.",
            "Sehr einfach, der QR-Code hat sofort funktioniert.",
            "Toll, dass mir gleich der passende Entkalker zum Wasserkocher angezeigt wird.",
            "Schnell und übersichtlich, gerne mehr davon.",
            "Reservieren und in der Filiale anprobieren ist genau das, was ich wollte.",
            "Endlich muss ich nicht mehr durch den ganzen Laden laufen.",
            "Klasse Idee! Meldet euch gern bei mir: jonas.weber@example.com",
            "Die Empfehlungen passen wirklich zu dem, was ich suche.",
        ),
    },
    "en": {
        "negative": (
            "Annoying: I could not tell whether the rain jacket is in stock in my size.",
            "The scanner is bad, it took three tries to read the barcode.",
            "Far too many steps before I saw the sizes. Frustrating.",
            "The kiosk text is too small to read, which is really annoying.",
            "It kept loading, terribly slow, so I gave up.",
            "Please call me back, my order went wrong: +49 30 1234567",
        ),
        "neutral": (
            "Works, but I would rather ask a sales assistant.",
            "The store finder is handy, the map could be bigger.",
            "I would like to know when my size is back in stock.",
            "Fine on my phone, less so on the kiosk.",
            "Send me a note when the sneakers are back: sam.taylor@example.org",
        ),
        "positive": (
            "Great, I saw right away that the sweater is available nearby.",
            "Very easy, the QR code worked immediately.",
            "Love that it suggested the right descaler for my kettle.",
            "Quick and clear, more of this please.",
            "Reserve and try on in store is exactly what I wanted.",
        ),
    },
}


def flat_bank() -> tuple[list[str], dict[tuple[str, str], tuple[int, int]]]:
    """All comments in one list and, per (locale, mood), the slice ``(start, stop)`` into it."""
    texts: list[str] = []
    slices: dict[tuple[str, str], tuple[int, int]] = {}
    for locale, moods in COMMENTS.items():
        for mood in MOODS:
            start = len(texts)
            texts.extend(moods[mood])
            slices[(locale, mood)] = (start, len(texts))
    return texts, slices


# --- comments on a planted theme ---------------------------------------------------------------

THEME_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "sizes": {
        "keywords": ("größe", "size"),
        "de": (
            "Hier konnte ich die Größe nicht mehr ändern.",
            "Welche Größe reserviere ich da eigentlich? Das stand nirgends.",
        ),
        "en": (
            "I could not change the size on this screen.",
            "Which size am I reserving? It never said.",
        ),
    },
    "waiting": {
        "keywords": ("warten", "wartezeit", "wait"),
        "de": (
            "Ich musste viel zu lange warten, bis es weiterging.",
            "Die Wartezeit auf dieser Seite ist nervig.",
        ),
        "en": (
            "I had to wait far too long before anything happened.",
            "Too much waiting on this page.",
        ),
    },
    "price": {
        "keywords": ("preis", "price"),
        "de": ("Der Preis war hier nicht zu sehen.", "Was kostet das? Kein Preis angegeben."),
        "en": ("The price was not shown here.", "What does it cost? No price anywhere."),
    },
    "payment": {
        "keywords": ("bezahl", "zahlung", "pay"),
        "de": (
            "Ich wollte direkt bezahlen, aber die Zahlung ging nicht.",
            "Wo kann ich hier bezahlen? Ich habe nur Felder gesehen.",
        ),
        "en": (
            "I wanted to pay right away, but the payment did not go through.",
            "Where do I pay? I only saw fields.",
        ),
    },
    "staff": {
        "keywords": ("personal", "verkäufer", "staff"),
        "de": (
            "Am Ende musste ich doch das Personal fragen.",
            "Ich hätte lieber einen Verkäufer gefragt.",
        ),
        "en": (
            "In the end I had to ask the staff.",
            "I would rather have asked a member of staff.",
        ),
    },
    "findability": {
        "keywords": ("finden", "gefunden", "find"),
        "de": (
            "Ich konnte den nächsten Schritt nicht finden.",
            "Den Knopf zum Weitermachen habe ich nicht gefunden.",
        ),
        "en": ("I could not find the next step.", "I did not find how to go on."),
    },
    "usability": {
        "keywords": ("verwirrend", "bedienung", "confusing"),
        "de": (
            "Die Bedienung hier ist verwirrend.",
            "Sehr verwirrend, ich habe ständig danebengetippt.",
        ),
        "en": ("This screen is confusing.", "Confusing layout, I kept tapping the wrong spot."),
    },
}
"""Comments a planted problem makes customers write (``sample_data.problem``): per theme, the
lower-case keywords every one of its texts contains (and no text of another theme does), and
its texts per locale. Themes follow the comment codebook's (sizes/availability, waiting time,
price, checkout/payment, staff, finding things, app/kiosk usability)."""


def mentions(text: str, theme: str) -> bool:
    """Whether ``text`` contains one of the planted theme's keywords (case-insensitive)."""
    low = text.lower()
    return any(k in low for k in THEME_COMMENTS[theme]["keywords"])
