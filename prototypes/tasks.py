"""What a customer is asked to do and asked afterwards: tasks and questions.

A ``Task`` is a mission (reach a goal screen from a start screen, ideally along
``expected_path``). A ``QuestionSpec`` names an instrument of ``feedback.catalogue`` to ask after a
task or at the end of the session; ``expand`` turns it into the ``Question`` items the runtime
asks and events name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from feedback.catalogue import CATALOGUE
from prototypes.fields import Id, LocalizedText, SpecModel, one_or_many


class Task(SpecModel):
    """A mission for the customer: reach one of ``goal_screens`` starting at ``start_screen``."""

    id: Id
    prompt: LocalizedText
    start_screen: Id
    goal_screens: Annotated[list[Id], BeforeValidator(one_or_many), Field(min_length=1)]
    expected_path: list[Id] = Field(
        min_length=1, description="screen ids from start to a goal, inclusive"
    )
    time_limit_s: int | None = Field(None, gt=0)


class QuestionSpec(SpecModel):
    """An instrument of ``feedback.catalogue`` to ask, after a task or at the end.

    ``text`` rewords a single-item instrument (``nps``, ``csat``, ``ces``, ``seq``, ``comment``);
    multi-item questionnaires (``sus``, ``umux_lite``) keep their validated wording.
    """

    instrument: str
    after_task: Id | None = None
    text: LocalizedText | None = None

    @field_validator("instrument")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATALOGUE.instruments:
            raise ValueError(
                f"unknown instrument {value!r}; known: {', '.join(CATALOGUE.instruments)}"
            )
        return value

    @model_validator(mode="after")
    def _rules(self) -> QuestionSpec:
        inst = CATALOGUE.instrument(self.instrument)
        if inst.per_task and self.after_task is None:
            raise ValueError(f"{inst.id} is asked right after a task: add 'after_task: <task id>'")
        if self.text is not None and not inst.rewordable:
            rewordable = ", ".join(i.id for i in CATALOGUE.instruments.values() if i.rewordable)
            raise ValueError(
                f"{self.instrument} has a fixed, validated wording: remove 'text' "
                f"(only {rewordable} can be reworded)"
            )
        return self

    def expand(self) -> list[Question]:
        """The questions this instrument asks, with the ids written to events."""
        inst = CATALOGUE.instrument(self.instrument)
        return [
            Question(
                id=item.id,
                instrument=inst.id,
                after_task=self.after_task,
                scale=inst.scale,
                text=dict(self.text) if self.text is not None else dict(item.text),
                anchors=(dict(inst.anchors[0]), dict(inst.anchors[1])) if inst.anchors else None,
            )
            for item in inst.items
        ]


@dataclass(frozen=True)
class Question:
    """One question as the runtime asks it and events name it (``question`` = ``id``)."""

    id: str
    instrument: str
    after_task: str | None
    scale: tuple[int, int] | None
    """(low, high) of the answer scale; None for free text (``comment``)."""
    text: dict[str, str]
    anchors: tuple[dict[str, str], dict[str, str]] | None = None
    """Labels of the low and the high end of the scale."""
    custom: Any = None
    """A question of the team's own: its ``prototypes.asks.CustomQuestionSpec`` (``instrument``
    is then its type); None for a standard instrument's item."""


__all__ = ["Question", "QuestionSpec", "Task"]
