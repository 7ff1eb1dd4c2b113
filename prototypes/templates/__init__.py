"""Built-in journey templates: one ``<id>.yaml`` prototype spec per customer-journey break.

Each template is a complete, valid prototype (``storelab prototype new ID --template T`` copies
it into a lab). Placeholders in double-quoted strings (``{{store.name}}``, ``{{store.city}}``)
are filled by the scaffolder; see ``prototypes.scaffold``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from errors import InvalidInputError

TEMPLATES_DIR = Path(__file__).parent

# Journey order for listings: by phase of the customer journey (inspiration, information,
# advice, purchase, after-sales, recommendation); templates not named here follow alphabetically.
ORDER: tuple[str, ...] = (
    "wishlist-alert",
    "personal-greeting",
    "scan-and-discover",
    "poster-to-app",
    "reserve-and-try",
    "associate-tablet",
    "phone-to-kiosk",
    "click-and-collect",
    "endless-aisle",
    "scan-and-go",
    "order-follow-up",
    "easy-returns",
    "personal-recommendation",
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


def list_templates() -> list[dict[str, Any]]:
    """Every built-in template in journey order, as ``prototype templates --json`` prints it:
    ``id``, ``title`` (English), ``phase``, ``touchpoint``, ``journey_break`` (English: the break
    in the customer journey it mends), ``variants`` (``control`` and the named ones to compare),
    ``variant_notes`` (what each named variant changes) and ``tasks`` (their ids)."""
    import yamlguard

    rows = []
    for template_id in template_ids():
        data = yamlguard.load(template_path(template_id).read_text(encoding="utf-8"))
        rows.append(
            {
                "id": template_id,
                "title": data["title"]["en"],
                "phase": data["phase"],
                "touchpoint": data["touchpoint"],
                "journey_break": (data.get("journey_break") or {}).get("en", ""),
                "variants": ["control", *(data.get("variants") or {})],
                "variant_notes": {
                    name: (variant or {}).get("note") or ""
                    for name, variant in (data.get("variants") or {}).items()
                },
                "tasks": [task["id"] for task in data.get("tasks") or []],
            }
        )
    return rows


__all__ = ["TEMPLATES_DIR", "list_templates", "template_ids", "template_path"]
