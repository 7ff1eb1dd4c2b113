"""Screen snapshots of a prototype version: where they live in the lab and what their manifest says.

``storelab prototype snapshot`` (``prototypes.runtime.snapshot.take_snapshots``) renders every
screen of one version for one device with headless chromium into
``<lab>/snapshots/<prototype>/v<N>/<device>/<screen>.png`` and writes ``manifest.json`` next to
the pictures: the viewport, and per screen the boxes of its tappable elements.

The frame is the runtime's tap frame (``prototypes.runtime.taps``), the *page* frame: a point
is ``(clientX / innerWidth, (clientY + scroll offset) / page height)``, where the page is the
content of the runtime's scrolling section (``PAGE_FRAME_JS``), as tall as its content and not
as the viewport: the same element has the same y on a short and on a tall phone of one width.
A picture is the whole page (``ScreenShot.height`` CSS px tall, longer or shorter than a
viewport), so a normalised tap ``(x, y)`` lands on pixel ``(x · width, y · height)`` of its
screen's PNG, on a phone and on a kiosk alike, scrolled or not. Boxes are in the same frame.
Manifests written before the page frame say ``frame: viewport`` and have no screen heights:
their pictures are one viewport, as their taps were.

This module reads and writes manifests only (no browser, no heavy imports): the tap maps in
``insights`` and the reports use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import InvalidInputError
from prototypes.fields import ID_RE, MAX_ID_LEN
from prototypes.library import prototype_dir
from prototypes.spec import BASE_VARIANT

if TYPE_CHECKING:
    from lab import Lab

SNAPSHOTS_DIR = "snapshots"
MANIFEST = "manifest.json"
PAGE_FRAME_JS = """
const slPage = (w) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return { top: w.scrollY || 0, height: w.innerHeight };
  const top = main.scrollTop - main.getBoundingClientRect().top;
  const block = main.querySelector('[data-testid="stMainBlockContainer"]');
  const content = block && block.firstElementChild;
  const height = content ? content.getBoundingClientRect().bottom + top : main.scrollHeight;
  return { top, height: Math.max(height, 1) };
};
"""
"""The page frame in the browser: ``top`` is added to a point's clientY (the scroll offset of
Streamlit's scrolling section ``stMain``, minus where it starts), ``height`` divides it: down
to the content's bottom, *not* stretched to the viewport (the block has ``min-height: 100vh``),
so a point's y does not depend on how tall the phone is. One snippet
for the capture and the snapshots: one frame for both."""

VIEWPORTS: dict[str, tuple[int, int]] = {"phone": (390, 844), "kiosk": (1920, 1080)}
"""Viewport (width, height) in CSS pixels per device: what the browser suite uses too."""


@dataclass(frozen=True)
class Box:
    """An element's box in the tap frame: left, top, width, height as shares of the page."""

    element: str
    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether the point lies inside the box (grown by ``margin`` on every side)."""
        return (
            self.x - margin <= x <= self.x + self.w + margin
            and self.y - margin <= y <= self.y + self.h + margin
        )

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def to_dict(self) -> dict[str, Any]:
        return {"element": self.element, "x": self.x, "y": self.y, "w": self.w, "h": self.h}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Box:
        return cls(
            str(data["element"]),
            float(data["x"]),
            float(data["y"]),
            float(data["w"]),
            float(data["h"]),
        )


@dataclass(frozen=True)
class ScreenShot:
    """One rendered screen: its PNG (relative to the manifest's folder) and element boxes."""

    screen: str
    image: str
    boxes: tuple[Box, ...] = ()
    height: int | None = None
    """The picture's (the page's) height in CSS px; None: one viewport (older manifests)."""

    def box(self, element: str) -> Box | None:
        """The box of one element, None when it has none (not rendered, not tappable)."""
        return next((b for b in self.boxes if b.element == element), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "screen": self.screen,
            "image": self.image,
            "boxes": [b.to_dict() for b in self.boxes],
            "height": self.height,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreenShot:
        height = data.get("height")
        return cls(
            str(data["screen"]),
            str(data["image"]),
            tuple(Box.from_dict(b) for b in data.get("boxes", [])),
            int(height) if height else None,
        )


@dataclass(frozen=True)
class SnapshotManifest:
    """What one ``prototype snapshot`` run rendered: prototype, version, device, viewport."""

    prototype_id: str
    version: int
    device: str
    width: int
    height: int
    frame: str = "page"
    screens: tuple[ScreenShot, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    """Screens that did not render, with the reason (the others are kept)."""
    variant: str = BASE_VARIANT
    """The variant whose layout the pictures show (a variant may move or add elements)."""

    def screen(self, screen_id: str) -> ScreenShot | None:
        return next((s for s in self.screens if s.screen == screen_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prototype_id": self.prototype_id,
            "version": self.version,
            "device": self.device,
            "viewport": {"width": self.width, "height": self.height},
            "frame": self.frame,
            "variant": self.variant,
            "screens": [s.to_dict() for s in self.screens],
            "failed": dict(self.failed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotManifest:
        return cls(
            prototype_id=str(data["prototype_id"]),
            version=int(data["version"]),
            device=str(data["device"]),
            width=int(data["viewport"]["width"]),
            height=int(data["viewport"]["height"]),
            frame=str(data.get("frame", "viewport")),
            screens=tuple(ScreenShot.from_dict(s) for s in data.get("screens", [])),
            failed={str(k): str(v) for k, v in (data.get("failed") or {}).items()},
            variant=str(data.get("variant") or BASE_VARIANT),
        )


def check_device(device: str) -> str:
    """``device`` when it is one the snapshots know (phone, kiosk), else one clear error."""
    if device not in VIEWPORTS:
        raise InvalidInputError(f"--device must be phone or kiosk, not {device!r}.")
    return device


def snapshot_dir(
    lab: Lab, prototype_id: str, version: int, device: str, variant: str | None = None
) -> Path:
    """``<lab>/snapshots/<prototype>/v<N>/<device>/`` for the base layout, and a folder
    ``variants/<variant>/`` inside it for a variant's (need not exist yet)."""
    prototype_dir(lab, prototype_id)  # checks the id before it touches a path
    folder = lab.root / SNAPSHOTS_DIR / prototype_id / f"v{int(version)}" / check_device(device)
    if variant in (None, BASE_VARIANT):
        return folder
    if not ID_RE.match(variant) or len(variant) > MAX_ID_LEN:  # never a path of its own
        raise InvalidInputError(f"{variant!r} is not a variant name.")
    return folder / "variants" / variant


def write_manifest(folder: Path, manifest: SnapshotManifest) -> Path:
    """Write ``manifest.json`` into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_manifest(
    lab: Lab, prototype_id: str, version: int, device: str, variant: str | None = None
) -> SnapshotManifest | None:
    """The manifest of a snapshot run, None when that version (and variant: default the base)
    was never snapshotted on it (or its manifest cannot be read: a tap map then draws on a
    blank frame)."""
    path = snapshot_dir(lab, prototype_id, version, device, variant) / MANIFEST
    try:
        return SnapshotManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def image_path(lab: Lab, manifest: SnapshotManifest, screen_id: str) -> Path | None:
    """The PNG of one screen of a manifest, None when it was not rendered or is gone."""
    shot = manifest.screen(screen_id)
    if shot is None:
        return None
    folder = snapshot_dir(
        lab, manifest.prototype_id, manifest.version, manifest.device, manifest.variant
    )
    path = folder / shot.image
    return path if path.is_file() else None


__all__ = [
    "MANIFEST",
    "PAGE_FRAME_JS",
    "SNAPSHOTS_DIR",
    "VIEWPORTS",
    "Box",
    "ScreenShot",
    "SnapshotManifest",
    "check_device",
    "image_path",
    "read_manifest",
    "snapshot_dir",
    "write_manifest",
]
