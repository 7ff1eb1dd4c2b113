"""Field types every spec model uses: ids, texts per language, colours, and the strict base model.

Every model of ``prototype.yaml`` derives from ``SpecModel``: frozen, and unknown keys are an
error (so a typo is reported, not ignored). A customer-facing text is a ``LocalizedText`` with
one entry per locale of the prototype.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError, core_schema

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PROTOTYPE_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LOCALE_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
COLOUR_RE = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z]+)$")
MAX_ID_LEN = 64


class LocalizedText(dict):
    """A customer-facing text in every language of the prototype: ``{de: "…", en: "…"}``.

    A plain ``dict`` (locale -> text) so a runtime can simply index it.
    """

    def get_text(self, locale: str, fallback: str | None = None) -> str:
        """The text in ``locale``, else in ``fallback``, else the first one given."""
        if locale in self:
            return self[locale]
        if fallback and fallback in self:
            return self[fallback]
        return next(iter(self.values()), "")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        def require_mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise PydanticCustomError(
                    "text_type",
                    "expected a text per language like 'de: …' and 'en: …' below it, got {kind}",
                    {"kind": _kind(value)},
                )
            return value

        inner = core_schema.dict_schema(
            keys_schema=core_schema.str_schema(pattern=LOCALE_RE.pattern),
            values_schema=core_schema.str_schema(min_length=1, strip_whitespace=True),
            min_length=1,
        )
        return core_schema.no_info_before_validator_function(
            require_mapping,
            core_schema.no_info_after_validator_function(cls, inner),
            serialization=core_schema.plain_serializer_function_ser_schema(dict),
        )


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a plain string"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _check_id(value: str) -> str:
    if not ID_RE.match(value) or len(value) > MAX_ID_LEN:
        raise ValueError(
            f"{value!r} is not a valid id: use lowercase letters, digits, '-' and '_' "
            f"(at most {MAX_ID_LEN} characters)"
        )
    return value


def _check_prototype_id(value: str) -> str:
    if not PROTOTYPE_ID_RE.match(value) or len(value) > MAX_ID_LEN:
        raise ValueError(
            f"{value!r} is not a valid prototype id: use lowercase letters, digits and dashes, "
            "e.g. scan-and-discover"
        )
    return value


def _check_colour(value: str) -> str:
    if not COLOUR_RE.match(value):
        raise ValueError(f"{value!r} is not a colour: use '#rrggbb' or a CSS name like 'navy'")
    return value


def one_or_many(value: Any) -> Any:
    """Let a list of one be written as its single item (``goal_screens: done``)."""
    return [value] if isinstance(value, str) else value


def _number_to_str(value: Any) -> Any:
    """Sizes like ``38`` or ``42.5`` may be written as YAML numbers; keep them as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Id = Annotated[str, AfterValidator(_check_id)]
PrototypeId = Annotated[str, AfterValidator(_check_prototype_id)]
Colour = Annotated[str, AfterValidator(_check_colour)]
Locale = Annotated[str, Field(pattern=LOCALE_RE.pattern)]
Share = Annotated[float, Field(ge=0, le=1)]
Label = Annotated[str, BeforeValidator(_number_to_str), Field(min_length=1)]
"""A short non-translated label: a size (``M``, ``38``), an option value."""


class SpecModel(BaseModel):
    """Base of every spec model: frozen, and a key it does not know is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


__all__ = [
    "COLOUR_RE",
    "ID_RE",
    "LOCALE_RE",
    "MAX_ID_LEN",
    "PROTOTYPE_ID_RE",
    "Colour",
    "Id",
    "Label",
    "Locale",
    "LocalizedText",
    "PrototypeId",
    "Share",
    "SpecModel",
    "one_or_many",
]
