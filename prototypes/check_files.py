"""Checks on the files a spec names: images and the Python modules of custom screens.

An image ``src`` must be a relative path to an image file inside the prototype folder, present
and at most 5 MB: prototypes run offline in the store, so URLs are refused. A custom screen's
``module`` must be a ``.py`` file inside the folder, at most 256 kB, that defines the named
function. The module is read with ``ast`` only: validation never imports or runs user code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from prototypes.custom_screen import CustomScreen
from prototypes.problems import Locator, Problem

MAX_ASSET_BYTES = 5 * 1024 * 1024
MAX_MODULE_BYTES = 256 * 1024
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})


def asset_problems(src: str, path: str, where: Locator, folder: Path) -> list[Problem]:
    """The image ``src`` (written at ``path``) is an image file inside ``folder``, ≤ 5 MB."""

    def problem(message: str, kind: str = "asset") -> list[Problem]:
        return [where.problem(path, message, kind)]

    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not re.match(r"^[a-zA-Z]:[\\/]", src):
        return problem(
            f"'{src}' is a URL; prototypes run offline in the store: put the image under "
            "assets/ in the prototype folder, or use 'placeholder: {icon, colour}'"
        )
    if Path(src).is_absolute():
        return problem(f"'{src}' is an absolute path; use a path inside the prototype folder")
    base = folder.resolve()
    target = (base / src).resolve()
    if not target.is_relative_to(base):
        return problem(f"'{src}' is outside the prototype folder; copy it into assets/")
    if target.suffix.lower() not in IMAGE_SUFFIXES:
        return problem(
            f"'{src}' is not an image file; use one of {', '.join(sorted(IMAGE_SUFFIXES))}"
        )
    if not target.is_file():
        return problem(f"image '{src}' is missing (looked for {target})")
    size = target.stat().st_size
    if size > MAX_ASSET_BYTES:
        return problem(
            f"image '{src}' is {size / 1e6:.1f} MB; at most 5 MB is allowed: make it smaller",
            "too_large",
        )
    return []


def custom_module_problems(
    custom: CustomScreen, path: str, where: Locator, folder: Path
) -> list[Problem]:
    """``custom.module`` is a .py file inside the folder that defines ``custom.function``.

    The file is parsed with ``ast``, never imported: validation must not run user code.
    """
    src = custom.module
    mpath = f"{path}.module"

    def problem(message: str, kind: str = "asset", at: str = mpath) -> list[Problem]:
        return [where.problem(at, message, kind)]

    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not re.match(r"^[a-zA-Z]:[\\/]", src):
        return problem(f"'{src}' is a URL; put the module as a .py file in the prototype folder")
    if Path(src).is_absolute() or re.match(r"^([\\/]|[a-zA-Z]:)", src):
        return problem(f"'{src}' is an absolute path; use a path inside the prototype folder")
    if ".." in re.split(r"[\\/]", src):
        return problem(f"'{src}' leaves the prototype folder ('..'); put the module inside it")
    base = folder.resolve()
    target = (base / src).resolve()
    if not target.is_relative_to(base):
        return problem(f"'{src}' is outside the prototype folder; put the module inside it")
    if target.suffix != ".py":
        return problem(f"'{src}' is not a Python file; custom.module must end in .py")
    if not target.is_file():
        return problem(f"custom screen module '{src}' is missing (looked for {target})")
    size = target.stat().st_size
    if size > MAX_MODULE_BYTES:
        return problem(
            f"custom screen module '{src}' is {size / 1e3:.0f} kB; at most "
            f"{MAX_MODULE_BYTES // 1024} kB is allowed: keep data in the YAML or split it up",
            "too_large",
        )
    try:
        tree = ast.parse(target.read_bytes(), filename=src)
    except SyntaxError as exc:
        return problem(f"'{src}' line {exc.lineno}: Python syntax error: {exc.msg}", "custom")
    except ValueError as exc:  # e.g. NUL bytes
        return problem(f"'{src}' cannot be read as Python source: {exc}", "custom")
    names, star = _top_level_names(tree.body)
    if custom.function not in names and not star:
        defined = ", ".join(sorted(names)) or "none"
        return problem(
            f"'{src}' has no top-level function '{custom.function}' (defined there: {defined})",
            "custom",
            f"{path}.function",
        )
    return []


def _top_level_names(body: list[ast.stmt]) -> tuple[set[str], bool]:
    """Names a module defines at top level (also inside if/try/with), and whether it has a
    ``from … import *`` (then any name may exist)."""
    names: set[str] = set()
    star = False
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
        for block in ("body", "orelse", "finalbody", "handlers"):
            if isinstance(node, ast.If | ast.Try | ast.With) and hasattr(node, block):
                inner = getattr(node, block)
                stmts = [s for h in inner for s in h.body] if block == "handlers" else inner
                more, more_star = _top_level_names(stmts)
                names |= more
                star = star or more_star
    return names, star


__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_ASSET_BYTES",
    "MAX_MODULE_BYTES",
    "asset_problems",
    "custom_module_problems",
]
