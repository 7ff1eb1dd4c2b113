"""Customer comments of a prototype: filtered, sorted into the codebook's themes, with sentiment.

The SQL (``insights.sql.COMMENTS_SQL``) selects the comments with their context (version,
variant, store, screen) and leaves out team and preview sessions; the text work (themes,
sentiment, suggestions) runs on the comments only, never per event. Comments were redacted at
ingest (``feedback.privacy``): they are shown verbatim, and escaped by whoever draws HTML.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING

from errors import InvalidInputError, UnknownPrototypeError
from insights.codebook import Codebook, Term, load_codebook, word_forms, words
from insights.sentiment import LABELS, classify
from insights.sql import COMMENTS_SQL
from prototypes.library import has_prototype, unknown_prototype_message

if TYPE_CHECKING:
    from lab import Lab

NO_THEME = "(none)"
MAX_COMMENTS = 20_000  # a viewer, not an export: `storelab feedback export` has them all


@dataclass(frozen=True)
class CommentFilter:
    """What the viewer is narrowed to; None means "all"."""

    prototype: str
    version: int | None = None
    variant: str | None = None
    store: str | None = None
    screen: str | None = None
    theme: str | None = None
    sentiment: str | None = None
    search: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> CommentFilter:
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Comment:
    """One comment with its context, themes and sentiment."""

    event_id: str
    ts: str
    session_id: str
    version: int
    variant: str
    store_id: str
    device: str
    screen: str | None
    task: str | None
    text: str
    themes: tuple[str, ...]
    sentiment: str
    score: float
    locale: str

    def to_dict(self) -> dict:
        out = asdict(self)
        out["themes"] = list(self.themes)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Comment:
        return cls(**{**data, "themes": tuple(data["themes"])})


@dataclass(frozen=True)
class ThemeCount:
    """How many comments of one group (a variant or a version) carry one theme."""

    theme: str
    by: str  # "variant" or "version"
    group: str
    count: int
    comments: int  # comments in the group, the denominator of a share

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ThemeCount:
        return cls(**data)


@dataclass(frozen=True)
class Suggestion:
    """A candidate theme: a frequent keyword of comments that match no theme yet."""

    keyword: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"keyword": self.keyword, "count": self.count, "examples": list(self.examples)}

    @classmethod
    def from_dict(cls, data: dict) -> Suggestion:
        return cls(data["keyword"], int(data["count"]), tuple(data["examples"]))


@dataclass(frozen=True)
class CommentsReport:
    """The comments the filter selects, their theme counts and the theme suggestions."""

    filter: CommentFilter
    codebook: Codebook
    comments: tuple[Comment, ...]
    counts: tuple[ThemeCount, ...] = ()
    sentiments: dict[str, int] = field(default_factory=dict)
    suggestions: tuple[Suggestion, ...] = ()
    truncated: bool = False

    def theme_label(self, theme: str, locale: str = "en") -> str:
        if theme == NO_THEME:
            return "no theme" if locale == "en" else "kein Thema"
        return self.codebook.theme(theme).label_for(locale)

    def counts_by(self, by: str) -> dict[str, dict[str, int]]:
        """{group: {theme: count}} for ``by`` = "variant" or "version"."""
        out: dict[str, dict[str, int]] = {}
        for c in self.counts:
            if c.by == by:
                out.setdefault(c.group, {})[c.theme] = c.count
        return out

    def quotes(self, theme: str, n: int = 3) -> list[Comment]:
        """Up to ``n`` different comments of a theme, the most clearly felt first."""
        ranked = sorted(
            (c for c in self.comments if theme in c.themes),
            key=lambda c: (-abs(c.score), c.ts),
        )
        distinct: dict[str, Comment] = {}
        for c in ranked:
            distinct.setdefault(c.text.strip().casefold(), c)
        return list(distinct.values())[:n]

    def to_dict(self) -> dict:
        return {
            "filter": self.filter.to_dict(),
            "codebook": self.codebook.source,
            "themes": [t.to_dict() for t in self.codebook.themes],
            "total": len(self.comments),
            "truncated": self.truncated,
            "sentiments": dict(self.sentiments),
            "counts": [c.to_dict() for c in self.counts],
            "suggestions": [s.to_dict() for s in self.suggestions],
            "comments": [c.to_dict() for c in self.comments],
        }


def read_comments(lab: Lab, flt: CommentFilter, codebook: Codebook) -> tuple[list[Comment], bool]:
    """The comments the SQL part of the filter selects, with themes and sentiment."""
    from feedback.store import connect

    params = {
        "prototype": flt.prototype,
        "version": flt.version,
        "variant": flt.variant,
        "store": flt.store,
        "screen": flt.screen,
        "search": flt.search or None,
    }
    with connect(lab) as con:
        rows = con.execute(COMMENTS_SQL + f" LIMIT {MAX_COMMENTS + 1}", params).fetchall()
    default = lab.config.lab.locale
    out = []
    read: dict[str, tuple] = {}  # the same text is read once (kiosk comments repeat)
    for row in rows[:MAX_COMMENTS]:
        event_id, ts, session, _, version, variant, store, device, screen, task, _, text = row
        if text not in read:
            read[text] = (classify(text, default=default), codebook.match(text))
        mood, themes = read[text]
        out.append(
            Comment(
                event_id=event_id,
                ts=ts.isoformat() if isinstance(ts, datetime) else str(ts),
                session_id=session,
                version=int(version),
                variant=variant,
                store_id=store,
                device=device,
                screen=screen,
                task=task,
                text=text,
                themes=themes,
                sentiment=mood.label,
                score=mood.score,
                locale=mood.locale,
            )
        )
    return out, len(rows) > MAX_COMMENTS


def theme_counts(comments: list[Comment], theme_ids: tuple[str, ...]) -> list[ThemeCount]:
    """Per variant and per version: comments per theme (and without one), with group sizes."""
    out: list[ThemeCount] = []
    for by, key in (("variant", lambda c: c.variant), ("version", lambda c: f"v{c.version}")):
        groups: dict[str, list[Comment]] = {}
        for c in comments:
            groups.setdefault(key(c), []).append(c)
        for group in sorted(groups):
            members = groups[group]
            tally = Counter(t for c in members for t in c.themes)
            tally[NO_THEME] = sum(1 for c in members if not c.themes)
            for theme in (*theme_ids, NO_THEME):
                out.append(ThemeCount(theme, by, group, tally.get(theme, 0), len(members)))
    return out


def suggest_themes(
    comments: list[Comment], top: int = 8, min_count: int = 2, examples: int = 3
) -> list[Suggestion]:
    """Candidate themes: ``yake`` keywords of the comments no theme matches, per language,
    with how many of those comments contain each (by lemma) and a few of them as examples."""
    import yake

    loose = [c for c in comments if not c.themes]
    found: list[tuple[int, float, Suggestion]] = []
    seen: set[frozenset[str]] = set()
    for locale in ("de", "en"):
        texts = [c.text for c in loose if c.locale == locale]
        if not texts:
            continue
        extractor = yake.KeywordExtractor(lan=locale, n=2, top=top * 3)
        for keyword, weight in extractor.extract_keywords("\n".join(texts)):
            term = Term.keyword(keyword)
            hits = [t for t in texts if _contains(term, t)]
            distinct = list(dict.fromkeys(hits))
            key = frozenset(hits)
            if len(hits) < min_count or key in seen:
                continue  # rare, or the same comments as a better keyword
            seen.add(key)
            suggestion = Suggestion(keyword, len(hits), tuple(distinct[:examples]))
            found.append((len(hits), float(weight), suggestion))
    found.sort(key=lambda f: (-f[0], f[1]))
    return [s for _, _, s in found[:top]]


def _contains(term: Term, text: str) -> bool:
    ws = words(text)
    return term.found_in([word_forms(w) for w in ws], [w.lower() for w in ws])


def analyse_comments(
    lab: Lab, flt: CommentFilter, codebook: Codebook | None = None
) -> CommentsReport:
    """The comments report of a prototype: filtered comments, theme counts, suggestions.

    Counts and suggestions are over the comments the filter selects; the theme and sentiment
    filters apply after the text work (they are not columns of the event table).
    """
    if not has_prototype(lab, flt.prototype):
        raise UnknownPrototypeError(unknown_prototype_message(lab, flt.prototype))
    book = codebook or load_codebook(lab)
    if flt.theme is not None and flt.theme != NO_THEME:
        book.theme(flt.theme)  # an unknown theme is an error naming the known ones
    if flt.sentiment is not None and flt.sentiment not in LABELS:
        raise InvalidInputError(
            f"Unknown sentiment {flt.sentiment!r}: use one of {', '.join(LABELS)}."
        )
    comments, truncated = read_comments(lab, flt, book)
    if flt.theme == NO_THEME:
        comments = [c for c in comments if not c.themes]
    elif flt.theme is not None:
        comments = [c for c in comments if flt.theme in c.themes]
    if flt.sentiment is not None:
        comments = [c for c in comments if c.sentiment == flt.sentiment]
    moods = Counter(c.sentiment for c in comments)
    return CommentsReport(
        filter=flt,
        codebook=book,
        comments=tuple(comments),
        counts=tuple(theme_counts(comments, book.ids)),
        sentiments={label: moods.get(label, 0) for label in LABELS},
        suggestions=tuple(suggest_themes(comments)),
        truncated=truncated,
    )
