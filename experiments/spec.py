"""The experiment spec (``lab/experiments/<id>.yaml``): model, checks, reading and writing.

The YAML is exactly DESIGN.md's "Experiment spec". Every problem is reported with the file and
the key (``errors.InvalidInputError``). The first variant listed is the baseline every other
variant is compared with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import yamlguard
from errors import InvalidInputError, format_validation_error
from feedback.catalogue import CATALOGUE
from feedback.custom_measures import custom_name_problem, is_custom
from feedback.kpi_measures import is_kpi, kpi_name_problem

if TYPE_CHECKING:
    from experiments.designs import Assignment
    from lab import Lab

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SUFFIX = ".yaml"
PRE_PERIOD_DAYS = 28
"""Default pre-period of a store KPI: the 28 days before ``start`` (four whole weeks)."""
DESIGNS = ("random", "stratified", "matched")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantSpec(_Strict):
    """Which prototype version (and optionally which prototype variant) a variant shows."""

    version: int = Field(ge=1)
    variant: str | None = Field(None, min_length=1, description="prototype variant name")


class PrePeriod(_Strict):
    """The days before the pilot whose store KPIs adjust the comparison (both inclusive)."""

    start: date
    end: date


class ExperimentSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    hypothesis: str = Field(min_length=1)
    prototype: str = Field(min_length=1)
    unit: Literal["store", "session"]
    variants: dict[str, VariantSpec] = Field(min_length=2)
    allocation: dict[str, float]
    stores: dict[str, list[str]] | list[str] = Field(default_factory=list)
    start: date
    end: date
    primary_metric: str
    secondary_metrics: list[str] = Field(default_factory=list)
    guardrails: list[str] = Field(default_factory=list)
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, gt=0, lt=1)
    min_effect: float | None = Field(None, gt=0, description="in the primary metric's units")
    planned_sessions: int | None = Field(
        None,
        ge=2,
        description="sessions expected by the end (all variants); tunes the "
        "sequential test (unit=session), e.g. the total of `experiment power`",
    )
    pre_period: PrePeriod | None = None  # store KPIs: default the 28 days before start
    design: Literal["random", "stratified", "matched"] = "random"  # how stores were assigned
    strata_by: str | None = None  # stratified: the stores.csv column (region, format)
    strata: dict[str, list[str]] = Field(default_factory=dict)  # stratified: stratum -> stores
    pairs: list[list[str]] = Field(default_factory=list)  # matched: blocks, one store a variant
    matched_on: str | None = None  # matched: the KPI whose pre-period made the pairs
    seed: int | None = None  # the seed the store assignment was drawn with

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, variants: dict[str, VariantSpec]) -> dict[str, VariantSpec]:
        for name in variants:
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", name):
                raise ValueError(f"variant name {name!r}: use letters, digits, - and _")
        return variants

    @field_validator("allocation")
    @classmethod
    def _allocation_valid(cls, allocation: dict[str, float]) -> dict[str, float]:
        if any(share <= 0 for share in allocation.values()):
            raise ValueError("every share must be > 0")
        if abs(sum(allocation.values()) - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1, not {sum(allocation.values()):g}")
        return allocation

    @field_validator("primary_metric")
    @classmethod
    def _primary_known(cls, name: str) -> str:
        return _known_metric(name)

    @field_validator("secondary_metrics", "guardrails")
    @classmethod
    def _metrics_known(cls, names: list[str]) -> list[str]:
        for name in names:
            _known_metric(name)
        if len(set(names)) != len(names):
            raise ValueError("a metric is listed twice")
        return names

    @model_validator(mode="after")
    def _cross_checks(self) -> ExperimentSpec:
        names = list(self.variants)
        if set(self.allocation) != set(names):
            raise ValueError(
                f"allocation names {sorted(self.allocation)} must match variants {sorted(names)}"
            )
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        roles = [self.primary_metric, *self.secondary_metrics, *self.guardrails]
        if len(set(roles)) != len(roles):
            raise ValueError("a metric appears in more than one of primary/secondary/guardrails")
        if self.unit == "store":
            if not isinstance(self.stores, dict):
                raise ValueError(
                    "unit=store needs stores as a mapping variant -> list of stores, "
                    "e.g. {control: [S01, S03], treatment: [S02, S04]}"
                )
            if set(self.stores) != set(names):
                raise ValueError(f"stores names {sorted(self.stores)} must match variants {names}")
            seen: dict[str, str] = {}
            for variant, stores in self.stores.items():
                if not stores:
                    raise ValueError(f"stores.{variant} is empty")
                for store in stores:
                    if store in seen:
                        raise ValueError(
                            f"store {store} is in both {seen[store]} and {variant}; "
                            "with unit=store every store runs exactly one variant"
                        )
                    seen[store] = variant
        elif isinstance(self.stores, dict):
            raise ValueError("unit=session needs stores as a list (every store runs every variant)")
        if problem := _store_design_problem(self):
            raise ValueError(problem)
        return self

    # --- convenience -------------------------------------------------------------------------

    @property
    def baseline(self) -> str:
        """The variant every other variant is compared with: the first listed."""
        return next(iter(self.variants))

    @property
    def store_variants(self) -> dict[str, str]:
        """unit=store: store id -> variant; unit=session: empty."""
        if isinstance(self.stores, dict):
            return {s: v for v, stores in self.stores.items() for s in stores}
        return {}

    @property
    def store_list(self) -> list[str]:
        """Every store in the experiment (empty list: any store, for unit=session)."""
        if isinstance(self.stores, dict):
            return [s for stores in self.stores.values() for s in stores]
        return list(self.stores)

    @property
    def kpi_metrics(self) -> list[str]:
        """The ``kpi:<name>`` metrics of the spec, in report order."""
        return [m for m, _ in self.metric_roles() if is_kpi(m)]

    @property
    def pre_period_window(self) -> tuple[date, date]:
        """First and last day of the KPI pre-period (default: the 28 days before start)."""
        if self.pre_period is not None:
            return self.pre_period.start, self.pre_period.end
        return self.start - timedelta(days=PRE_PERIOD_DAYS), self.start - timedelta(days=1)

    @property
    def blocks(self) -> dict[str, str] | None:
        """store -> block (stratum or pair) the assignment was randomised within; None for a
        completely randomised design. Randomisation inference permutes within blocks."""
        if self.design == "stratified":
            return {s: name for name, stores in self.strata.items() for s in stores}
        if self.design == "matched":
            return {s: f"pair{i + 1}" for i, pair in enumerate(self.pairs) for s in pair}
        return None

    def metric_roles(self) -> list[tuple[str, str]]:
        """(metric, role) in report order: primary, secondary, guardrail."""
        return [
            (self.primary_metric, "primary"),
            *((m, "secondary") for m in self.secondary_metrics),
            *((m, "guardrail") for m in self.guardrails),
        ]


def _known_metric(name: str) -> str:
    if is_custom(name):
        # whether the prototype defines it is checked where both are known
        # (``prototypes.measures.check_experiment_measures``, called by the command layer)
        if problem := custom_name_problem(name):
            raise ValueError(problem)
        return name
    if is_kpi(name):
        if problem := kpi_name_problem(name):
            raise ValueError(problem)
        return name
    if name not in CATALOGUE.metrics:
        raise ValueError(
            f"unknown metric {name!r}; known: {', '.join(CATALOGUE.metrics)}, "
            "goal:<name> and question:<id>[.<option>] from the prototype, kpi:<name>"
        )
    return name


def _store_design_problem(spec: ExperimentSpec) -> str | None:
    """What is wrong with the KPI metrics, pre-period or assignment design, or None."""
    kpis = spec.kpi_metrics
    if kpis and spec.unit != "store":
        return (
            f"{kpis[0]} is a store KPI and needs unit: store (with unit=session every store "
            "runs every variant, so a store's KPI cannot tell the variants apart)"
        )
    if spec.pre_period is not None:
        if spec.pre_period.end < spec.pre_period.start:
            return f"pre_period ends ({spec.pre_period.end}) before it starts"
        if spec.pre_period.end >= spec.start:
            return f"pre_period must end before start {spec.start}, not on {spec.pre_period.end}"
    if spec.design != "random" and spec.unit != "store":
        return f"design: {spec.design} assigns stores; it needs unit: store"
    if spec.design != "stratified" and (spec.strata or spec.strata_by):
        return "strata / strata_by belong to design: stratified"
    if spec.design != "matched" and (spec.pairs or spec.matched_on):
        return "pairs / matched_on belong to design: matched"
    if spec.design == "random":
        return None
    blocks = list(spec.strata.values()) if spec.design == "stratified" else spec.pairs
    key = "strata" if spec.design == "stratified" else "pairs"
    listed = [s for block in blocks for s in block]
    if sorted(listed) != sorted(spec.store_list):
        return f"{key} must list every store of the experiment exactly once"
    if spec.design == "matched":
        variant_of = spec.store_variants
        for pair in spec.pairs:
            if sorted(variant_of[s] for s in pair) != sorted(spec.variants):
                return f"pairs: {pair} must hold exactly one store of each variant"
    return None


# --- files ------------------------------------------------------------------------------------


def experiment_path(lab: Lab, experiment_id: str) -> Path:
    return lab.experiments_dir / f"{experiment_id}{SUFFIX}"


def parse_experiment(raw: object, source: str) -> ExperimentSpec:
    """Validate already-parsed YAML; errors name ``source`` and each key."""
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{source}: expected a mapping of keys (id, hypothesis, …)")
    try:
        return ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        problems = format_validation_error(exc)
        raise InvalidInputError(f"{source}: invalid experiment spec\n{problems}") from exc


def load_experiment_file(path: Path) -> ExperimentSpec:
    """Read and check one experiment spec file (through ``yamlguard``: no anchors, aliases,
    deep nesting, control characters or files over 1 MB; the reason names file and line)."""
    try:
        raw = yamlguard.load(yamlguard.read_text(path))
    except FileNotFoundError as exc:
        raise InvalidInputError(f"{path} does not exist.") from exc
    except yaml.YAMLError as exc:
        line, reason = yamlguard.describe(exc)
        raise InvalidInputError(f"{path}, line {line}: {reason}") from exc
    return parse_experiment(raw, str(path))


def load_experiment(lab: Lab, experiment_id: str) -> ExperimentSpec:
    """Read and check ``lab/experiments/<id>.yaml``."""
    path = experiment_path(lab, experiment_id)
    if not path.is_file():
        known = ", ".join(list_experiments(lab)) or "none yet"
        raise InvalidInputError(
            f"No experiment {experiment_id!r} in {lab.experiments_dir} (known: {known}). "
            f"Create it with `storelab experiment new {experiment_id} --prototype P --unit store`."
        )
    spec = load_experiment_file(path)
    if spec.id != experiment_id:
        raise InvalidInputError(f"{path}: id: is {spec.id!r} but the file is named {path.name}")
    return spec


def list_experiments(lab: Lab) -> list[str]:
    """Ids of the experiment specs in the lab, sorted."""
    if not lab.experiments_dir.is_dir():
        return []
    return sorted(p.stem for p in lab.experiments_dir.glob(f"*{SUFFIX}") if p.is_file())


def _flow(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def render_experiment_yaml(spec: ExperimentSpec) -> str:
    """The spec as commented YAML in DESIGN.md's key order."""
    lines = [
        f"id: {spec.id}",
        f"hypothesis: {_flow(spec.hypothesis)}",
        f"prototype: {spec.prototype}",
        f"unit: {spec.unit}                  # store: each store runs one variant; "
        "session: every store runs every variant",
        "variants:                    # the first one is the baseline",
    ]
    for name, v in spec.variants.items():
        lines.append(f"  {name}: {_flow(v.model_dump(exclude_none=True))}")
    lines.append(f"allocation: {_flow(spec.allocation)}")
    if isinstance(spec.stores, dict):
        lines.append("stores:                      # which store runs which variant")
        for name, stores in spec.stores.items():
            lines.append(f"  {name}: {_flow(stores)}")
    else:
        lines.append(f"stores: {_flow(spec.stores)}            # empty: every store")
    lines += [
        f"start: {spec.start.isoformat()}",
        f"end: {spec.end.isoformat()}",
        f"primary_metric: {spec.primary_metric}",
        f"secondary_metrics: {_flow(spec.secondary_metrics)}",
        f"guardrails: {_flow(spec.guardrails)}",
        f"alpha: {spec.alpha}",
        f"power: {spec.power}",
        f"min_effect: {_flow(spec.min_effect)}             # in the primary metric's own units",
    ]
    if spec.planned_sessions is not None:
        lines.append(
            f"planned_sessions: {spec.planned_sessions}   # all variants; tunes the sequential test"
        )
    if spec.unit == "store":
        lines += _store_design_lines(spec)
    return "\n".join(lines) + "\n"


def _store_design_lines(spec: ExperimentSpec) -> list[str]:
    """unit=store: the KPI pre-period and how the stores were assigned."""
    first, last = spec.pre_period_window
    if spec.pre_period is None:
        lines = [
            "pre_period: null             # store KPIs (kpi:<name> metrics) are adjusted for "
            f"the pre-period; null: the {PRE_PERIOD_DAYS} days before start "
            f"({first.isoformat()}..{last.isoformat()})"
        ]
    else:
        lines = [
            "pre_period:                  # store KPIs (kpi:<name> metrics) are adjusted for it",
            f"  start: {first.isoformat()}",
            f"  end: {last.isoformat()}",
        ]
    lines.append(
        f"design: {spec.design}               # how stores were assigned: random | stratified "
        "| matched (the analysis permutes within strata or pairs)"
    )
    if spec.design == "stratified":
        lines.append(f"strata_by: {_flow(spec.strata_by)}")
        lines.append("strata:                      # stores randomised within each stratum")
        lines += [f"  {_flow(name)}: {_flow(stores)}" for name, stores in spec.strata.items()]
    if spec.design == "matched":
        lines.append(f"matched_on: {_flow(spec.matched_on)}")
        lines.append(
            "pairs:                       # stores alike before the pilot, randomised within"
        )
        lines += [f"  - {_flow(pair)}" for pair in spec.pairs]
    if spec.seed is not None:
        lines.append(
            f"seed: {spec.seed}                   # the seed the assignment was drawn with"
        )
    return lines


def write_experiment(lab: Lab, spec: ExperimentSpec, *, overwrite: bool = False) -> Path:
    """Write ``lab/experiments/<id>.yaml``; refuses to replace an existing file."""
    path = experiment_path(lab, spec.id)
    if path.exists() and not overwrite:
        raise InvalidInputError(f"{path} already exists; edit it, or pick another id.")
    text = render_experiment_yaml(spec)
    parse_experiment(yamlguard.load(text), str(path))  # what we write must read back
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_store_ids(lab: Lab) -> list[str]:
    """Store ids from the lab's stores.csv, in file order."""
    from lab import lab_stores

    return list(lab_stores(lab))


def ensure_new_experiment(lab: Lab, experiment_id: str) -> None:
    """Refuse an id the lab already uses (before anything is worked out for it)."""
    if experiment_path(lab, experiment_id).exists():
        raise InvalidInputError(
            f"{experiment_path(lab, experiment_id)} already exists; edit it, or pick another id."
        )


def new_experiment(
    lab: Lab,
    experiment_id: str,
    prototype: str,
    unit: str,
    *,
    arms: Mapping[str, Mapping[str, object]],
    what: str,
    instruments: Sequence[str] = (),
    start: date | None = None,
    weeks: int = 4,
    assignment: Assignment | None = None,
) -> Path:
    """A sensible first spec comparing ``arms`` of ``prototype``.

    ``arms`` maps each variant to ``{"version": n}`` (plus ``"variant"``), baseline first;
    ``what`` says in words what is compared; the first scored instrument the prototype asks
    becomes a secondary metric. ``prototypes.library.comparison_for`` gives all three, and the
    ``experiment new`` command composes the two. unit=store: ``assignment`` (drawn by
    ``experiments.designs``) says which store runs which variant and how that was drawn;
    without one the stores of stores.csv are alternated.
    """
    ensure_new_experiment(lab, experiment_id)
    stores = read_store_ids(lab)
    if unit == "store" and len(stores) < 2:
        raise InvalidInputError(
            f"{lab.stores_csv} lists {len(stores)} store(s); unit=store needs at least 2"
        )
    scored = [i for i in instruments if i in CATALOGUE.metrics]
    names = list(arms)
    begin = start or date.today()
    raw: dict = {
        "id": experiment_id,
        "hypothesis": f"Customers complete the task more often with {what}.",
        "prototype": prototype,
        "unit": unit,
        "variants": {name: dict(arm) for name, arm in arms.items()},
        "allocation": {name: 1 / len(names) for name in names},
        "stores": {name: stores[i :: len(names)] for i, name in enumerate(names)}
        if unit == "store"
        else stores,
        "start": begin,
        "end": begin + timedelta(days=7 * weeks - 1),
        "primary_metric": "task_success_rate",
        "secondary_metrics": [*scored[:1], "time_on_task_s"],
        "guardrails": ["misclick_rate"],
        "alpha": 0.05,
        "power": 0.8,
        "min_effect": 0.05,
    }
    if unit == "store" and assignment is not None:
        raw.update(assignment.spec_fields())
    spec = parse_experiment(raw, str(experiment_path(lab, experiment_id)))
    return write_experiment(lab, spec)
