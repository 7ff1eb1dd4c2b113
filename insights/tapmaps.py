"""Tap maps: where customers tapped and misclicked on each screen, and where it is densest.

Points come from ``insights.sql`` (taps and misclicks with a position, team sessions left out),
already binned into a ``BINS`` × ``BINS`` grid over the unit square. The frame is the runtime's:
x, y are shares of the page's width and height (``prototypes.runtime.taps``; scrolling
included), the same frame as the screen snapshots (``prototypes.snapshots``), so a map holds on
a phone and on a kiosk alike and its points land on the snapshot's pixels.

Hot spot
    The density is the cell counts smoothed with a Gaussian of sd ``SIGMA`` (a share of the
    screen, zero outside it). Its highest cell is the start; a few mean-shift steps over the raw
    cells (Gaussian weights of sd ``SIGMA`` around the current centre) move it to the local
    centre of mass, so the hot spot is not stuck to a cell's middle and a cluster of points
    normal around (x, y) gives back (x, y) within about a cell (1/``BINS``). ``share`` is the
    part of the screen's points within ``2·SIGMA`` of it. None without points.

Everything here but ``build_tap_maps`` is pure: typed frozen dataclasses with ``to_dict()`` /
``from_dict()`` and numpy on at most ``BINS``² numbers per screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from errors import InvalidInputError
from insights import sql
from prototypes.library import load_lab_prototype
from prototypes.snapshots import VIEWPORTS, Box, SnapshotManifest, image_path, read_manifest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lab import Lab

BINS = 50
SIGMA = 0.03
SAMPLE_LIMIT = 2000
MEAN_SHIFT_STEPS = 8
KINDS = ("tap", "misclick")
BLANK_FRAME = {"web": "kiosk"}  # the associate tablet's landscape layout; else the device's own


@dataclass(frozen=True)
class TapFilter:
    """Which taps a map shows: one prototype version (None: current), optionally one variant,
    store, device and screen."""

    prototype_id: str
    version: int | None = None
    variant: str | None = None
    store: str | None = None
    device: str | None = None
    screen: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "prototype_id": self.prototype_id,
            "version": self.version,
            "variant": self.variant,
            "store": self.store,
            "device": self.device,
            "screen": self.screen,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TapFilter:
        return cls(
            d["prototype_id"], d.get("version"), d.get("variant"), d.get("store"),
            d.get("device"), d.get("screen"),
        )  # fmt: skip


@dataclass(frozen=True)
class DensityGrid:
    """Counts per cell: ``cells`` holds (ix, iy, n) for every non-empty cell of a bins × bins
    grid (ix from the left, iy from the top, as x and y)."""

    bins: int
    cells: tuple[tuple[int, int, int], ...] = ()

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.cells)

    def array(self) -> np.ndarray:
        """The counts as a (bins, bins) array indexed [iy, ix]."""
        out = np.zeros((self.bins, self.bins))
        for ix, iy, n in self.cells:
            out[iy, ix] += n
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"bins": self.bins, "cells": [list(c) for c in self.cells]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DensityGrid:
        return cls(int(d["bins"]), tuple((int(a), int(b), int(n)) for a, b, n in d["cells"]))


@dataclass(frozen=True)
class HotSpot:
    """The densest place of a screen, in normalised coordinates, and the share of the screen's
    points within ``2·SIGMA`` of it."""

    x: float
    y: float
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "share": self.share}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HotSpot:
        return cls(float(d["x"]), float(d["y"]), float(d["share"]))


@dataclass(frozen=True)
class TapPoint:
    """One drawn point: where, and whether it was a tap on an element or a misclick."""

    x: float
    y: float
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "kind": self.kind}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TapPoint:
        return cls(float(d["x"]), float(d["y"]), str(d["kind"]))


@dataclass(frozen=True)
class ScreenTapMap:
    """One screen on one device: counts, drawn points, densities, hot spots and its snapshot.

    ``density`` counts taps and misclicks together; ``misclick_density`` misclicks alone.
    ``image`` is the snapshot PNG's path (None: not snapshotted; draw on a blank frame of
    ``width`` × ``height``, the picture's size in CSS px: the whole page, at least a
    viewport), ``boxes`` the elements' boxes from the snapshot's manifest.
    """

    device: str
    screen: str
    taps: int
    misclicks: int
    points: tuple[TapPoint, ...]
    density: DensityGrid
    misclick_density: DensityGrid
    hot_spot: HotSpot | None
    misclick_hot_spot: HotSpot | None
    image: str | None = None
    width: int = 390
    height: int = 844
    boxes: tuple[Box, ...] = ()

    def element_at(self, spot: HotSpot | None) -> str | None:
        """The element whose box holds the spot (the smallest, when boxes nest), else None."""
        if spot is None:
            return None
        inside = [b for b in self.boxes if b.contains(spot.x, spot.y)]
        return min(inside, key=lambda b: b.w * b.h).element if inside else None

    def summary(self) -> dict[str, Any]:
        """Counts, hot spots (with the element under each) and the image: the ``--json``."""
        return {
            "device": self.device,
            "screen": self.screen,
            "taps": self.taps,
            "misclicks": self.misclicks,
            "hot_spot": self.hot_spot.to_dict() if self.hot_spot else None,
            "hot_spot_element": self.element_at(self.hot_spot),
            "misclick_hot_spot": (
                self.misclick_hot_spot.to_dict() if self.misclick_hot_spot else None
            ),
            "misclick_hot_spot_element": self.element_at(self.misclick_hot_spot),
            "image": self.image,
            "picture": {"width": self.width, "height": self.height},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "points": [p.to_dict() for p in self.points],
            "density": self.density.to_dict(),
            "misclick_density": self.misclick_density.to_dict(),
            "boxes": [b.to_dict() for b in self.boxes],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScreenTapMap:
        spot, mspot = d.get("hot_spot"), d.get("misclick_hot_spot")
        return cls(
            device=d["device"],
            screen=d["screen"],
            taps=int(d["taps"]),
            misclicks=int(d["misclicks"]),
            points=tuple(TapPoint.from_dict(p) for p in d.get("points", [])),
            density=DensityGrid.from_dict(d["density"]),
            misclick_density=DensityGrid.from_dict(d["misclick_density"]),
            hot_spot=HotSpot.from_dict(spot) if spot else None,
            misclick_hot_spot=HotSpot.from_dict(mspot) if mspot else None,
            image=d.get("image"),
            width=int(d["picture"]["width"]),
            height=int(d["picture"]["height"]),
            boxes=tuple(Box.from_dict(b) for b in d.get("boxes", [])),
        )


@dataclass(frozen=True)
class TapMapReport:
    """The tap maps of one prototype version under a filter, one per device and screen."""

    filter: TapFilter
    version: int
    maps: tuple[ScreenTapMap, ...] = ()
    missing_snapshots: tuple[str, ...] = field(default=())
    """Devices with taps but no snapshot of this version (``storelab prototype snapshot``)."""
    base_layout: tuple[str, ...] = field(default=())
    """Devices where the filter's variant has no snapshot of its own: its taps are drawn over
    the base layout, which may place elements elsewhere."""

    def snapshot_hints(self) -> list[str]:
        """What to run so every map has its own picture (the CLI, report and dashboard say it)."""
        pid, v, variant = self.filter.prototype_id, self.version, self.filter.variant
        hints = [
            f"No snapshot of version {v} on {device}: the map is drawn on a blank screen. "
            f"Run `storelab prototype snapshot {pid} --version {v} --device {device}`."
            for device in self.missing_snapshots
        ]
        hints += [
            f"No snapshot of variant {variant} (version {v}) on {device}: its taps are drawn "
            f"over the control layout. Run `storelab prototype snapshot {pid} --version {v} "
            f"--device {device} --variant {variant}`."
            for device in self.base_layout
        ]
        return hints

    def get(self, screen: str, device: str | None = None) -> ScreenTapMap | None:
        return next(
            (m for m in self.maps if m.screen == screen and device in (None, m.device)), None
        )

    def summary(self) -> dict[str, Any]:
        """What ``storelab report tapmap --json`` prints."""
        return {
            "filter": self.filter.to_dict(),
            "version": self.version,
            "screens": [m.summary() for m in self.maps],
            "missing_snapshots": list(self.missing_snapshots),
            "drawn_on_base_layout": list(self.base_layout),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "filter": self.filter.to_dict(),
            "version": self.version,
            "maps": [m.to_dict() for m in self.maps],
            "missing_snapshots": list(self.missing_snapshots),
            "drawn_on_base_layout": list(self.base_layout),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TapMapReport:
        return cls(
            TapFilter.from_dict(d["filter"]),
            int(d["version"]),
            tuple(ScreenTapMap.from_dict(m) for m in d["maps"]),
            tuple(d.get("missing_snapshots", [])),
            tuple(d.get("drawn_on_base_layout", [])),
        )


# --- pure logic --------------------------------------------------------------------------------


def cell_of(share: float, bins: int = BINS) -> int:
    """The cell a normalised coordinate falls in (as ``insights.sql`` bins it)."""
    return min(int(math.floor(share * bins)), bins - 1)


def grid_from_points(points: Iterable[tuple[float, float]], bins: int = BINS) -> DensityGrid:
    """A density grid from (x, y) points, binned exactly as the SQL bins them."""
    counts: dict[tuple[int, int], int] = {}
    for x, y in points:
        key = (cell_of(x, bins), cell_of(y, bins))
        counts[key] = counts.get(key, 0) + 1
    return DensityGrid(bins, tuple((ix, iy, n) for (ix, iy), n in sorted(counts.items())))


def _kernel(bins: int, sigma: float) -> np.ndarray:
    """(bins, bins) Gaussian weights between cell centres; rows need not sum to 1 (mass that
    would fall outside the screen is lost, so edges are not inflated)."""
    centres = (np.arange(bins) + 0.5) / bins
    d = centres[:, None] - centres[None, :]
    k = np.exp(-0.5 * (d / sigma) ** 2)
    return k / k.sum(axis=1, keepdims=True).max()


def smoothed(grid: DensityGrid, sigma: float = SIGMA) -> np.ndarray:
    """The grid's counts smoothed by a Gaussian of sd ``sigma`` (shares), indexed [iy, ix]."""
    k = _kernel(grid.bins, sigma)
    return k @ grid.array() @ k.T


def hot_spot(grid: DensityGrid, sigma: float = SIGMA) -> HotSpot | None:
    """The argmax of the smoothed density, refined by mean shift over the raw cells."""
    counts = grid.array()
    total = counts.sum()
    if total <= 0:
        return None
    smooth = smoothed(grid, sigma)
    iy, ix = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    centres = (np.arange(grid.bins) + 0.5) / grid.bins
    cx, cy = float(centres[ix]), float(centres[iy])
    for _ in range(MEAN_SHIFT_STEPS):
        w = counts * np.exp(
            -0.5 * (((centres[None, :] - cx) ** 2 + (centres[:, None] - cy) ** 2) / sigma**2)
        )
        mass = w.sum()
        if mass <= 0:
            break
        nx = float((w.sum(axis=0) * centres).sum() / mass)
        ny = float((w.sum(axis=1) * centres).sum() / mass)
        if abs(nx - cx) < 1e-4 and abs(ny - cy) < 1e-4:
            cx, cy = nx, ny
            break
        cx, cy = nx, ny
    near = (centres[None, :] - cx) ** 2 + (centres[:, None] - cy) ** 2 <= (2 * sigma) ** 2
    share = float(counts[near].sum() / total)
    return HotSpot(round(cx, 4), round(cy, 4), round(share, 4))


def screen_map(
    device: str,
    screen: str,
    cells: Iterable[tuple[str, int, int, int]],
    points: Iterable[tuple[str, float, float]],
    bins: int = BINS,
) -> ScreenTapMap:
    """One screen's map from its (kind, ix, iy, n) cells and (kind, x, y) sampled points."""
    all_cells: dict[tuple[int, int], int] = {}
    miss_cells: dict[tuple[int, int], int] = {}
    counts = dict.fromkeys(KINDS, 0)
    for kind, ix, iy, n in cells:
        counts[kind] = counts.get(kind, 0) + int(n)
        all_cells[(ix, iy)] = all_cells.get((ix, iy), 0) + int(n)
        if kind == "misclick":
            miss_cells[(ix, iy)] = miss_cells.get((ix, iy), 0) + int(n)
    density = DensityGrid(bins, tuple((a, b, n) for (a, b), n in sorted(all_cells.items())))
    misses = DensityGrid(bins, tuple((a, b, n) for (a, b), n in sorted(miss_cells.items())))
    return ScreenTapMap(
        device=device,
        screen=screen,
        taps=counts["tap"],
        misclicks=counts["misclick"],
        points=tuple(TapPoint(float(x), float(y), kind) for kind, x, y in points),
        density=density,
        misclick_density=misses,
        hot_spot=hot_spot(density),
        misclick_hot_spot=hot_spot(misses),
    )


# --- reading the store -------------------------------------------------------------------------


def build_tap_maps(lab: Lab, flt: TapFilter) -> TapMapReport:
    """The tap maps of a prototype version (default: current) under the filter, each with the
    snapshot of its screen on its device when one was taken."""
    from feedback.store import connect

    proto = load_lab_prototype(lab, flt.prototype_id)
    version = proto.current_version if flt.version is None else flt.version
    if version not in proto.version_numbers:
        raise InvalidInputError(
            f"Prototype {proto.id!r} has no version {version}; "
            f"versions: {', '.join(map(str, proto.version_numbers))}."
        )
    if flt.device is not None and flt.device not in ("phone", "kiosk", "web"):
        raise InvalidInputError(f"--device must be phone or kiosk, not {flt.device!r}.")
    params = {**flt.to_dict(), "prototype": proto.id, "version": version}
    params.update(bins=BINS, limit=SAMPLE_LIMIT)
    with connect(lab) as con:
        cells = sql.tap_cells(con, params)
        sample = sql.tap_sample(con, params)
    by_screen: dict[tuple[str, str], tuple[list, list]] = {}
    for device, screen, kind, ix, iy, n in cells:
        by_screen.setdefault((device, screen), ([], []))[0].append((kind, ix, iy, n))
    for device, screen, kind, x, y in sample:
        by_screen.setdefault((device, screen), ([], []))[1].append((kind, x, y))
    manifests = {  # one read per device, not per screen
        device: _manifest(lab, proto.id, version, device, flt.variant)
        for device in {device for device, _screen in by_screen}
    }
    maps, missing, base_layout = [], [], []
    for (device, screen), (c, p) in sorted(by_screen.items()):
        one = screen_map(device, screen, c, p)
        manifest = manifests[device]
        if manifest is None:  # a blank frame in the device's own shape
            missing.append(device)
            maps.append(_with_snapshot(one, None, *VIEWPORTS[BLANK_FRAME.get(device, device)], ()))
            continue
        if flt.variant not in (None, manifest.variant):
            base_layout.append(device)
        shot = manifest.screen(screen)
        image = image_path(lab, manifest, screen)
        height = (shot.height if shot else None) or manifest.height  # the page's picture
        maps.append(
            _with_snapshot(one, str(image) if image else None, manifest.width,
                           height, shot.boxes if shot else ())
        )  # fmt: skip
    return TapMapReport(
        flt, version, tuple(maps), tuple(sorted(set(missing))), tuple(sorted(set(base_layout)))
    )


def _manifest(
    lab: Lab, prototype_id: str, version: int, device: str, variant: str | None
) -> SnapshotManifest | None:
    """The snapshot to draw on: the variant's own when taken, else the base layout's."""
    if device == "web":
        return None
    own = read_manifest(lab, prototype_id, version, device, variant) if variant else None
    return own or read_manifest(lab, prototype_id, version, device)


@dataclass(frozen=True)
class TapOptions:
    """What a prototype's taps can be filtered by: per version its devices (most taps first),
    screens (per device), variants and stores, for the dashboard's pickers."""

    versions: tuple[int, ...] = ()
    devices: dict[int, tuple[str, ...]] = field(default_factory=dict)
    screens: dict[tuple[int, str], tuple[str, ...]] = field(default_factory=dict)
    variants: dict[int, tuple[str, ...]] = field(default_factory=dict)
    stores: dict[int, tuple[str, ...]] = field(default_factory=dict)


def tap_options(lab: Lab, prototype_id: str) -> TapOptions:
    """Which versions, devices, screens, variants and stores have positioned taps."""
    from feedback.store import connect

    proto = load_lab_prototype(lab, prototype_id)
    with connect(lab) as con:
        rows = sql.tap_options(con, proto.id)
    sets: dict[str, dict[Any, set[str]]] = {k: {} for k in ("d", "s", "v", "st")}
    taps_on: dict[str, int] = {}
    for version, device, screen, variant, store, n in rows:
        taps_on[device] = taps_on.get(device, 0) + n
        sets["d"].setdefault(version, set()).add(device)
        sets["s"].setdefault((version, device), set()).add(screen)
        sets["v"].setdefault(version, set()).add(variant)
        sets["st"].setdefault(version, set()).add(store)

    def frozen(d: dict[Any, set[str]]) -> dict[Any, tuple[str, ...]]:
        return {k: tuple(sorted(v)) for k, v in d.items()}

    devices = {  # the device with the most taps first: the picker's default
        v: tuple(sorted(ds, key=lambda d: (-taps_on[d], d))) for v, ds in sets["d"].items()
    }
    return TapOptions(
        tuple(sorted(sets["d"])), devices, frozen(sets["s"]), frozen(sets["v"]),
        frozen(sets["st"]),
    )  # fmt: skip


def _with_snapshot(
    m: ScreenTapMap, image: str | None, width: int, height: int, boxes: tuple[Box, ...]
) -> ScreenTapMap:
    from dataclasses import replace

    return replace(m, image=image, width=width, height=height, boxes=boxes)


__all__ = [
    "BINS",
    "SIGMA",
    "DensityGrid",
    "HotSpot",
    "ScreenTapMap",
    "TapFilter",
    "TapMapReport",
    "TapOptions",
    "TapPoint",
    "build_tap_maps",
    "cell_of",
    "grid_from_points",
    "hot_spot",
    "screen_map",
    "smoothed",
    "tap_options",
]
