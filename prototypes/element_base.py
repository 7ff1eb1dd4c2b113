"""What every element of a screen has: an id, an optional ``when:`` and its links.

Its own module so that ``prototypes.elements`` (the element union and the screen) and
``prototypes.journey_elements`` (the journey and handover elements) both build on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from prototypes.fields import Id, SpecModel
from prototypes.personas import When


class ElementBase(SpecModel):
    """The fields every element has; ``type`` is each subclass's own."""

    id: Id
    when: When | None = None
    """Shown only when these conditions hold (``prototypes.personas``)."""

    def link_targets(self) -> Iterator[tuple[str, str, str]]:
        """(element id for events, target screen, spec path below the element) per link."""
        target = getattr(self, "target", None)
        if target is not None:
            yield self.id, target, "target"
