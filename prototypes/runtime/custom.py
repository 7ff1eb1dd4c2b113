"""Custom screens: the escape hatch for what the element list cannot express.

A screen may name a Python function in the prototype folder::

    screens:
      - id: size-advisor
        custom: {module: size_advisor.py, function: render, targets: [availability]}
        elements: []          # optional: elements are drawn after the custom part

(``prototypes.custom_screen.CustomScreen``; ``prototypes.validate`` checks the file without
running it.)
The runtime calls ``render(api)`` with a ``ScreenAPI`` and nothing else: no sink, no lab, no
session. Everything the function does reaches the data only through the same event API the
built-in elements use (``api.emit``, ``api.button``, ``api.go``), so every event still carries
the session's id, store, variant and version, respects consent and is marked in preview mode.
This is a convention plus a narrow surface, not an OS sandbox: the code is the product team's
own, reviewed like the rest of the prototype. See ``docs/custom-screens.md``.

The function may only go to the screens in ``custom.targets`` (what the validator and the pilot
simulator take as the screen's links); a button to a target without an ``id`` records its taps
as ``custom.<target>``, the element name the simulator uses.
"""

from __future__ import annotations

import html
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

if TYPE_CHECKING:
    from prototypes.runtime.session import CustomerSession

UNAVAILABLE = {
    "de": "Dieser Bereich ist gerade nicht verfügbar.",
    "en": "This part is not available right now.",
}
EMITTABLE = frozenset({"tap", "misclick", "answer", "comment"})
"""Event types a custom screen may write itself; the runtime owns the others."""


class ScreenHost(Protocol):
    """What a ``ScreenAPI`` draws through: the runtime's ``render.Renderer`` (which calls
    ``render_custom_screen`` with itself), or a stand-in in tests. Defined here so that this
    module needs nothing from ``render``."""

    session: CustomerSession
    locale: str
    device: str
    preview: bool
    folder: Path | None

    def plain(self, text: Any) -> str:
        """A text in the customer's language, not escaped."""
        ...

    def html(self, markup: str) -> None:
        """Draw raw HTML."""
        ...

    def key(self, kind: str, element: str) -> str:
        """A widget key for an element of the current screen."""
        ...

    def nav_button(self, label: str, element_id: str, target: str, *, style: str = ...) -> None:
        """A button that taps ``element_id`` and goes to screen ``target``."""
        ...


class ScreenAPI:
    """What a custom screen function gets. Texts are strings or ``{de: …, en: …}``."""

    def __init__(
        self, renderer: ScreenHost, screen_id: str, targets: Iterable[str] | None = None
    ) -> None:
        self._r = renderer
        self._screen = screen_id
        self._targets = None if targets is None else list(targets)
        self._n = 0
        self._used: set[str] = set()

    def _check_target(self, screen: str) -> None:
        if screen not in self._r.session.view.screens:
            raise ValueError(f"there is no screen {screen!r}")
        if self._targets is not None and screen not in self._targets:
            raise ValueError(
                f"screen {screen!r} is not in custom.targets of screen {self._screen!r} "
                f"(targets: {', '.join(self._targets) or 'none'}); add it there"
            )

    def _element(self, id: str | None, default: str) -> str:
        """An element id unique in this run (widget keys must not repeat)."""
        element = id or default
        if element in self._used:
            element = f"{element}-{self._n}"
        self._used.add(element)
        return element

    @property
    def locale(self) -> str:
        """The customer's language (``de`` or ``en``)."""
        return self._r.locale

    @property
    def device(self) -> str:
        """``kiosk`` or ``phone``."""
        return self._r.device

    @property
    def screen(self) -> str:
        """This screen's id."""
        return self._screen

    @property
    def state(self) -> dict[str, Any]:
        """A scratch dict for this screen and customer (cleared for the next customer)."""
        return self._r.session.custom_state.setdefault(self._screen, {})

    def t(self, text: str | dict[str, str]) -> str:
        """A text in the customer's language."""
        return self._r.plain(text)

    def heading(self, text: str | dict[str, str], level: int = 1) -> None:
        tag = {1: "h1", 2: "h2", 3: "h3"}.get(level, "h2")
        self._r.html(f'<{tag} class="sl-{tag}">{html.escape(self.t(text))}</{tag}>')

    def text(self, text: str | dict[str, str], style: str = "body") -> None:
        """A paragraph (``style``: body, muted or strong)."""
        style = style if style in ("body", "muted", "strong") else "body"
        self._r.html(f'<p class="sl-text {style}">{html.escape(self.t(text))}</p>')

    def button(
        self,
        label: str | dict[str, str],
        target: str | None = None,
        *,
        id: str | None = None,
        style: str = "primary",
    ) -> bool:
        """A button. With ``target`` (one of ``custom.targets``): goes to that screen (tap +
        screen_view, as built-in buttons do; the tap's element is ``id`` or
        ``custom.<target>``). Without: records a tap and returns True in the run after it."""
        self._n += 1
        if target is not None:
            self._check_target(target)
            element = self._element(id, f"custom.{target}")
            self._r.nav_button(self.t(label), element, target, style=style)
            return False
        element = self._element(id, f"custom-{self._n}")
        key = self._r.key("btn", element)
        return st.button(
            self.t(label),
            key=key,
            type={"primary": "primary", "secondary": "secondary", "link": "tertiary"}.get(
                style, "primary"
            ),
            width="stretch",
            on_click=self._r.session.tap,
            args=(element, key),
        )

    def emit(
        self,
        type: str,
        *,
        element: str | None = None,
        value: float | None = None,
        text: str | None = None,
        question: str | None = None,
        props: dict[str, Any] | None = None,
    ) -> None:
        """Record an event of this session (``tap``, ``misclick``, ``answer``, ``comment``)."""
        if type not in EMITTABLE:
            raise ValueError(
                f"a custom screen cannot emit {type!r}; allowed: {', '.join(sorted(EMITTABLE))} "
                "(screen views, tasks and the session are recorded by the runtime)"
            )
        self._r.session.emit(
            type,
            screen=self._screen,
            element=element,
            value=value,
            text=text,
            question=question,
            props={**(props or {}), "custom": True},
        )

    def rerun(self) -> None:
        """Draw this screen again now, e.g. after a button changed ``api.state``."""
        st.rerun()

    def go(self, screen: str) -> None:
        """Go to one of ``custom.targets`` now (screen_view; a task goal counts as reached)."""
        self._check_target(screen)
        self._r.session.show(screen)
        st.rerun()


def _custom_fields(custom: Any) -> tuple[str, str, list[str] | None]:
    """(module, function, targets) of a ``CustomScreen`` (or a mapping with those keys)."""
    get = custom.get if isinstance(custom, dict) else lambda k, d=None: getattr(custom, k, d)
    targets = get("targets", None)
    return (
        str(get("module", "") or ""),
        str(get("function", "render") or "render"),
        None if targets is None else [str(t) for t in targets],
    )


def load_screen_function(folder: Path, module: str, function: str) -> Callable[[ScreenAPI], Any]:
    """The function ``function`` of ``folder/module`` (a .py file inside the prototype folder)."""
    path = (folder / module).resolve()
    if not path.is_relative_to(folder.resolve()) or path.suffix != ".py":
        raise ValueError(f"custom.module must be a .py file inside {folder}, not {module!r}")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    name = f"storelab_custom_{abs(hash((str(path), path.stat().st_mtime_ns)))}"
    mod = sys.modules.get(name)
    if mod is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[name] = mod
    fn = getattr(mod, function, None)
    if not callable(fn):
        raise AttributeError(f"{path} has no function {function!r}")
    return fn


def render_custom_screen(renderer: ScreenHost, screen: Any, custom: Any) -> None:
    """Call the screen's function with a ``ScreenAPI``; problems show as a card, not a crash."""
    module, function, targets = _custom_fields(custom)
    try:
        if renderer.folder is None:
            raise FileNotFoundError("the prototype has no folder")
        fn = load_screen_function(renderer.folder, module, function)
        fn(ScreenAPI(renderer, screen.id, targets))
    except (RerunException, StopException):  # st.rerun() from api.go
        raise
    except Exception as exc:  # noqa: BLE001 - a broken custom screen must not take the kiosk down
        detail = f"{type(exc).__name__}: {exc}" if renderer.preview else ""
        renderer.html(
            '<div class="sl-banner warning"><div class="sl-banner-icon">!</div>'
            '<div class="sl-banner-main"><div class="sl-banner-title">'
            f"{UNAVAILABLE.get(renderer.locale, UNAVAILABLE['en'])}"
            f'</div><div class="sl-banner-text">{html.escape(detail)}</div></div></div>'
        )


__all__ = ["EMITTABLE", "ScreenAPI", "ScreenHost", "load_screen_function", "render_custom_screen"]
