"""The prototype runtime: a Streamlit app that lets pilot customers tap through a prototype spec.

Modules: ``app`` (the Streamlit entry; ``play_page``), ``gallery`` (``gallery_page``),
``render`` (element renderers), ``session`` (state and events), ``taps`` (browser tap capture),
``theme`` + ``style.css`` (the look), ``custom`` (custom screens), ``launch`` (``run_prototype``,
``write_qr_sheet``). Nothing heavy is imported here: ``from prototypes.runtime import launch``
stays cheap for the CLI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["gallery_page", "play_page"]


def __getattr__(name: str) -> Any:
    if name == "play_page":
        from prototypes.runtime.app import play_page

        return play_page
    if name == "gallery_page":
        from prototypes.runtime.gallery import gallery_page

        return gallery_page
    raise AttributeError(name)
