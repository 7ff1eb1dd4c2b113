"""Sentiment of a comment: negative, neutral or positive, German and English, fully offline.

Both languages use a sentiment lexicon that a package ships, no hand-made word list:

- English: VADER (``vaderSentiment``: its lexicon and rules, negation, intensifiers, "but").
  The label follows the authors' thresholds on the compound score: >= 0.05 positive,
  <= -0.05 negative.
- German: the German Polarity Lexicon (Klenner, Clematide et al., Apache 2.0) as shipped in
  the ``textblob-de`` wheel (``data/de-sentiment.xml``, ~8,000 words). Its adjectives, nouns and
  adverbs are used; its verbs are not, because their part of speech was guessed from the word's
  ending (the file says so) and made everyday verbs such as "bezahlen" strongly negative. A
  word is looked up as written, then by its ``simplemma`` lemma; "nicht", "kein…", "nie" up to
  two words before it flip its polarity. The score is the sum, squashed like VADER's compound
  (x / sqrt(x² + 15)) to [-1, 1], with the same thresholds. ``textblob_de`` itself is not
  imported: its ``__init__`` fails with current ``textblob``; only its data file is read.

Accuracy on ``tests/data/sentiment_labelled.csv`` (124 labelled retail comments) is measured
by ``measure_accuracy`` and documented in docs/architecture.md ("Comments").
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from errors import InvalidInputError

LABELS = ("negative", "neutral", "positive")
THRESHOLD = 0.05
NEGATIONS_DE = frozenset(
    {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals"}
)
DE_PARTS_OF_SPEECH = frozenset({"JJ", "NN", "RB"})
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass(frozen=True)
class Sentiment:
    """A comment's sentiment: its label, a score in [-1, 1] and the language it was read in."""

    label: str
    score: float
    locale: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Sentiment:
        return cls(label=data["label"], score=float(data["score"]), locale=data["locale"])


def detect_locale(text: str, default: str = "de") -> str:
    """``de`` or ``en``: whichever ``simplemma``'s word lists recognise more of the text;
    ``default`` on a tie (a short comment whose words both languages know)."""
    from simplemma import langdetect

    scores = dict(langdetect(text, lang=("de", "en")))
    de, en = scores.get("de", 0.0), scores.get("en", 0.0)
    if de == en:
        return default
    return "de" if de > en else "en"


def label_of(score: float) -> str:
    """The label of a compound score."""
    if score >= THRESHOLD:
        return "positive"
    if score <= -THRESHOLD:
        return "negative"
    return "neutral"


def classify(text: str, locale: str | None = None, default: str = "de") -> Sentiment:
    """The sentiment of one comment; ``locale`` None detects the language (``default`` when
    both languages know every word, e.g. the lab's locale)."""
    loc = locale if locale in ("de", "en") else detect_locale(text, default)
    score = _english(text) if loc == "en" else _german(text)
    return Sentiment(label_of(score), round(score, 4), loc)


# --- English: VADER ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _english(text: str) -> float:
    return float(_vader().polarity_scores(text)["compound"])


# --- German: the German Polarity Lexicon from textblob-de --------------------------------------


def german_lexicon_path() -> Path:
    """The lexicon file inside the installed ``textblob-de`` (found without importing it)."""
    spec = importlib.util.find_spec("textblob_de")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError(
            "German sentiment needs the package textblob-de (its lexicon): pip install textblob-de"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "de-sentiment.xml"


@lru_cache(maxsize=1)
def german_lexicon() -> dict[str, float]:
    """Word (lower case) -> mean polarity over its entries of the parts of speech used."""
    from xml.etree import ElementTree

    sums: dict[str, list[float]] = {}
    for entry in ElementTree.parse(german_lexicon_path()).getroot().iter("word"):
        if entry.get("pos") in DE_PARTS_OF_SPEECH and entry.get("form"):
            sums.setdefault(entry.get("form").lower(), []).append(float(entry.get("polarity")))
    return {w: sum(p) / len(p) for w, p in sums.items() if any(p)}


def _german(text: str) -> float:
    import simplemma

    lexicon = german_lexicon()
    tokens = [t.lower() for t in WORD.findall(text)]
    total = 0.0
    for i, token in enumerate(tokens):
        if token in NEGATIONS_DE:
            continue
        polarity = lexicon.get(token)
        if polarity is None:
            polarity = lexicon.get(simplemma.lemmatize(token, lang="de").lower(), 0.0)
        if polarity and NEGATIONS_DE.intersection(tokens[max(0, i - 2) : i]):
            polarity = -polarity
        total += polarity
    return total / math.sqrt(total * total + 15)


# --- measuring it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """Accuracy of ``classify`` on a labelled set: overall, per language, recall per label."""

    n: int
    accuracy: float
    by_locale: dict[str, float]
    recall: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def measure_accuracy(rows: list[tuple[str, str, str]]) -> Accuracy:
    """Accuracy on ``(locale, label, text)`` rows, the locale given (not detected)."""
    hits: dict[tuple[str, str], list[bool]] = {}
    for locale, label, text in rows:
        hits.setdefault((locale, label), []).append(classify(text, locale).label == label)

    def share(keep) -> float:
        flat = [h for key, hs in hits.items() if keep(key) for h in hs]
        return round(sum(flat) / len(flat), 3) if flat else 0.0

    locales = sorted({k[0] for k in hits})
    return Accuracy(
        n=len(rows),
        accuracy=share(lambda k: True),
        by_locale={loc: share(lambda k, loc=loc: k[0] == loc) for loc in locales},
        recall={lab: share(lambda k, lab=lab: k[1] == lab) for lab in LABELS},
    )
