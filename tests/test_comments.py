"""Comments: the codebook (themes by lemma), sentiment (measured on a labelled set), exact theme
counts on planted events and on comments the runtime wrote, and every view that shows them."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from errors import InvalidInputError
from insights.codebook import DEFAULT_CODEBOOK, load_codebook, parse_codebook
from insights.comments import NO_THEME, CommentFilter, analyse_comments
from insights.sentiment import classify, measure_accuracy
from tests.fixtures import (
    answer_questions,
    app_test,
    click,
    session,
    spool_events,
    walk_task,
)

LABELLED = Path(__file__).parent / "data" / "sentiment_labelled.csv"  # tuned on
HELDOUT = Path(__file__).parent / "data" / "sentiment_heldout.csv"  # never tuned on
# Measured when the negation/excess rules were added (the computation is deterministic; the
# bounds are these less 3 points, so a change or a dependency update that degrades it fails):
# LABELLED (124): 0.847 overall, DE 0.855, EN 0.839; recall negative 0.886, neutral 0.750,
#   positive 0.900; precision positive 0.800 (before: 0.702, recall negative 0.545).
# HELDOUT (144): 0.771 overall, DE 0.750, EN 0.792; recall negative 0.750, neutral 0.833,
#   positive 0.729; precision positive 0.854 (before: 0.576, recall negative 0.229).
MEASURED = {
    LABELLED: {"accuracy": 0.847, "de": 0.855, "en": 0.839, "negative": 0.886, "pos_prec": 0.800},
    HELDOUT: {"accuracy": 0.771, "de": 0.750, "en": 0.792, "negative": 0.750, "pos_prec": 0.854},
}
MARGIN = 0.03

# --- the codebook -----------------------------------------------------------------------------


def test_default_codebook_matches_by_lemma_prefix_and_phrase() -> None:
    book = load_codebook()
    assert "waiting" in book.match("Ich habe ewig gewartet.")  # warten -> gewartet
    assert "waiting" in book.match("Die Wartezeiten sind zu lang")  # wartezeit*
    assert "availability" in book.match("No sizes shown")  # size -> sizes
    assert "availability" in book.match("Is it back in stock?")  # a phrase
    assert "checkout" in book.match("Ich habe an der Selbstkasse bezahlt")
    assert book.match("Die Farben sahen anders aus") == ()


def test_lab_codebook_is_written_by_init_and_read_from_the_lab(lab) -> None:
    path = lab.root / "codebook.yaml"
    assert not path.exists()  # new_lab is init_lab; the CLI writes the codebook
    from cli import app

    result = CliRunner().invoke(app, ["init", str(lab.root.parent / "fresh"), "--json"])
    assert result.exit_code == 0, result.output
    written = Path(json.loads(result.output)["codebook"])
    assert written.read_text(encoding="utf-8") == DEFAULT_CODEBOOK.read_text(encoding="utf-8")
    path.write_text(
        "themes:\n  - id: colour\n    label: {de: Farbe, en: Colour}\n"
        "    keywords: {de: [farbe], en: [colour, color]}\n",
        encoding="utf-8",
    )
    book = load_codebook(lab)
    assert book.ids == ("colour",)
    assert book.match("Die Farben sahen anders aus") == ("colour",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "themes:\n  - id: a\n    label: {de: A, en: A}\n    keywords: {de: [x]}\n"
            "    colour: red\n",
            "line 5 (themes[0].colour): Extra inputs are not permitted",
        ),
        (
            "themes:\n  - id: a\n    label: {de: A}\n    keywords: {de: [x]}\n"
            "  - id: a\n    label: {de: B}\n    keywords: {en: [y]}\n",
            "line 5 (themes[1].id): theme id 'a' is given twice",
        ),
        (
            "themes:\n  - id: a\n    label: {de: A}\n    keywords: {fr: [x]}\n",
            "line 4 (themes[0].keywords.fr)",
        ),
        (
            "themes:\n  - id: a\n    label: {de: A}\n    keywords: {de: ['  ']}\n",
            "line 4 (themes[0].keywords): '  ' has no letters to match",
        ),
        ("themes:\n  - &a {id: a}\n  - *a\n", "line 2: anchors"),
        ("- just a list\n", "line 1: expected a mapping"),
    ],
)
def test_a_bad_codebook_is_one_line_naming_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_codebook(text, "lab/codebook.yaml")
    message = str(err.value)
    assert message.startswith("lab/codebook.yaml, line "), message
    assert expected in message, message
    assert "\n" not in message


# --- sentiment --------------------------------------------------------------------------------


def _labelled(path: Path = LABELLED) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as f:
        return [(r["locale"], r["label"], r["text"]) for r in csv.DictReader(f)]


@pytest.mark.parametrize("path", [LABELLED, HELDOUT], ids=["labelled", "heldout"])
def test_the_labelled_sets_are_balanced_and_bilingual(path) -> None:
    rows = _labelled(path)
    assert len(rows) >= 100
    for locale in ("de", "en"):
        for label in ("negative", "neutral", "positive"):
            assert sum(1 for r in rows if r[:2] == (locale, label)) >= 15


def test_the_heldout_set_shares_no_comment_with_the_tuning_set() -> None:
    tuned = {text.lower() for *_, text in _labelled(LABELLED)}
    assert not tuned & {text.lower() for *_, text in _labelled(HELDOUT)}


@pytest.mark.parametrize("path", [LABELLED, HELDOUT], ids=["labelled", "heldout"])
def test_sentiment_accuracy_stays_at_what_was_measured(path) -> None:
    acc, measured = measure_accuracy(_labelled(path)), MEASURED[path]
    assert acc.accuracy >= measured["accuracy"] - MARGIN, acc
    assert acc.by_locale["de"] >= measured["de"] - MARGIN, acc
    assert acc.by_locale["en"] >= measured["en"] - MARGIN, acc
    assert acc.recall["negative"] >= measured["negative"] - MARGIN, acc  # complaints are found
    assert acc.precision["positive"] >= measured["pos_prec"] - MARGIN, acc  # praise stays praise
    assert min(acc.recall.values()) >= 0.6, acc  # no label is given up


@pytest.mark.parametrize(
    ("text", "locale", "label"),
    [
        # complaints without an evaluative word: a negated predicate, an excess, waiting
        ("Ich musste ewig warten.", "de", "negative"),
        ("Der Scanner hat nicht funktioniert.", "de", "negative"),
        ("Hat nicht geklappt.", "de", "negative"),
        ("Ich habe die Größe nicht gefunden.", "de", "negative"),
        ("Kein Personal da.", "de", "negative"),
        ("Zu lange Schlange an der Kasse.", "de", "negative"),
        ("Viel zu teuer.", "de", "negative"),
        ("Total umständlich.", "de", "negative"),
        ("Couldn't find the size.", "en", "negative"),
        ("The app kept crashing.", "en", "negative"),
        ("Nobody helped me.", "en", "negative"),
        ("The scanner didn't work.", "en", "negative"),
        ("Way too expensive.", "en", "negative"),
        ("The queue was long and slow.", "en", "negative"),
        # the same words where they are no complaint
        ("Endlich keine Warteschlange mehr.", "de", "positive"),  # a negated complaint
        ("Einfach zu bedienen.", "de", "positive"),  # "zu" + infinitive is no excess
        ("Das war nicht schlecht.", "de", "positive"),
        ("Nicht zu teuer.", "de", "positive"),  # a denied excess
        ("Not too bad.", "en", "positive"),
        ("Ich komme morgen zu dir.", "de", "neutral"),
        ("Ich muss nicht mehr durch den ganzen Laden laufen.", "de", "neutral"),  # a relief
        ("Ich habe mit Karte bezahlt.", "de", "neutral"),  # the lexicon's "bezahlen" is not used
        ("Isn't there a bigger size?", "en", "neutral"),  # a question
        ("I bought the blue one too.", "en", "neutral"),  # "too" at the end is "also"
        ("I paid by card.", "en", "neutral"),  # "paid" is not read as VADER's "pay" (-0.4)
        ("No waiting at all, wonderful.", "en", "positive"),
        ("The checkout was quick and easy.", "en", "positive"),
    ],
)
def test_sentiment_reads_what_customers_complain_about(text, locale, label) -> None:
    assert classify(text, locale).label == label


def test_the_supplement_is_small_and_every_word_has_its_reason() -> None:
    from insights.sentiment import german_lexicon, supplement_path

    with supplement_path().open(encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert 0 < len(rows) <= 25  # a supplement, not a lexicon of our own
    for row in rows:
        assert row["locale"] in ("de", "en"), row
        assert -1 <= float(row["polarity"]) <= 1, row
        assert len(row["reason"]) > 10, row
        if row["locale"] == "de":  # only words the packaged lexicon lacks
            assert german_lexicon()[row["word"]] == float(row["polarity"]), row


def test_sentiment_reads_both_languages_and_negation() -> None:
    assert classify("Das Personal war sehr freundlich.").label == "positive"
    assert classify("Das Personal war nicht freundlich.").label == "negative"
    assert classify("Terrible, the app crashed at checkout.").label == "negative"
    assert classify("Ich habe mit Karte bezahlt.").label == "neutral"
    assert classify("The staff were friendly and quick.").locale == "en"
    assert classify("Die Größe war nicht da.").locale == "de"
    # words both languages know: the lab's locale decides
    assert classify("Great, quick and easy!", default="en").locale == "en"


# --- exact counts: planted events -------------------------------------------------------------

WAITING = [
    "Die Wartezeit an der Info war viel zu lang.",
    "Ich musste ewig warten, bis der Kiosk reagierte.",
    "Long queue at the kiosk, I had to wait.",
    "Wartezeiten sind das Problem.",
    "I waited ages for the page.",
]
OTHER = [
    "Die Farben sahen anders aus.",
    "Nice colours <script>alert(1)</script>",
    "Ich kaufe meistens samstags ein.",
]


def _comment_session(variant: str, version: int, store: str, text: str, t0, team=False) -> list:
    sid = str(uuid.uuid4())
    base = {
        "session_id": sid,
        "experiment_id": None,
        "prototype_id": "scan-and-discover",
        "prototype_version": version,
        "variant": variant,
        "store_id": store,
        "device": "kiosk",
        "props": {"team": True} if team else {},
    }
    kinds = [
        ("session_start", {}),
        ("screen_view", {"screen": "result"}),
        ("comment", {"text": text}),
    ]
    return [
        {
            **base,
            **extra,
            "event_id": str(uuid.uuid4()),
            "type": kind,
            "ts": (t0 + timedelta(seconds=5 * i)).isoformat(),
        }  # fmt: skip
        for i, (kind, extra) in enumerate(kinds)
    ]


@pytest.fixture
def planted(lab):
    """5 sessions per group write a waiting comment (N = 3 groups x 5), 3 per group another
    one (M); a team session's waiting comment must not count."""
    from feedback.ingest import ingest
    from feedback.sink import SpoolSink
    from prototypes.scaffold import new_prototype

    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    groups = [("control", 1, "S01"), ("treatment", 1, "S02"), ("treatment", 2, "S03")]
    t0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    with SpoolSink(lab.spool_dir) as sink:
        for g, (variant, version, store) in enumerate(groups):
            for i, text in enumerate(WAITING + OTHER):
                start = t0 + timedelta(minutes=10 * (g * 20 + i))
                for event in _comment_session(variant, version, store, text, start):
                    sink.emit(event)
        for event in _comment_session("control", 1, "S01", WAITING[0], t0, team=True):
            sink.emit(event)
    ingest(lab)
    return lab


def test_planted_theme_counts_are_exact_per_variant_and_version(planted) -> None:
    report = analyse_comments(planted, CommentFilter(prototype="scan-and-discover"))
    assert len(report.comments) == 3 * (len(WAITING) + len(OTHER))  # team session left out
    by_variant = report.counts_by("variant")
    assert by_variant["control"]["waiting"] == 5
    assert by_variant["treatment"]["waiting"] == 10
    by_version = report.counts_by("version")
    assert (by_version["v1"]["waiting"], by_version["v2"]["waiting"]) == (10, 5)
    assert by_version["v2"][NO_THEME] == len(OTHER)
    only = analyse_comments(planted, CommentFilter(prototype="scan-and-discover", theme="waiting"))
    assert len(only.comments) == 15
    assert {c.screen for c in only.comments} == {"result"}  # placed on the last screen viewed


def test_filters_narrow_the_comments(planted) -> None:
    def count(**kw) -> int:
        flt = CommentFilter(prototype="scan-and-discover", **kw)
        return len(analyse_comments(planted, flt).comments)

    assert count(version=2) == 8
    assert count(variant="control", store="S01") == 8
    assert count(store="S03", search="WARTEZEIT") == 2  # case-insensitive, in the text
    assert count(search="%") == 0  # a literal, not a pattern
    assert count(screen="home") == 0
    assert count(theme=NO_THEME) == 9
    assert count(sentiment="negative") < 24


def test_unknown_theme_sentiment_or_prototype_is_one_clear_line(planted) -> None:
    with pytest.raises(InvalidInputError, match="No theme 'colour'.*known: waiting"):
        analyse_comments(planted, CommentFilter(prototype="scan-and-discover", theme="colour"))
    with pytest.raises(InvalidInputError, match="Unknown sentiment 'angry'"):
        analyse_comments(planted, CommentFilter(prototype="scan-and-discover", sentiment="angry"))
    with pytest.raises(InvalidInputError, match="no prototype 'nope'"):
        analyse_comments(planted, CommentFilter(prototype="nope"))


def test_suggestions_come_from_comments_without_a_theme(planted) -> None:
    report = analyse_comments(planted, CommentFilter(prototype="scan-and-discover"))
    assert report.suggestions, "three unthemed comments in each of three groups"
    themed = {c.text for c in report.comments if c.themes}
    for s in report.suggestions:
        assert s.count >= 2
        assert not themed.intersection(s.examples)
    assert any("farbe" in s.keyword.lower() for s in report.suggestions)


def test_report_comments_cli_json_and_errors(planted) -> None:
    from reports.commands import app

    runner = CliRunner()
    args = ["comments", "scan-and-discover", "--lab", str(planted.root)]
    out = runner.invoke(app, [*args, "--version", "2", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["total"] == 8 and data["filter"]["version"] == 2
    waiting = [c for c in data["counts"] if c["theme"] == "waiting" and c["by"] == "version"]
    assert waiting == [{"theme": "waiting", "by": "version", "group": "v2", "count": 5,
                        "comments": 8}]  # fmt: skip
    text = runner.invoke(app, [*args, "--theme", "waiting"], env={"COLUMNS": "200"})
    assert text.exit_code == 0 and "Waiting time" in text.output
    bad = runner.invoke(app, [*args, "--sentiment", "angry"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_html_section_escapes_comments_and_quotes_each_theme(planted) -> None:
    from reports.comments_section import comments_section_html

    report = analyse_comments(planted, CommentFilter(prototype="scan-and-discover"))
    html = comments_section_html(report)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "Nice colours" not in html
    assert "Themes per variant" in html and "Themes per version" in html
    waiting = html.split("<h4>Waiting time</h4>")[1].split("<h4>")[0]
    assert waiting.count("<blockquote") == 3  # three different waiting comments quoted
    assert len({q.split("<div")[0] for q in waiting.split("<blockquote")[1:]}) == 3
    assert "Die Farben sahen anders aus." in html  # a suggestion's example


def test_experiment_html_report_has_the_prototypes_comments(planted) -> None:
    from feedback.ingest import ingest
    from reports.htmlreport import write_report
    from tests.fixtures import new_test_experiment, write_sessions

    write_sessions(planted, 4)
    ingest(planted)
    new_test_experiment(planted, "scan-pos-v2", "scan-and-discover", "store")
    page = write_report(planted, "scan-pos-v2").read_text(encoding="utf-8")
    assert 'id="comments"' in page
    assert "Die Wartezeit an der Info war viel zu lang." in page
    assert "<script>alert(1)" not in page


# --- exact counts: comments the runtime wrote -------------------------------------------------


def test_runtime_comments_are_counted_exactly(lab, monkeypatch) -> None:
    from feedback.ingest import ingest
    from prototypes.scaffold import new_prototype

    new_prototype(lab, "kiosk", "feedback-kiosk")
    texts = ["Die Wartezeit an der Kasse war zu lang.", "Schöne Farben."]
    for text in texts:
        at = app_test(lab, monkeypatch, prototype="kiosk", store="S01")
        click(at, "sl_consent_yes")
        while session(at).phase in ("mission", "question"):
            if session(at).phase == "mission":
                walk_task(at)
            answer_questions(at, comment=text)
    written = [e for e in spool_events(lab) if e["type"] == "comment"]
    assert len(written) == 2
    ingest(lab)
    report = analyse_comments(lab, CommentFilter(prototype="kiosk"))
    assert [c.text for c in report.comments] == texts
    counts = report.counts_by("version")["v1"]
    assert (counts["waiting"], counts["checkout"], counts[NO_THEME]) == (1, 1, 1)
    assert all(c.screen for c in report.comments)  # the runtime's screen, or the last viewed


# --- the dashboard page -----------------------------------------------------------------------


def test_comments_page_shows_counts_comments_and_filters(planted, monkeypatch) -> None:
    from tests.test_reports_app import dashboard_page

    at = dashboard_page(planted, monkeypatch, "comments")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Comments"] == "24"
    at.selectbox(key="cm_theme").select("Waiting time").run()
    assert {m.label: m.value for m in at.metric}["Comments"] == "15"
    at.text_input(key="cm_search").input("queue").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Comments"] == "3"
