"""The catalogue of measures: every instrument and every metric, defined once.

An **instrument** is a questionnaire a prototype can ask (SUS, SEQ, NPS, …): its items with
their German and English wording, the answer scale and its anchors, and the scoring rule that
turns a session's answers into one score. A **metric** is what an experiment compares: its kind,
direction, labels, unit, whether its scale can cross zero, and how one session's value is
computed. Every instrument with a scale is also a metric of the same id.

Everything else reads from here: spec validation and the runtime's question screens
(``prototypes``), the metric SQL (``experiments.metrics``), the simulator (``sample_data``) and
the report labels (``reports``). Adding an instrument or a metric is one ``add`` call or one
entry below; ``CATALOGUE.extended(...)`` adds entries for a while (the tests use it).

Scoring rules are data, not code, so the SQL and the simulator compute the same thing:

- *linear*: every item must be answered on its scale; score = ``factor · Σ (offset + weight · r)``
  over the items (SUS: odd items ``r − 1``, even items ``5 − r``, factor 2.5).
- *buckets*: a single item; the score is the first bucket whose ``at_least`` the answer reaches
  (NPS: 9–10 → 100, 7–8 → 0, 0–6 → −100).

A metric that is not an instrument names an aggregate SQL expression over one session's rows:
``source="events"`` aggregates the session's events (columns of the ``events`` table),
``source="tasks"`` aggregates its task runs (``task``, ``started_at``, ``ended_at``: the first
``task_success``/``task_fail``/``task_abandon``, so an abandoned task has an end too, and
``succeeded``). NULL means "no value for this session" and leaves it out of the metric.

A **ratio metric** names two aggregates instead, ``numerator_sql`` and ``denominator_sql``
(misclick rate: misclicks and taps + misclicks). Its value for a variant is the ratio of
totals ``Σ numerator / Σ denominator`` over the variant's sessions, not the mean of per-session
ratios (a session with 40 taps weighs 40 times one with a single tap), and its variance is
the delta method with sessions as the units (gbstats' ``RatioStatistic``). A session whose
denominator is 0 has no value. ``kind`` still says how values read: a proportion (shown in %)
or a mean in ``unit``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Text = Mapping[str, str]
"""Wording per locale: ``{"de": …, "en": …}``."""

LOCALES: tuple[str, ...] = ("de", "en")
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
ITEM_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}(\.[a-z0-9_]{1,20})?$")

MetricKind = Literal["proportion", "mean"]
MetricSource = Literal["events", "tasks", "instrument", "kpi"]


@dataclass(frozen=True)
class Item:
    """One question of an instrument: the id written to events and its wording.

    Its contribution to a linear score is ``offset + weight · answer``.
    """

    id: str
    text: Text
    weight: float = 1.0
    offset: float = 0.0

    @property
    def reversed(self) -> bool:
        """True for a negatively worded item (a higher answer means a worse experience)."""
        return self.weight < 0


@dataclass(frozen=True)
class Bucket:
    """Answers of at least ``at_least`` score ``score`` (the first bucket that fits wins)."""

    at_least: float
    score: float


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: items, scale, anchors, and how its answers become one score.

    ``scale`` is None for free text (``comment``): no score, no metric. ``rewordable``: a
    single-item instrument a team may reword; multi-item questionnaires keep their validated
    wording. ``per_task``: asked right after a task (SEQ), so a spec must say which task.
    """

    id: str
    name: Text
    items: tuple[Item, ...]
    scale: tuple[int, int] | None
    anchors: tuple[Text, Text] | None = None
    rewordable: bool = True
    per_task: bool = False
    factor: float = 1.0
    buckets: tuple[Bucket, ...] = ()
    higher_is_better: bool = True
    score_range: tuple[float, float] | None = None
    """(lowest, highest) score; defaults to the range the scoring rule gives."""
    description: str = ""
    kind: MetricKind = "mean"
    unit: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def scored(self) -> bool:
        """Whether answers become a score (and so a metric): everything but free text."""
        return self.scale is not None

    def in_scale(self, answer: Any) -> Any:
        """Whether ``answer`` lies on the scale (works element-wise on numpy arrays)."""
        low, high = self.scale or (0, -1)
        return (answer >= low) & (answer <= high)

    def score(self, answers: Mapping[str, Any]) -> Any:
        """The score from one answer per item (numbers or numpy arrays of equal length).

        The caller checks that every item was answered on the scale; this only applies the
        rule, with arithmetic that works element-wise on arrays.
        """
        if self.buckets:
            (value,) = (answers[i] for i in self.item_ids)
            ordered = sorted(self.buckets, key=lambda b: -b.at_least)
            total: Any = ordered[-1].score
            for upper, lower in zip(ordered, ordered[1:], strict=False):
                total = total + (value >= upper.at_least) * (upper.score - lower.score)
            return total * 1.0
        return self.factor * sum(i.offset + i.weight * answers[i.id] for i in self.items)

    @property
    def range(self) -> tuple[float, float]:
        """Lowest and highest possible score."""
        if self.score_range is not None:
            return self.score_range
        if self.buckets:
            scores = [b.score for b in self.buckets]
            return min(scores), max(scores)
        low, high = self.scale or (0, 0)
        # each item at whichever end of the scale gives its lowest (highest) contribution
        parts = [(i.offset + i.weight * low, i.offset + i.weight * high) for i in self.items]
        ends = (
            self.factor * sum(min(p) for p in parts),
            self.factor * sum(max(p) for p in parts),
        )
        return min(ends), max(ends)


@dataclass(frozen=True)
class Metric:
    """What an experiment compares, per session and then per unit.

    ``crosses_zero``: the scale can reach zero or below (NPS), so a relative effect against
    the baseline means nothing. ``sql`` is an aggregate over one session's rows of ``source``
    (see the module docstring); instrument metrics are scored from their answers instead. A
    ratio metric gives ``numerator_sql`` and ``denominator_sql`` instead of ``sql``.
    """

    id: str
    kind: MetricKind
    higher_is_better: bool
    label: Text
    description: str
    source: MetricSource
    unit: str = ""
    crosses_zero: bool = False
    sql: str | None = None
    instrument: str | None = None
    numerator_sql: str | None = None
    denominator_sql: str | None = None

    @property
    def is_ratio(self) -> bool:
        """Σ numerator / Σ denominator over sessions (delta-method variance), not a mean."""
        return self.denominator_sql is not None

    def label_in(self, locale: str = "en") -> str:
        """The label in ``locale`` (English when there is none)."""
        return self.label.get(locale) or self.label.get("en") or self.id


def instrument_metric(inst: Instrument) -> Metric:
    """The metric an instrument with a scale defines: the mean of its per-session score."""
    low, _ = inst.range
    return Metric(
        id=inst.id,
        kind=inst.kind,
        higher_is_better=inst.higher_is_better,
        label=inst.name,
        description=inst.description,
        source="instrument",
        unit=inst.unit,
        crosses_zero=low < 0,
        instrument=inst.id,
    )


@dataclass
class Catalogue:
    """Instruments and metrics by id, in the order they were added (reports keep that order)."""

    instruments: dict[str, Instrument] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    def add(self, *entries: Instrument | Metric) -> None:
        """Add instruments (each with its metric, when it is scored) and metrics."""
        for entry in entries:
            if isinstance(entry, Instrument):
                _check_instrument(entry, self)
                self.instruments[entry.id] = entry
                if entry.scored:
                    self.metrics[entry.id] = instrument_metric(entry)
            else:
                _check_metric(entry, self)
                self.metrics[entry.id] = entry

    @contextlib.contextmanager
    def extended(self, *entries: Instrument | Metric) -> Iterator[Catalogue]:
        """Add ``entries`` for the duration of a ``with`` block, then restore the catalogue."""
        saved = dict(self.instruments), dict(self.metrics)
        try:
            self.add(*entries)
            yield self
        finally:
            self.instruments, self.metrics = saved

    def instrument(self, instrument_id: str) -> Instrument:
        """The instrument ``instrument_id`` (``KeyError`` naming the known ones)."""
        try:
            return self.instruments[instrument_id]
        except KeyError:
            raise KeyError(
                f"unknown instrument {instrument_id!r}; known: {', '.join(self.instruments)}"
            ) from None

    def metric(self, metric_id: str) -> Metric:
        """The metric ``metric_id`` (``KeyError`` naming the known ones)."""
        try:
            return self.metrics[metric_id]
        except KeyError:
            raise KeyError(
                f"unknown metric {metric_id!r}; known: {', '.join(self.metrics)}"
            ) from None

    def scored_instruments(self) -> list[Instrument]:
        """Instruments whose answers become a score, in catalogue order."""
        return [i for i in self.instruments.values() if i.scored]

    def item(self, question_id: str) -> tuple[Instrument, Item] | None:
        """The instrument and item a question id in an event belongs to, if any."""
        for inst in self.instruments.values():
            for item in inst.items:
                if item.id == question_id:
                    return inst, item
        return None


def _check_instrument(inst: Instrument, cat: Catalogue) -> None:
    # Ids end up in SQL text as literals and column names: only a strict pattern is allowed.
    if not ID_RE.match(inst.id):
        raise ValueError(f"instrument id {inst.id!r} must match {ID_RE.pattern}")
    if not inst.items:
        raise ValueError(f"instrument {inst.id!r} has no items")
    for item in inst.items:
        if not ITEM_ID_RE.match(item.id):
            raise ValueError(f"item id {item.id!r} must match {ITEM_ID_RE.pattern}")
        missing = [loc for loc in LOCALES if not item.text.get(loc)]
        if missing:
            raise ValueError(f"item {item.id!r} has no text in {', '.join(missing)}")
        known = cat.item(item.id)
        if known is not None and known[0].id != inst.id:
            raise ValueError(f"item {item.id!r} already belongs to {known[0].id!r}")
    if inst.buckets and len(inst.items) != 1:
        raise ValueError(f"instrument {inst.id!r}: buckets score a single item")
    if inst.id in cat.metrics and inst.id not in cat.instruments:
        raise ValueError(f"{inst.id!r} is already a metric")


def _check_metric(metric: Metric, cat: Catalogue) -> None:
    if not ID_RE.match(metric.id):
        raise ValueError(f"metric id {metric.id!r} must match {ID_RE.pattern}")
    if metric.source == "instrument":
        raise ValueError("instrument metrics come with their instrument: add the Instrument")
    ratio = (metric.numerator_sql, metric.denominator_sql)
    if any(ratio) and (not all(ratio) or metric.sql):
        raise ValueError(
            f"ratio metric {metric.id!r} needs numerator_sql and denominator_sql (and no sql)"
        )
    if not metric.sql and not all(ratio):
        raise ValueError(f"metric {metric.id!r} needs the SQL of its per-session value")
    if metric.id in cat.instruments:
        raise ValueError(f"{metric.id!r} is already an instrument")


# --- the built-in instruments -----------------------------------------------------------------

_AGREE = (
    {"de": "Stimme überhaupt nicht zu", "en": "Strongly disagree"},
    {"de": "Stimme voll und ganz zu", "en": "Strongly agree"},
)

# System Usability Scale (Brooke 1996); German: the widely used translation by Rummel (2013).
_SUS = (
    (
        "Ich denke, dass ich das System gerne häufig benutzen würde.",
        "I think that I would like to use this system frequently.",
    ),
    ("Ich fand das System unnötig komplex.", "I found the system unnecessarily complex."),
    ("Ich fand das System einfach zu benutzen.", "I thought the system was easy to use."),
    (
        "Ich glaube, ich würde die Hilfe einer technisch versierten Person benötigen, "
        "um das System benutzen zu können.",
        "I think that I would need the support of a technical person to be able to use "
        "this system.",
    ),
    (
        "Ich fand, die verschiedenen Funktionen in diesem System waren gut integriert.",
        "I found the various functions in this system were well integrated.",
    ),
    (
        "Ich denke, das System enthielt zu viele Inkonsistenzen.",
        "I thought there was too much inconsistency in this system.",
    ),
    (
        "Ich kann mir vorstellen, dass die meisten Menschen den Umgang mit diesem System "
        "sehr schnell lernen.",
        "I would imagine that most people would learn to use this system very quickly.",
    ),
    (
        "Ich fand das System sehr umständlich zu nutzen.",
        "I found the system very cumbersome to use.",
    ),
    (
        "Ich fühlte mich bei der Benutzung des Systems sehr sicher.",
        "I felt very confident using the system.",
    ),
    (
        "Ich musste eine Menge lernen, bevor ich anfangen konnte, das System zu verwenden.",
        "I needed to learn a lot of things before I could get going with this system.",
    ),
)

BUILTIN_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument(
        id="sus",
        name={"de": "SUS-Wert", "en": "SUS score"},
        items=tuple(
            # odd items: r − 1; even (negatively worded) items: 5 − r
            Item(f"sus.q{i}", {"de": de, "en": en}, *((1.0, -1.0) if i % 2 else (-1.0, 5.0)))
            for i, (de, en) in enumerate(_SUS, start=1)
        ),
        scale=(1, 5),
        anchors=_AGREE,
        rewordable=False,
        factor=2.5,
        description="System Usability Scale, 0-100",
    ),
    Instrument(
        id="umux_lite",
        name={"de": "UMUX-Lite", "en": "UMUX-Lite"},
        items=(
            Item(
                "umux_lite.q1",
                {
                    "de": "Die Funktionen dieses Systems erfüllen meine Anforderungen.",
                    "en": "This system's capabilities meet my requirements.",
                },
                1.0,
                -1.0,
            ),
            Item(
                "umux_lite.q2",
                {
                    "de": "Dieses System ist einfach zu benutzen.",
                    "en": "This system is easy to use.",
                },
                1.0,
                -1.0,
            ),
        ),
        scale=(1, 7),
        anchors=_AGREE,
        rewordable=False,
        factor=100.0 / 12,
        description="UMUX-Lite, 0-100",
    ),
    Instrument(
        id="seq",
        name={"de": "Single Ease Question", "en": "Single Ease Question"},
        items=(
            Item(
                "seq",
                {
                    "de": "Wie schwierig oder einfach war es insgesamt, "
                    "diese Aufgabe zu erledigen?",
                    "en": "Overall, how difficult or easy was the task to complete?",
                },
            ),
        ),
        scale=(1, 7),
        anchors=(
            {"de": "Sehr schwierig", "en": "Very difficult"},
            {"de": "Sehr einfach", "en": "Very easy"},
        ),
        per_task=True,
        description="Single Ease Question, 1-7",
    ),
    Instrument(
        id="nps",
        name={"de": "NPS", "en": "NPS"},
        items=(
            Item(
                "nps",
                {
                    "de": "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen "
                    "weiterempfehlen?",
                    "en": "How likely is it that you would recommend us to a friend or colleague?",
                },
            ),
        ),
        scale=(0, 10),
        anchors=(
            {"de": "Äußerst unwahrscheinlich", "en": "Not at all likely"},
            {"de": "Äußerst wahrscheinlich", "en": "Extremely likely"},
        ),
        # promoters (9-10) count 100, passives 0, detractors -100: the mean is the NPS
        buckets=(Bucket(9, 100.0), Bucket(7, 0.0), Bucket(0, -100.0)),
        description="Net Promoter Score, -100..100",
    ),
    Instrument(
        id="csat",
        name={"de": "CSAT", "en": "CSAT"},
        items=(
            Item(
                "csat",
                {
                    "de": "Wie zufrieden sind Sie insgesamt mit Ihrem heutigen Erlebnis?",
                    "en": "Overall, how satisfied are you with your experience today?",
                },
            ),
        ),
        scale=(1, 5),
        anchors=(
            {"de": "Sehr unzufrieden", "en": "Very dissatisfied"},
            {"de": "Sehr zufrieden", "en": "Very satisfied"},
        ),
        # 4-5 count 100, the rest 0: the mean is the familiar share of satisfied customers in %
        buckets=(Bucket(4, 100.0), Bucket(1, 0.0)),
        description="CSAT, share of 4-5 answers, 0-100",
    ),
    Instrument(
        id="ces",
        name={"de": "Kundenaufwand (CES)", "en": "Customer effort (CES)"},
        items=(
            Item(
                "ces",
                {
                    "de": "Das Unternehmen hat es mir leicht gemacht, mein Anliegen zu erledigen.",
                    "en": "The company made it easy for me to handle my issue.",
                },
            ),
        ),
        scale=(1, 7),
        anchors=_AGREE,
        description="Customer Effort Score, 1-7 (7 = very easy)",
    ),
    Instrument(
        id="comment",
        name={"de": "Kommentar", "en": "Comment"},
        items=(
            Item(
                "comment",
                {
                    "de": "Möchten Sie uns noch etwas mitteilen? (freiwillig)",
                    "en": "Is there anything else you would like to tell us? (optional)",
                },
            ),
        ),
        scale=None,
        description="free text, redacted before it is stored",
    ),
)

# --- the built-in behavioural metrics ---------------------------------------------------------

BUILTIN_METRICS: tuple[Metric, ...] = (
    Metric(
        id="task_success_rate",
        kind="proportion",
        higher_is_better=True,
        label={"de": "Aufgabenerfolg", "en": "Task success rate"},
        description="share of started tasks that succeeded",
        source="tasks",
        # per started task: 1 if a task_success followed, else 0; the session's mean
        sql="avg(CASE WHEN succeeded THEN 1.0 ELSE 0.0 END) FILTER (WHERE started_at IS NOT NULL)",
    ),
    Metric(
        id="time_on_task_s",
        kind="mean",
        higher_is_better=False,
        label={"de": "Zeit pro Aufgabe", "en": "Time on task"},
        description="seconds from task start to its end: success, fail or abandon "
        "(give up, idle timeout); the mean over the session's ended tasks",
        source="tasks",
        unit="s",
        sql="avg(date_diff('millisecond', started_at, ended_at) / 1000.0) "
        "FILTER (WHERE started_at IS NOT NULL AND ended_at >= started_at)",
    ),
    Metric(
        id="misclick_rate",
        kind="proportion",
        higher_is_better=False,
        label={"de": "Fehlklickrate", "en": "Misclick rate"},
        description="misclicks / (taps + misclicks), totals over the variant's sessions",
        source="events",
        # a ratio of totals: Σ misclicks / Σ (taps + misclicks), not a mean of session ratios
        numerator_sql="count(*) FILTER (WHERE type = 'misclick')",
        denominator_sql="count(*) FILTER (WHERE type IN ('tap', 'misclick'))",
    ),
    Metric(
        id="completion_rate",
        kind="proportion",
        higher_is_better=True,
        label={"de": "Abschlussrate", "en": "Completion rate"},
        description="sessions that ended with reason 'completed'",
        source="events",
        # a CASE, not an AND: the JSON is parsed only for session_end events (an AND parsed
        # every event's props, a third of the metric query's time on 10M events)
        sql="CASE WHEN coalesce(bool_or(CASE WHEN type = 'session_end' "
        "THEN json_extract_string(props, '$.reason') = 'completed' END), false) "
        "THEN 1.0 ELSE 0.0 END",
    ),
)


def _builtin() -> Catalogue:
    cat = Catalogue()
    # Behavioural metrics first, then the instruments' metrics: the order reports use.
    cat.add(*BUILTIN_METRICS)
    cat.add(*BUILTIN_INSTRUMENTS)
    return cat


CATALOGUE: Catalogue = _builtin()
"""The catalogue every package reads. Extend it with ``CATALOGUE.add(...)``."""


__all__ = [
    "CATALOGUE",
    "Bucket",
    "Catalogue",
    "Instrument",
    "Item",
    "Metric",
    "instrument_metric",
]
