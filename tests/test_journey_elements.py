"""The journey elements of issue 15 (cart, payment sheet, order tracking, review list, store map,
staff note): validation with line-accurate problems, and their big tappable controls in AppTest
on a phone and a kiosk, with the tap events the runtime writes."""

from __future__ import annotations

import textwrap

import pytest

from lab import Lab
from prototypes.runtime.render import widget_key
from prototypes.validate import validate_file
from tests.fixtures import (
    MINI_PROTOTYPE,
    app_test,
    click,
    keys,
    session,
    spool_events,
    write_prototype,
)

JOURNEY = textwrap.dedent(
    """\
    id: journey
    title: {de: Reise, en: Journey}
    phase: purchase
    touchpoint: phone
    screens:
      - id: shop
        elements:
          - type: cart
            id: basket
            checkout: {de: Zur Kasse, en: Checkout}
            target: pay
            lines:
              - {id: beanie, name: {de: Mütze, en: Beanie}, price: 24.95, icon: "🧢"}
              - {id: socks, name: {de: Socken, en: Socks}, price: 12.95, quantity: 2}
      - id: pay
        elements:
          - type: payment_sheet
            id: sheet
            amount: 50.85
            pay: {de: Jetzt bezahlen, en: Pay now}
            target: track
            methods:
              - {id: wallet, icon: "📱", label: {de: Mobil, en: Wallet}}
              - {id: card, label: {de: Karte, en: Card}}
              - {id: invoice, label: {de: Rechnung, en: Invoice}, available: false}
      - id: track
        elements:
          - type: order_tracking
            id: status
            order: C-1
            pickup_code: "4821"
            target: stores
            steps:
              - {id: ordered, done: true, label: {de: Bestellt, en: Ordered}}
              - {id: ready, label: {de: Abholbereit, en: Ready}}
          - type: staff_note
            id: note
            author: Mia Schulz
            audience: staff
            text: {de: Mag Dunkelblau., en: Likes navy.}
            action: {de: Zu den Filialen, en: To the stores}
            target: stores
      - id: stores
        elements:
          - type: store_map
            id: map
            stores:
              - {id: north, name: Nord, address: "Nordring 1"}
              - {id: here, name: Hier, address: "Markt 2", distance_km: 0.3, target: reviews}
      - id: reviews
        elements:
          - type: review_list
            id: list
            stars: 4.5
            count: 10
            write: {de: Bewerten, en: Write a review}
            target: done
            reviews:
              - {id: r1, author: Jana, stars: 5, helpful: 3, text: {de: Super dicht., en: Dry.}}
              - {id: r2, author: Tom, stars: 3, text: {de: Ärmel zu kurz., en: Sleeves short.}}
      - id: done
        elements:
          - {type: banner, id: ok, text: {de: Fertig, en: Done}, tone: success}
    tasks:
      - id: all
        prompt: {de: Alles einmal., en: Everything once.}
        start_screen: shop
        goal_screens: [done]
        expected_path: [shop, pay, track, stores, reviews, done]
    questions:
      - {instrument: seq, after_task: all}
    """
)


def texts(at) -> str:
    """Everything the page shows as markdown (the elements' HTML)."""
    return " ".join(m.value for m in at.markdown)


def key(kind: str, screen: str, element: str) -> str:
    return widget_key(kind, screen, element)


@pytest.mark.parametrize("device", ["phone", "kiosk"])
def test_every_journey_element_draws_and_its_controls_tap(lab: Lab, monkeypatch, device) -> None:
    write_prototype(lab, "journey", JOURNEY)
    at = app_test(lab, monkeypatch, prototype="journey", store="S01", device=device)
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    assert session(at).screen == "shop"

    # cart: the total follows the steppers; a line at 0 is marked removed, its − disabled
    assert "50,85\u00a0€" in texts(at) and "3 Artikel" in texts(at)
    click(at, key("step", "shop", "basket.socks.more"))
    assert "63,80\u00a0€" in texts(at) and "4 Artikel" in texts(at)
    click(at, key("step", "shop", "basket.beanie.less"))
    assert "entfernt" in texts(at) and "38,85\u00a0€" in texts(at)
    assert at.button(key=key("step", "shop", "basket.beanie.less")).disabled
    click(at, key("btn", "shop", "basket"))
    assert session(at).screen == "pay"

    # payment sheet: the amount, methods as big choices (unavailable ones greyed), pay goes on
    assert "50,85\u00a0€" in texts(at)
    assert at.button(key=key("opt", "pay", "sheet.wallet")).proto.type == "primary"
    assert at.button(key=key("opt", "pay", "sheet.invoice")).disabled
    click(at, key("opt", "pay", "sheet.card"))
    assert session(at).selections["sheet"] == "card"
    assert at.button(key=key("opt", "pay", "sheet.card")).proto.type == "primary"
    click(at, key("btn", "pay", "sheet"))
    assert session(at).screen == "track"

    # tracking: order, steps and pickup code; the card and the staff note's button both go on
    page = texts(at)
    assert "C-1" in page and "4821" in page and "Abholbereit" in page
    assert "Nur für Mitarbeitende" in page and "Mag Dunkelblau." in page
    assert key("hit", "track", "status") in keys(at)
    click(at, key("btn", "track", "note"))
    assert session(at).screen == "stores"

    # store map: a row without a target is chosen, a row with one goes there
    click(at, key("hit", "stores", "map.north"))
    assert session(at).selections["map"] == "north" and session(at).screen == "stores"
    click(at, key("hit", "stores", "map.here"))
    assert session(at).screen == "reviews"

    # review list: star filter chips, "helpful" once per review, the write button
    assert "Super dicht." in texts(at) and "Ärmel zu kurz." in texts(at)
    click(at, key("opt", "reviews", "list.stars-5"))
    assert "Super dicht." in texts(at) and "Ärmel zu kurz." not in texts(at)
    helpful = key("helpful", "reviews", "list.r1")
    click(at, helpful)
    assert at.button(key=helpful).disabled and "(4)" in at.button(key=helpful).label
    click(at, key("btn", "reviews", "list"))
    assert session(at).screen == "done"

    taps = [
        (e["screen"], e["element"], e["props"]) for e in spool_events(lab) if e["type"] == "tap"
    ]
    assert [t[:2] for t in taps] == [
        ("shop", "basket.socks.more"),
        ("shop", "basket.beanie.less"),
        ("shop", "basket"),
        ("pay", "sheet.card"),
        ("pay", "sheet"),
        ("track", "note"),
        ("stores", "map.north"),
        ("stores", "map.here"),
        ("reviews", "list.stars-5"),
        ("reviews", "list.r1.helpful"),
        ("reviews", "list"),
    ]
    assert taps[0][2]["quantity"] == 3 and taps[1][2]["quantity"] == 0
    assert taps[2][2]["target"] == "pay" and taps[7][2]["target"] == "reviews"
    success = next(e for e in spool_events(lab) if e["type"] == "task_success")
    assert success["props"]["path"] == ["shop", "pay", "track", "stores", "reviews", "done"]


def test_journey_elements_speak_english(lab: Lab, monkeypatch) -> None:
    write_prototype(lab, "journey", JOURNEY)
    at = app_test(lab, monkeypatch, prototype="journey", store="S01", lang="en")
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    assert "€50.85" in texts(at) and "3 items" in texts(at) and "Total" in texts(at)
    assert at.button(key=key("btn", "shop", "basket")).label == "Checkout"


# --- validation ---------------------------------------------------------------------------------

BAD = [
    (
        "{type: cart, id: c, checkout: {de: K, en: C}, "
        "lines: [{id: a, name: {de: A, en: A}, price: 1}]}",
        "give 'checkout' (the button's text) and 'target' together",
    ),
    (
        "{type: cart, id: c, lines: [{id: a, name: {de: A, en: A}, price: 1}, "
        "{id: a, name: {de: B, en: B}, price: 2}]}",
        "cart line id 'a' appears twice",
    ),
    (
        "{type: cart, id: c, lines: [{id: a, name: {de: A, en: A}, price: 1, quantitiy: 2}]}",
        "unknown key 'quantitiy' (did you mean 'quantity'?)",
    ),
    (
        "{type: cart, id: c, lines: [{id: a, name: {de: A, en: A}, price: -1}]}",
        "greater than or equal to 0",
    ),
    (
        "{type: payment_sheet, id: p, amount: 5, pay: {de: P, en: P}, target: start, selected: b, "
        "methods: [{id: a, label: {de: A, en: A}}, "
        "{id: b, label: {de: B, en: B}, available: false}]}",
        "selected 'b' is not an available method (a)",
    ),
    (
        "{type: payment_sheet, id: p, amount: 5, pay: {de: P, en: P}, target: start, "
        "methods: [{id: a, label: {de: A, en: A}, available: false}]}",
        "at least one payment method must be available",
    ),
    (
        "{type: order_tracking, id: o, order: X1, steps: [{id: a, label: {de: A, en: A}}, "
        "{id: b, done: true, label: {de: B, en: B}}]}",
        "the steps that are done come first",
    ),
    (
        "{type: review_list, id: r, stars: 4, count: 0, "
        "reviews: [{id: a, author: X, stars: 5, text: {de: A, en: A}}]}",
        "count 0 is less than the 1 reviews",
    ),
    (
        "{type: review_list, id: r, stars: 4, count: 3, "
        "reviews: [{id: a, author: X, stars: 6, text: {de: A, en: A}}]}",
        "less than or equal to 5",
    ),
    (
        "{type: store_map, id: m, stores: [{id: a, name: A, address: B, target: nowhere}]}",
        "links to screen 'nowhere', which does not exist",
    ),
    (
        "{type: staff_note, id: s, author: Mia, text: {de: Hallo}, target: start}",
        "give 'action' (the button's text) and 'target' together",
    ),
    (
        "{type: staff_note, id: s, author: Mia, text: {de: Hallo}}",
        "en",
    ),
]


@pytest.mark.parametrize(("element", "message"), BAD)
def test_bad_journey_elements_are_reported_on_their_line(lab: Lab, element, message) -> None:
    spec = textwrap.dedent(
        f"""\
        id: bad
        title: {{de: Schlecht, en: Bad}}
        phase: purchase
        touchpoint: phone
        screens:
          - id: start
            elements:
              - {{type: heading, id: h, text: {{de: Start, en: Start}}}}
              - {element}
        """
    )
    problems = validate_file(write_prototype(lab, "bad", spec))
    assert problems, "the element should be refused"
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    assert all(p.line == 9 for p in problems if message in p.message), [str(p) for p in problems]


def test_a_journey_break_needs_every_language(lab: Lab) -> None:
    text = MINI_PROTOTYPE.replace("phase: purchase", "journey_break: {de: Lang}\nphase: purchase")
    (problem,) = validate_file(write_prototype(lab, "mini", text))
    assert (problem.line, problem.path) == (3, "journey_break")
    assert "missing translation for 'en'" in problem.message
