"""The lab's codebook: themes of customer comments, their keywords and lemmas in DE and EN.

``lab/codebook.yaml`` is written by ``storelab init`` and the demo from ``codebook_default.yaml``
(themes that fit retail journeys: waiting, finding products, sizes and availability, price,
staff, checkout, app and kiosk usability, recommendations) and the team edits it. It is read
through ``yamlguard`` and checked by a pydantic model; every problem names the file and line.

Matching is by lemma (``simplemma``, DE and EN): a comment word matches a keyword when one of
the word's forms (as written, its German lemma, its English lemma) equals one of the keyword's.
So ``warten`` finds "wartete" and "gewartet", ``size`` finds "sizes". A keyword ending in ``*``
matches words starting with it (German compounds: ``wartezeit*``). A phrase matches when its
words follow each other. ``lemmas:`` entries are compared with the word's forms as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from errors import InvalidInputError
from prototypes.problems import join_path
from prototypes.yaml_lines import parse_yaml

if TYPE_CHECKING:
    from lab import Lab

CODEBOOK_FILE = "codebook.yaml"
DEFAULT_CODEBOOK = Path(__file__).with_name("codebook_default.yaml")
LOCALES = ("de", "en")
WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")  # letters and digits; keeps "QR-Code" whole

Locale = Literal["de", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThemeSpec(_Strict):
    """One theme as written in the codebook."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    label: dict[Locale, str]
    keywords: dict[Locale, list[str]] = {}
    lemmas: dict[Locale, list[str]] = {}

    @field_validator("keywords", "lemmas")
    @classmethod
    def _no_blank(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for words in value.values():
            for word in words:
                if not isinstance(word, str) or not WORD.search(word):
                    raise ValueError(f"{word!r} has no letters to match")
        return value


class CodebookSpec(_Strict):
    """The file: a list of themes with unique ids, each with something to match."""

    themes: list[ThemeSpec]

    def problem(self) -> tuple[str, str] | None:
        """(spec path, message) of the first theme given twice or with nothing to match."""
        seen: set[str] = set()
        for i, theme in enumerate(self.themes):
            if theme.id in seen:
                return f"themes[{i}].id", f"theme id {theme.id!r} is given twice"
            seen.add(theme.id)
            if not any(theme.keywords.values()) and not any(theme.lemmas.values()):
                return f"themes[{i}]", f"theme {theme.id!r} has no keywords or lemmas"
        return None


# --- matching ---------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def word_forms(word: str) -> frozenset[str]:
    """The forms a word is matched by: as written, its German and its English lemma (lower)."""
    import simplemma

    low = word.lower()
    return frozenset(
        {low, simplemma.lemmatize(low, lang="de").lower(), simplemma.lemmatize(low, lang="en")}
        | {simplemma.lemmatize(word, lang="de").lower()}
    )


def words(text: str) -> list[str]:
    """The words of a text (punctuation dropped, hyphenated words kept whole)."""
    return WORD.findall(text)


@dataclass(frozen=True)
class Term:
    """One keyword: a sequence of word matchers (a set of forms, or a prefix)."""

    text: str
    parts: tuple[frozenset[str] | str, ...]

    @classmethod
    def keyword(cls, text: str) -> Term:
        ws = words(text)
        parts: list[frozenset[str] | str] = [word_forms(w) for w in ws]
        if ws and text.rstrip().endswith("*"):
            parts[-1] = ws[-1].lower()  # a prefix: German compounds ("wartezeit*")
        return cls(text, tuple(parts))

    @classmethod
    def lemma(cls, text: str) -> Term:
        return cls(text, tuple(frozenset({w.lower()}) for w in words(text)))

    def found_in(self, forms: list[frozenset[str]], lows: list[str]) -> bool:
        """Whether the term occurs in a text given as its words' forms and lower-case words."""
        n = len(self.parts)
        for start in range(len(forms) - n + 1):
            if all(
                lows[start + i].startswith(p) if isinstance(p, str) else bool(p & forms[start + i])
                for i, p in enumerate(self.parts)
            ):
                return True
        return False


@dataclass(frozen=True)
class Theme:
    """A theme ready to match: its id, labels and terms."""

    id: str
    label: dict[str, str]
    terms: tuple[Term, ...]

    def label_for(self, locale: str) -> str:
        return self.label.get(locale) or next(iter(self.label.values()), self.id)

    def to_dict(self) -> dict:
        return {"id": self.id, "label": dict(self.label), "keywords": [t.text for t in self.terms]}


@dataclass(frozen=True)
class Codebook:
    """The themes of a lab, in file order, and where they came from."""

    themes: tuple[Theme, ...]
    source: str

    @classmethod
    def of(cls, spec: CodebookSpec, source: str) -> Codebook:
        themes = []
        for t in spec.themes:
            terms = [Term.keyword(k) for loc in LOCALES for k in t.keywords.get(loc, [])]
            terms += [Term.lemma(k) for loc in LOCALES for k in t.lemmas.get(loc, [])]
            themes.append(Theme(t.id, dict(t.label), tuple(terms)))
        return cls(tuple(themes), source)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def theme(self, theme_id: str) -> Theme:
        """The theme with this id; an error listing the known ids otherwise."""
        for t in self.themes:
            if t.id == theme_id:
                return t
        known = ", ".join(self.ids) or "none"
        raise InvalidInputError(f"No theme {theme_id!r} in {self.source} (known: {known}).")

    def match(self, text: str) -> tuple[str, ...]:
        """The ids of the themes a comment matches, in codebook order."""
        ws = words(text)
        forms = [word_forms(w) for w in ws]
        lows = [w.lower() for w in ws]
        return tuple(t.id for t in self.themes if any(x.found_in(forms, lows) for x in t.terms))

    def to_dict(self) -> dict:
        return {"source": self.source, "themes": [t.to_dict() for t in self.themes]}


# --- reading ----------------------------------------------------------------------------------


def codebook_path(lab: Lab) -> Path:
    """Where a lab keeps its codebook."""
    return lab.root / CODEBOOK_FILE


def write_default_codebook(lab: Lab) -> Path:
    """Write the default codebook into the lab unless it has one; returns its path."""
    path = codebook_path(lab)
    if not path.exists():
        path.write_text(DEFAULT_CODEBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def parse_codebook(text: str, source: str) -> Codebook:
    """Check codebook YAML text; every problem names ``source`` and its line."""
    parsed = parse_yaml(text, source)
    if not parsed.readable or parsed.problems:
        p = parsed.problems[0]
        raise InvalidInputError(f"{source}, line {p.line}: {p.message}")
    if not isinstance(parsed.data, dict):
        raise InvalidInputError(f"{source}, line 1: expected a mapping with a list `themes:`")
    try:
        spec = CodebookSpec.model_validate(parsed.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ""
        for key in err["loc"]:
            if key != "[key]":  # pydantic's marker for a bad mapping key
                path = join_path(path, key)
        line = _nearest_line(parsed.lines, path)
        where = f" ({path})" if path else ""
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidInputError(f"{source}, line {line}{where}: {msg}{more}") from None
    problem = spec.problem()
    if problem:
        path, msg = problem
        line = _nearest_line(parsed.lines, path)
        raise InvalidInputError(f"{source}, line {line} ({path}): {msg}")
    return Codebook.of(spec, source)


def _nearest_line(lines: dict[str, int], path: str) -> int:
    """The line of ``path`` or of its nearest parent that the file has."""
    while path and path not in lines:
        shorter = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
        if shorter == path:
            break
        path = shorter
    return lines.get(path, 1)


def load_codebook(lab: Lab | None = None, path: Path | None = None) -> Codebook:
    """The lab's codebook (``lab/codebook.yaml``), or the default when the lab has none."""
    import yaml

    import yamlguard

    file = path or (codebook_path(lab) if lab is not None else DEFAULT_CODEBOOK)
    if not file.is_file():
        if path is not None:
            raise InvalidInputError(f"{file} does not exist.")
        file = DEFAULT_CODEBOOK
    try:
        text = yamlguard.read_text(file)
    except yaml.YAMLError as exc:
        line, reason = yamlguard.describe(exc)
        raise InvalidInputError(f"{file}, line {line}: {reason}") from None
    return parse_codebook(text, str(file))
