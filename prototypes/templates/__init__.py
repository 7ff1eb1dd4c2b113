"""Built-in journey templates: one ``<id>.yaml`` prototype spec per customer-journey break.

Each template is a complete, valid prototype (``storelab prototype new ID --template T`` copies
it into a lab). Placeholders in double-quoted strings (``{{store.name}}``, ``{{store.city}}``)
are filled by the scaffolder; see ``prototypes.scaffold``.
"""

from __future__ import annotations

from pathlib import Path

from errors import InvalidInputError

TEMPLATES_DIR = Path(__file__).parent

# Journey order for listings; templates not named here follow alphabetically.
ORDER: tuple[str, ...] = (
    "scan-and-discover",
    "wishlist-alert",
    "click-and-collect",
    "reserve-and-try",
    "endless-aisle",
    "personal-recommendation",
    "phone-to-kiosk",
    "easy-returns",
    "feedback-kiosk",
)


def template_ids() -> list[str]:
    """Ids of every built-in template, in journey order."""
    found = {p.stem for p in TEMPLATES_DIR.glob("*.yaml")}
    known = [t for t in ORDER if t in found]
    return known + sorted(found - set(known))


def template_path(template_id: str) -> Path:
    """The YAML file of a built-in template (``InvalidInputError`` naming the valid ids)."""
    path = TEMPLATES_DIR / f"{template_id}.yaml"
    if "/" in template_id or "\\" in template_id or not path.is_file():
        raise InvalidInputError(
            f"There is no template {template_id!r}. Templates: {', '.join(template_ids())}."
        )
    return path


def list_templates() -> list[dict[str, str]]:
    """``[{"id", "title", "phase"}]`` for every built-in template (title in English)."""
    import yamlguard

    rows = []
    for template_id in template_ids():
        data = yamlguard.load(template_path(template_id).read_text(encoding="utf-8"))
        rows.append({"id": template_id, "title": data["title"]["en"], "phase": data["phase"]})
    return rows


__all__ = ["TEMPLATES_DIR", "list_templates", "template_ids", "template_path"]
