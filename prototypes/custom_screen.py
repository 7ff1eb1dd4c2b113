"""A screen drawn by a Python function in the prototype folder (``docs/custom-screens.md``).

Its own module so that ``prototypes.elements`` (the element types and the screen) stays small.
"""

from __future__ import annotations

import keyword
from typing import Annotated

from pydantic import AfterValidator, Field

from prototypes.fields import Id, SpecModel


def _check_function_name(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError(f"{value!r} is not a Python function name (e.g. render, size_advisor)")
    return value


class CustomScreen(SpecModel):
    """A screen drawn by a Python function in the prototype folder (``docs/custom-screens.md``).

    The runtime calls ``function(api)`` from ``module`` with a ``ScreenAPI``. The validator never
    runs the code, so ``targets`` declares the screens the function may go to: they are the
    screen's links for reachability, task paths and the pilot simulator.
    """

    module: str = Field(min_length=1, description="a .py file inside the prototype folder")
    function: Annotated[str, AfterValidator(_check_function_name)] = "render"
    targets: list[Id] = Field(default_factory=list, description="screens the function may go to")


__all__ = ["CustomScreen"]
