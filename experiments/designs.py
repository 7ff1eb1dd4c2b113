"""How the stores of a unit=store experiment are assigned to variants: random, stratified,
matched. Every design is drawn with a seed that is recorded in the spec.

- ``random``: the stores shuffled and dealt to the variants in turn (complete randomisation,
  equal group sizes up to one).
- ``stratified``: the same within each stratum of a ``stores.csv`` column (``region`` or
  ``format``), the turn carried on from one stratum to the next so that the totals stay
  balanced; every stratum gets every variant as evenly as it can.
- ``matched``: the stores sorted by their pre-period KPI mean and cut into blocks of as many
  stores as there are variants (pairs for two), each block randomised on its own; stores that
  do not fill a last block are left out (and named).

The analysis permutes only within strata or pairs (``ExperimentSpec.blocks``), as the design
randomised. This module is pure: the command layer reads the stores (``lab.lab_stores``) and,
for ``matched``, the pre-period means (``experiments.kpis.pre_period_means``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from errors import InvalidInputError

STRATA_COLUMNS = ("region", "format")


@dataclass(frozen=True)
class Assignment:
    """Which stores run which variant, and how that was drawn (the spec's design keys)."""

    stores: dict[str, list[str]]
    design: str = "random"
    seed: int | None = None
    strata_by: str | None = None
    strata: dict[str, list[str]] = field(default_factory=dict)
    pairs: list[list[str]] = field(default_factory=list)
    matched_on: str | None = None
    left_out: list[str] = field(default_factory=list)

    def spec_fields(self) -> dict:
        """The keys this assignment adds to an experiment spec."""
        out: dict = {"stores": self.stores, "design": self.design, "seed": self.seed}
        if self.design == "stratified":
            out.update(strata_by=self.strata_by, strata=self.strata)
        if self.design == "matched":
            out.update(pairs=self.pairs, matched_on=self.matched_on)
        return out


def _deal(stores: Sequence[str], variants: Sequence[str], rng: random.Random, start: int = 0):
    """Shuffle ``stores`` and deal them to ``variants`` in turn, beginning at ``start``."""
    shuffled = list(stores)
    rng.shuffle(shuffled)
    out: dict[str, list[str]] = {v: [] for v in variants}
    for i, store in enumerate(shuffled):
        out[variants[(start + i) % len(variants)]].append(store)
    return out, (start + len(shuffled)) % len(variants)


def random_design(store_ids: Sequence[str], variants: Sequence[str], seed: int) -> Assignment:
    """Complete randomisation: shuffled stores dealt to the variants in turn."""
    dealt, _ = _deal(store_ids, variants, random.Random(seed))
    return Assignment({v: sorted(s) for v, s in dealt.items()}, "random", seed)


def stratified_design(
    strata_of: Mapping[str, str], variants: Sequence[str], seed: int, by: str
) -> Assignment:
    """Randomise within each stratum (``strata_of``: store -> its region or format)."""
    rng = random.Random(seed)
    strata: dict[str, list[str]] = {}
    for store, stratum in strata_of.items():
        strata.setdefault(stratum, []).append(store)
    stores: dict[str, list[str]] = {v: [] for v in variants}
    turn = 0
    for name in sorted(strata):
        dealt, turn = _deal(strata[name], variants, rng, turn)
        for v, chosen in dealt.items():
            stores[v] += chosen
    return Assignment(
        {v: sorted(s) for v, s in stores.items()},
        "stratified",
        seed,
        strata_by=by,
        strata={name: sorted(strata[name]) for name in sorted(strata)},
    )


def matched_design(
    pre_means: Mapping[str, float], variants: Sequence[str], seed: int, kpi: str
) -> Assignment:
    """Blocks of alike stores (sorted by pre-period mean), randomised within each block."""
    rng = random.Random(seed)
    ordered = sorted(pre_means, key=lambda s: (pre_means[s], s))
    size = len(variants)
    usable = len(ordered) - len(ordered) % size
    pairs = [ordered[i : i + size] for i in range(0, usable, size)]
    stores: dict[str, list[str]] = {v: [] for v in variants}
    for pair in pairs:
        dealt, _ = _deal(pair, variants, rng)
        for v, chosen in dealt.items():
            stores[v] += chosen
    return Assignment(
        {v: sorted(s) for v, s in stores.items()},
        "matched",
        seed,
        pairs=[sorted(p) for p in pairs],
        matched_on=kpi,
        left_out=ordered[usable:],
    )


def check_design_inputs(
    design: str, stores: Sequence[str], variants: Sequence[str], *, strata_by: str | None,
    pre_means: Mapping[str, float] | None,
) -> None:  # fmt: skip
    """Refuse a design that cannot be drawn, with what to do instead."""
    if design not in ("random", "stratified", "matched"):
        raise InvalidInputError(f"--design must be random, stratified or matched, not {design!r}")
    if design == "stratified" and strata_by not in STRATA_COLUMNS:
        raise InvalidInputError(
            f"--design stratified needs --strata region or --strata format, not {strata_by!r}"
        )
    if design == "matched":
        missing = [s for s in stores if pre_means is None or s not in pre_means]
        if missing:
            raise InvalidInputError(
                "--design matched builds pairs from the stores' pre-period KPI, but "
                f"{', '.join(missing)} ha{'s' if len(missing) == 1 else 've'} no values in the "
                "28 days before the start. Import store KPIs first: `storelab feedback "
                "import-kpis FILE.csv` (store_id,date,metric,value)."
            )
    if len(stores) < 2 * len(variants) and design != "random":
        raise InvalidInputError(
            f"--design {design} needs at least {2 * len(variants)} stores; the lab lists "
            f"{len(stores)}"
        )
