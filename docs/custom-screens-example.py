"""Example custom screen: a three-question style quiz that leads to a result screen.

Put it in the prototype folder as ``screens.py`` and declare the screen in ``prototype.yaml``::

    - id: quiz
      custom: {module: screens.py, function: render, targets: [result]}
      elements: []

The function gets only ``api`` (``prototypes.runtime.custom.ScreenAPI``): no sink, no lab.
"""

STYLES = {
    "sporty": {"de": "Sportlich", "en": "Sporty"},
    "classic": {"de": "Klassisch", "en": "Classic"},
    "casual": {"de": "Lässig", "en": "Casual"},
}


def render(api):
    api.heading({"de": "Welcher Stil sind Sie?", "en": "What is your style?"})
    api.text(
        {"de": "Tippen Sie auf, was am besten passt.", "en": "Tap what suits you best."}, "muted"
    )
    for style, label in STYLES.items():
        if api.button(label, id=f"style-{style}", style="secondary"):
            api.state["style"] = style
            api.emit(
                "answer",
                element=f"style-{style}",
                question="custom.style",
                value=list(STYLES).index(style),
            )
            api.go("result")
    api.button({"de": "Überspringen", "en": "Skip"}, target="result", id="skip", style="link")
