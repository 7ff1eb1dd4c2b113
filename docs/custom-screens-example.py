"""Example custom screen: a size advisor – three questions, a recommended size, then on to the
availability screen of the ``scan-and-discover`` template.

Copy it into the prototype folder as ``size_advisor.py`` and declare the screen in
``prototype.yaml`` (and link to it, e.g. with a button on the product screen)::

    - id: size-advisor
      title: {de: "Größenberater", en: "Size advisor"}
      custom: {module: size_advisor.py, function: render, targets: [availability]}

The function gets only ``api`` (``prototypes.runtime.custom.ScreenAPI``): no sink, no lab, no
files. Everything it records goes through the session's event API.
"""

SIZES = ["S", "M", "L", "XL"]

# (question id, question, [(option id, label, size steps)])
QUESTIONS = [
    (
        "height",
        {"de": "Wie groß sind Sie?", "en": "How tall are you?"},
        [
            ("short", {"de": "Unter 165 cm", "en": "Under 165 cm"}, 0),
            ("medium", {"de": "165 bis 180 cm", "en": "165 to 180 cm"}, 1),
            ("tall", {"de": "Über 180 cm", "en": "Over 180 cm"}, 2),
        ],
    ),
    (
        "fit",
        {"de": "Wie soll die Jacke sitzen?", "en": "How should the jacket fit?"},
        [
            ("close", {"de": "Eng anliegend", "en": "Close-fitting"}, 0),
            ("regular", {"de": "Normal", "en": "Regular"}, 0),
            ("roomy", {"de": "Locker", "en": "Roomy"}, 1),
        ],
    ),
    (
        "layers",
        {"de": "Was tragen Sie darunter?", "en": "What do you wear underneath?"},
        [
            ("thin", {"de": "T-Shirt oder Hemd", "en": "A T-shirt or shirt"}, 0),
            ("thick", {"de": "Einen dicken Pullover", "en": "A thick jumper"}, 1),
        ],
    ),
]


def recommended_size(answers: dict[str, int]) -> str:
    """The size for the given size steps per question (S plus one size per step, at most XL)."""
    return SIZES[min(sum(answers.values()), len(SIZES) - 1)]


def render(api):
    answers = api.state.setdefault("answers", {})
    api.heading({"de": "Welche Größe passt Ihnen?", "en": "Which size fits you?"})
    for n, (qid, question, options) in enumerate(QUESTIONS, start=1):
        if qid in answers:
            continue
        api.text(
            {"de": f"Frage {n} von {len(QUESTIONS)}", "en": f"Question {n} of {len(QUESTIONS)}"},
            "muted",
        )
        api.text(question, "strong")
        for option, label, steps in options:
            if api.button(label, id=f"{qid}-{option}", style="secondary"):
                answers[qid] = steps
                api.emit(
                    "answer",
                    element=f"{qid}-{option}",
                    question=f"size-advisor.{qid}",
                    value=[o for o, _, _ in options].index(option),
                )
                api.rerun()
        return  # one question at a time

    size = recommended_size(answers)
    api.text({"de": "Unsere Empfehlung", "en": "Our recommendation"}, "muted")
    api.heading({"de": f"Größe {size}", "en": f"Size {size}"}, level=2)
    api.text(
        {
            "de": "Laut Bewertungen fällt die Nordkap eher klein aus: "
            "Probieren Sie im Zweifel auch die nächste Größe.",
            "en": "Reviews say the Nordkap runs a little small: "
            "if in doubt, try the next size up as well.",
        }
    )
    api.button(
        {"de": f"Größe {size} in Filialen finden", "en": f"Find size {size} in stores"},
        target="availability",
    )
    if api.button({"de": "Neu beginnen", "en": "Start again"}, id="restart", style="link"):
        answers.clear()
        api.rerun()
