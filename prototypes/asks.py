"""A prototype's own questions and goals (issue 15): what a team asks in its own words, and
which events count as a business goal.

A question of its own names a ``type`` of ``feedback.catalogue.QUESTION_TYPES`` instead of an
``instrument``::

    questions:
      - {instrument: seq, after_task: find}                  # a standard instrument
      - id: size-found                                       # single or multiple choice
        type: single_choice                                  # multiple_choice: any number
        after_task: find                                     # optional: else at the end
        text: {de: Haben Sie Ihre Größe gefunden?, en: Did you find your size?}
        options:
          - {id: "yes", label: {de: Ja, en: "Yes"}}
          - {id: "no", label: {de: Nein, en: "No"}}
      - id: stars                                            # a rating, 1-5 unless scale says
        type: rating
        text: {de: Wie gefällt Ihnen die Seite?, en: How do you like the page?}
        scale: [1, 5]
        anchors: [{de: Gar nicht, en: Not at all}, {de: Sehr, en: Very much}]
      - {id: wish, type: open_text, text: {de: Was fehlt?, en: What is missing?}}
      - id: layout                                           # a preference test: two designs
        type: preference
        text: {de: Welche Ansicht ist klarer?, en: Which view is clearer?}
        options:
          - {id: a, label: {de: Ansicht A, en: View A}, screen: product}
          - {id: b, label: {de: Ansicht B, en: View B}, screen: product-stock}  # or image: b.png
      - id: recall                                           # shown 5 s, hidden, then asked
        type: five_second
        screen: product
        seconds: 5
        text: {de: Woran erinnern Sie sich?, en: What do you remember?}
        expect: {de: [preis, reservieren], en: [price, reserve]}  # any keyword = recalled
      - id: where-reserve                                    # where do they tap first?
        type: first_click
        screen: product
        target: reserve                                      # the element that is right
        text: {de: Wo tippen Sie, um zu reservieren?, en: Where do you tap to reserve?}
    goals:                                                   # business goals, as metrics
      reserved: {screen: confirm}                            # the screen viewed
      added: {element: add-to-cart, label: {de: In den Warenkorb, en: Added to cart}}

Each becomes a metric an experiment may name (``feedback.custom_measures``):
``question:<id>.<option>`` (share choosing it; a five-second test's ``recalled``, a first-click
test's target element), ``question:<id>`` (a rating's mean) and ``goal:<name>`` (share of
sessions reaching it). ``prototypes.measures`` lists them and refuses names a prototype does
not define.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from feedback.catalogue import CATALOGUE
from feedback.question_types import QUESTION_TYPES
from prototypes.fields import Id, LocalizedText, SpecModel
from prototypes.tasks import Question, QuestionSpec

QuestionTypeName = Literal[tuple(QUESTION_TYPES)]
DEFAULT_RATING_SCALE = (1, 5)
FIVE_SECONDS = 5
SECONDS_RANGE = (1, 30)

# which of the optional keys each type uses; any other one is an error (a typo or a wrong type)
_USES: dict[str, frozenset[str]] = {
    "single_choice": frozenset({"options"}),
    "multiple_choice": frozenset({"options"}),
    "rating": frozenset({"scale", "anchors"}),
    "open_text": frozenset(),
    "preference": frozenset({"options"}),
    "five_second": frozenset({"screen", "seconds", "expect"}),
    "first_click": frozenset({"screen", "target"}),
}
_OPTIONAL = ("options", "scale", "anchors", "screen", "seconds", "expect", "target")


def _keywords(value: Any) -> Any:
    """``expect: [preis, price]`` means the same keywords in every language."""
    if isinstance(value, list | str):
        return {"*": [value] if isinstance(value, str) else value}
    return value


class Option(SpecModel):
    """One answer to tap: an id (written to events) and its label; in a preference test also
    the design it stands for, a screen of the prototype or an image file in its folder."""

    id: Id
    label: LocalizedText
    screen: Id | None = None
    image: str | None = Field(None, min_length=1)


class CustomQuestionSpec(SpecModel):
    """A question in the team's own words (``type:`` one of ``QUESTION_TYPES``)."""

    id: Id
    type: QuestionTypeName
    text: LocalizedText
    after_task: Id | None = None
    options: list[Option] | None = None
    scale: tuple[int, int] | None = None
    anchors: tuple[LocalizedText, LocalizedText] | None = None
    screen: Id | None = None
    seconds: int | None = None
    expect: (
        Annotated[dict[str, list[Annotated[str, Field(min_length=1)]]], BeforeValidator(_keywords)]
        | None
    ) = None
    target: Id | None = None

    @field_validator("id")
    @classmethod
    def _not_an_item(cls, value: str) -> str:
        if CATALOGUE.item(value) is not None:
            raise ValueError(
                f"question id {value!r} is a standard instrument's; pick another id "
                f"(or write {{instrument: {CATALOGUE.item(value)[0].id}}})"
            )
        return value

    @model_validator(mode="after")
    def _rules(self) -> CustomQuestionSpec:
        uses = _USES[self.type]
        for key in _OPTIONAL:
            if getattr(self, key) is not None and key not in uses:
                wanted = ", ".join(sorted(uses)) or "nothing beyond id, type, text, after_task"
                raise ValueError(f"a {self.type} question does not use {key!r} (it uses {wanted})")
        problem = _type_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def rating_scale(self) -> tuple[int, int]:
        """The rating scale (1-5 unless ``scale`` says otherwise)."""
        return self.scale or DEFAULT_RATING_SCALE

    @property
    def shown_seconds(self) -> int:
        """How long a five-second test shows its screen."""
        return self.seconds or FIVE_SECONDS

    def keywords(self, locale: str | None = None) -> list[str]:
        """The five-second test's keywords: those of ``locale`` and those for every language
        (None: all of them), so a German answer to an English session still counts."""
        expect = self.expect or {}
        if locale is None:
            return [k for words in expect.values() for k in words]
        return [*expect.get("*", []), *expect.get(locale, [])] or self.keywords(None)

    def option_ids(self) -> list[str]:
        return [o.id for o in self.options or []]

    def expand(self) -> list[Question]:
        """The one ``Question`` the runtime asks (``question`` in its events = ``id``)."""
        anchors = (dict(self.anchors[0]), dict(self.anchors[1])) if self.anchors else None
        return [
            Question(
                id=self.id,
                instrument=self.type,
                after_task=self.after_task,
                scale=self.rating_scale if self.type == "rating" else None,
                text=dict(self.text),
                anchors=anchors,
                custom=self,
            )
        ]


def _type_problem(q: CustomQuestionSpec) -> str | None:
    """What the type needs and ``q`` lacks, in one sentence (or None)."""
    if q.type in ("single_choice", "multiple_choice", "preference"):
        options = q.options or []
        if q.type == "preference" and len(options) != 2:
            return "a preference test compares exactly two designs: give two options"
        if len(options) < 2:
            return f"a {q.type} question needs at least two options"
        ids = [o.id for o in options]
        if len(set(ids)) != len(ids):
            twice = next(i for i in ids if ids.count(i) > 1)
            return f"option id {twice!r} is used twice"
        for o in options:
            shows = (o.screen is not None) + (o.image is not None)
            if q.type == "preference" and shows != 1:
                return f"option {o.id!r}: a design to compare needs either screen: or image:"
            if q.type != "preference" and shows:
                return f"option {o.id!r}: screen/image belong to preference tests"
    if q.type == "rating":
        low, high = q.rating_scale
        if not 0 <= low < high or high - low > 10:
            return f"scale [{low}, {high}]: from 0 or more up to at most 10 steps, low < high"
    if q.type in ("five_second", "first_click") and q.screen is None:
        return f"a {q.type} test needs the screen it shows: add 'screen: <screen id>'"
    if q.type == "five_second":
        low, high = SECONDS_RANGE
        if not low <= q.shown_seconds <= high:
            return f"seconds must be between {low} and {high}, not {q.shown_seconds}"
        if not q.keywords():
            return (
                "a five-second test needs what customers should remember: "
                "'expect: {de: [stichwort], en: [keyword]}'"
            )
    if q.type == "first_click" and q.target is None:
        return "a first-click test needs the element that is right: add 'target: <element id>'"
    return None


def question_entry(value: Any) -> Any:
    """Pick the model of one ``questions:`` entry: ``type:`` → ``CustomQuestionSpec``,
    otherwise the standard ``QuestionSpec`` (``instrument:``)."""
    if isinstance(value, dict) and "type" in value and "instrument" not in value:
        return "custom"
    return "instrument"


AnyQuestionSpec = Annotated[
    Annotated[QuestionSpec, Tag("instrument")] | Annotated[CustomQuestionSpec, Tag("custom")],
    Discriminator(question_entry),
]
"""One ``questions:`` entry: a standard instrument or a question of the team's own."""


class GoalSpec(SpecModel):
    """A business goal: reached when the customer views ``screen`` or taps ``element``
    (an element id, on any screen)."""

    screen: Id | None = None
    element: Id | None = None
    label: LocalizedText | None = None

    @model_validator(mode="after")
    def _one(self) -> GoalSpec:
        if (self.screen is None) == (self.element is None):
            raise ValueError(
                "a goal is a screen viewed or an element tapped: give exactly one of "
                "'screen: <screen id>' or 'element: <element id>'"
            )
        return self


__all__ = [
    "DEFAULT_RATING_SCALE",
    "AnyQuestionSpec",
    "CustomQuestionSpec",
    "GoalSpec",
    "Option",
    "question_entry",
]
