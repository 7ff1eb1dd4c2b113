"""Sentiment of a comment: negative, neutral or positive, German and English, fully offline.

The core is a sentiment lexicon that a package ships, read with a few rules of grammar:

- English: VADER (``vaderSentiment``: its lexicon and rules, negation, intensifiers, "but";
  the compound score labelled with its authors' thresholds, >= 0.05 positive, <= -0.05
  negative). A word VADER lacks is looked up by its ``simplemma`` lemma when VADER rates that
  clearly ("crashing" -> "crash").
- German: the German Polarity Lexicon (Klenner, Clematide et al., Apache 2.0) as shipped in
  the ``textblob-de`` wheel (``data/de-sentiment.xml``, ~8,000 words): its adjectives, nouns
  and adverbs, and those of its verbs that an adjective or noun derived from them confirms
  (the file's verb tags were guessed from the ending, and everyday verbs such as "bezahlen"
  are rated for an unrelated sense; "enttäuschen" is kept because "enttäuscht" and
  "Enttäuschung" carry the same sign, "bezahlen" is not). A word is looked up as written, by
  its ``simplemma`` lemma, without an adjective's ending, or by the head of a compound
  ("Warteschlange" -> "Schlange"). "nicht", "kein…", "nie", "niemand", "nichts" flip the next
  rated word up to two words on; "aber"/"doch" weigh what follows 1.5 and what precedes 0.5,
  as VADER does with "but". The sum is squashed like VADER's compound (x / sqrt(x² + 15)).
  ``textblob_de`` itself is not imported (its ``__init__`` fails with current ``textblob``).

Both languages add two rules for what customers complain about without an evaluative word:

- a negation that finds no rated word negates a predicate: "hat nicht funktioniert", "kein
  Personal", "couldn't find the size", "nobody helped" count as negative (not in a question,
  and not with a modal of necessity: "muss nicht mehr warten" is a relief);
- an excessive degree: "zu" + adjective ("zu teuer", "zu lange"; not "zu bedienen", "zu
  Hause") and "too" + a word count as negative; a negation right before denies it ("nicht
  zu teuer", "not too bad").

``sentiment_supplement.csv`` beside this module adds the few retail words both lexicons lack
(waiting, queues, crashes…), each with its reason; it never overrides a lexicon's rating.
Accuracy on ``tests/data/sentiment_labelled.csv`` (tuned on) and
``tests/data/sentiment_heldout.csv`` (never tuned on) is measured by ``measure_accuracy`` and
documented in docs/architecture.md ("Comments").
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


# --- shared: clauses and the supplement -----------------------------------------------------

CLAUSE = re.compile(r"[^.,;:!?()\n]+([.,;:!?()\n]*)")  # a clause and the marks that end it
TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
NEGATED_PREDICATE = -1.0  # "hat nicht funktioniert": a negated neutral predicate (lexicon scale)
EXCESS = -1.0  # "zu teuer", "too small": an excessive degree
VADER_SCALE = 2.5  # a German-scale polarity as VADER valence (its "good" is 1.9, "bad" -2.5)
NEGATION_WINDOW = 2  # German: how many words on a negation can flip a rated word


def supplement_path() -> Path:
    """The data file of retail words the packaged lexicons lack, each with its reason."""
    return Path(__file__).with_name("sentiment_supplement.csv")


@lru_cache(maxsize=1)
def supplement() -> dict[str, dict[str, float]]:
    """Locale -> word (lower case) -> polarity on the German lexicon's scale (-1..1)."""
    import csv

    out: dict[str, dict[str, float]] = {"de": {}, "en": {}}
    with supplement_path().open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    for row in csv.DictReader(lines):
        out[row["locale"]][row["word"].lower()] = float(row["polarity"])
    return out


def _clauses(text: str) -> list[tuple[list[str], bool]]:
    """The text's clauses as (tokens as written, ends with a question mark)."""
    out = []
    for match in CLAUSE.finditer(text):
        tokens = TOKEN.findall(match.group(0).replace("’", "'"))
        if tokens:
            out.append((tokens, "?" in match.group(1)))
    return out


def _squash(total: float) -> float:
    """VADER's normalisation of a summed valence to [-1, 1] (alpha 15)."""
    return total / math.sqrt(total * total + 15)


# --- English: VADER ---------------------------------------------------------------------------

NEGATIONS_EN = frozenset({"no", "nobody", "noone", "nothing", "nowhere", "never", "none", "not"})
NOT_A_PREDICATE_NEGATION = frozenset({"without", "despite", "rarely", "seldom", "neither", "nor"})
# "I do not have to queue": a negated necessity is a relief, not a complaint
NECESSITY_EN = frozenset({"have", "has", "had", "need", "needs", "must"})
NECESSITY_DE = frozenset({"müssen", "brauchen"})
CONJUNCTIONS = frozenset({"und", "oder", "aber", "sondern", "and", "or", "but"})


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    for word, polarity in supplement()["en"].items():
        analyzer.lexicon.setdefault(word, polarity * VADER_SCALE)
    return analyzer


@lru_cache(maxsize=20_000)
def _english_form(word: str) -> str:
    """The word VADER should look up: as written when its lexicon has it, else its lemma when
    the lexicon rates that clearly ("crashing" -> "crash"; not "paid" -> "pay", -0.4: weakly
    rated entries are often topic words rated for another sense), else as written."""
    import simplemma

    lexicon = _vader().lexicon
    lower = word.lower()
    if lower in lexicon:
        return word
    lemma = simplemma.lemmatize(lower, lang="en").lower()
    return lemma if abs(lexicon.get(lemma, 0.0)) >= 1.0 else word


@lru_cache(maxsize=1)
def _vader_negations() -> frozenset[str]:
    """The words VADER itself reads as a negation (it flips the rated word they precede)."""
    from vaderSentiment.vaderSentiment import NEGATE

    return frozenset(NEGATE) - NOT_A_PREDICATE_NEGATION


def _english(text: str) -> float:
    analyzer, flipping = _vader(), _vader_negations()
    prepared = TOKEN.sub(lambda m: _english_form(m.group(0)), text.replace("’", "'"))
    compound = float(analyzer.polarity_scores(prepared)["compound"])
    extra = 0.0
    for tokens, question in _clauses(text):
        lows = [t.lower() for t in tokens]
        # "too small" (not "me too", and not "not too bad": VADER reads that one)
        extra += (
            EXCESS
            * VADER_SCALE
            * sum(
                1
                for i, w in enumerate(lows[:-1])
                if w == "too" and not (i and (lows[i - 1] in flipping or "n't" in lows[i - 1]))
            )
        )
        negation = (
            None
            if question
            else next(
                (i for i, w in enumerate(lows) if w in NEGATIONS_EN or w in flipping or "n't" in w),
                None,
            )
        )
        if negation is None:
            continue
        window = [_english_form(t).lower() for t in tokens[negation + 1 : negation + 4]]
        # VADER flips what its own negations precede; "nobody helped" it does not
        flips = lows[negation] in flipping or "n't" in lows[negation]
        rated = any(
            analyzer.lexicon.get(w, 0.0) < 0 or flips and w in analyzer.lexicon for w in window
        )
        after = lows[negation + 1 : negation + 4]
        if not rated and not NECESSITY_EN.intersection(after) and after[:1] != ["too"]:
            extra += NEGATED_PREDICATE * VADER_SCALE
    if not extra:
        return compound
    c = max(-0.9999, min(0.9999, compound))
    return _squash(c * math.sqrt(15 / (1 - c * c)) + extra)


# --- German: the German Polarity Lexicon from textblob-de --------------------------------------

NEGATIONS_DE = frozenset(
    {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals"}
    | {"niemand", "nichts", "nirgends", "nirgendwo"}
)
BUT_DE = frozenset({"aber", "doch", "jedoch", "allerdings"})
NOT_AN_ADJECTIVE = frozenset(  # after "zu" these make it a preposition, not "too"
    {"der", "die", "das", "dem", "den", "des", "ein", "eine", "einem", "einen", "einer"}
    | {"mir", "dir", "ihm", "ihr", "uns", "euch", "ihnen", "sich", "hause", "fuß", "ende"}
)


def german_lexicon_path() -> Path:
    """The lexicon file inside the installed ``textblob-de`` (found without importing it)."""
    spec = importlib.util.find_spec("textblob_de")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError(
            "German sentiment needs the package textblob-de (its lexicon): pip install textblob-de"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "de-sentiment.xml"


def _verb_stem(word: str) -> str:
    if word.endswith(("ln", "rn")):
        return word[:-1]
    return word[:-2] if word.endswith("en") else word.removesuffix("n")


@lru_cache(maxsize=1)
def german_lexicon() -> dict[str, float]:
    """Word (lower case) -> mean polarity. Adjectives, nouns and adverbs as they are; a verb
    only when an adjective or noun derived from it carries the same sign (see the module)."""
    from xml.etree import ElementTree

    sums: dict[str, list[float]] = {}
    verbs: dict[str, list[float]] = {}
    for entry in ElementTree.parse(german_lexicon_path()).getroot().iter("word"):
        form, polarity = (entry.get("form") or "").lower(), float(entry.get("polarity") or 0)
        if form:
            target = verbs if entry.get("pos") == "VB" else sums
            target.setdefault(form, []).append(polarity)
    words = {w: sum(p) / len(p) for w, p in sums.items() if any(p)}
    for verb, ps in verbs.items():
        polarity = sum(ps) / len(ps)
        stem = _verb_stem(verb)
        derived = (stem + "t", "ge" + stem + "t", stem + "ung", stem + "end", stem + "lich")
        derived += (stem + "ig", stem + "bar", verb + "heit", verb + "keit")
        if polarity and any(words.get(d, 0.0) * polarity > 0 for d in derived):
            words.setdefault(verb, polarity)
    for word, polarity in supplement()["de"].items():
        words.setdefault(word, polarity)
    return words


@lru_cache(maxsize=50_000)
def _lemma_de(word: str) -> str:
    """``simplemma``'s German lemma (comments repeat their words: looked up once)."""
    import simplemma

    return simplemma.lemmatize(word, lang="de")


@lru_cache(maxsize=50_000)
def _german_polarity(token: str, adjective: bool = False) -> float:
    """The polarity of a word (lower case): as written, by lemma, without an adjective's
    ending when it may be one ("tolle" -> "toll"), or by the head of a compound
    ("Warteschlange" -> "schlange") whose first part is a German word."""
    import simplemma

    lexicon = german_lexicon()
    if token in lexicon:
        return lexicon[token]
    lemma = _lemma_de(token).lower()
    if lemma in lexicon:
        return lexicon[lemma]
    if adjective:
        for ending in ("e", "en", "er", "es", "em"):
            if token.endswith(ending) and token[: -len(ending)] in lexicon:
                return lexicon[token[: -len(ending)]]
    for cut in range(4, len(token) - 3):  # longest head first; both parts 4+ letters
        head, first = token[cut:], token[:cut]
        polarity = lexicon.get(head) or lexicon.get(_lemma_de(head.capitalize()).lower())
        if polarity and simplemma.is_known(first, lang="de"):
            return polarity
    return 0.0


def _is_excess(tokens: list[str], i: int) -> bool:
    """``tokens[i]`` is "zu" used as "too": an adjective or adverb follows (written in lower
    case, so no noun; not an infinitive, "zu bedienen"; not an article or pronoun)."""
    if tokens[i].lower() != "zu" or i + 1 >= len(tokens):
        return False
    nxt = tokens[i + 1]
    if not nxt.islower() or nxt in NOT_AN_ADJECTIVE:
        return False
    infinitive = nxt.endswith(("en", "ln", "rn")) and _lemma_de(nxt) == nxt
    return not infinitive


def _german(text: str) -> float:
    total = 0.0
    clauses = []
    for tokens, question in _clauses(text):  # "gut aber teuer": split at the "aber"
        cut = next((j for j, t in enumerate(tokens) if j and t.lower() in BUT_DE), None)
        if cut is None:
            clauses.append((tokens, question))
        else:
            clauses += [(tokens[:cut], question), (tokens[cut:], question)]
    # as VADER does with "but": what comes before counts half, what follows 1.5 times
    but_at = next((k for k, (ts, _) in enumerate(clauses) if ts[0].lower() in BUT_DE), None)
    for k, (tokens, question) in enumerate(clauses):
        weight = 1.0 if but_at is None else (0.5 if k < but_at else 1.5)
        total += weight * _german_clause(tokens, question)
    return _squash(total)


def _german_clause(tokens: list[str], question: bool) -> float:
    """The summed polarity of one clause: negation flips the next rated word; a negation that
    finds none marks a negated predicate; "zu" + adjective is an excess."""
    lows = [t.lower() for t in tokens]
    total, excess, negated_at, unresolved, relief = 0.0, False, None, 0, False
    denied = False
    for i, low in enumerate(lows):
        if low in NEGATIONS_DE or low in CONJUNCTIONS:
            unresolved += negated_at is not None  # the previous negation flipped nothing
            negated_at = i if low in NEGATIONS_DE else None
            continue
        if low == "zu" and _is_excess(tokens, i):
            # "nicht zu teuer" denies the excess: no excess, no negated predicate, and a
            # complaint word that follows turns mildly good ("nicht zu lange" stays neutral)
            denied = negated_at == i - 1
            excess, negated_at = not denied, None
            continue
        if _lemma_de(low) in NECESSITY_DE:
            relief = True  # "muss nicht mehr warten": a negated necessity is a relief
            continue
        # nouns are written with a capital; a lower-case or clause-initial word may be an
        # inflected adjective
        polarity = _german_polarity(low, tokens[i].islower() or i == 0)
        if excess:  # "zu teuer" is worse than "teuer", "zu lang" is bad
            polarity, excess = EXCESS + min(polarity, 0.0), False
        elif denied:
            polarity, denied = -min(polarity, 0.0), False
        elif polarity and negated_at is not None and i - negated_at <= NEGATION_WINDOW:
            polarity, negated_at = -polarity, None
        total += polarity
    unresolved += negated_at is not None
    if excess:
        total += EXCESS
    if not question and not relief:
        total += NEGATED_PREDICATE * unresolved
    return total


# --- measuring it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """Accuracy of ``classify`` on a labelled set: overall, per language, and per label its
    recall (share of that label found) and precision (share of that verdict that is right)."""

    n: int
    accuracy: float
    by_locale: dict[str, float]
    recall: dict[str, float]
    precision: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def measure_accuracy(rows: list[tuple[str, str, str]]) -> Accuracy:
    """Accuracy on ``(locale, label, text)`` rows, the locale given (not detected)."""
    read = [(locale, label, classify(text, locale).label) for locale, label, text in rows]

    def share(keep) -> float:
        kept = [got == label for locale, label, got in read if keep(locale, label, got)]
        return round(sum(kept) / len(kept), 3) if kept else 0.0

    return Accuracy(
        n=len(rows),
        accuracy=share(lambda *_: True),
        by_locale={
            loc: share(lambda locale, *_, loc=loc: locale == loc)
            for loc in sorted({r[0] for r in read})
        },
        recall={lab: share(lambda _, label, __, lab=lab: label == lab) for lab in LABELS},
        precision={lab: share(lambda _, __, got, lab=lab: got == lab) for lab in LABELS},
    )
