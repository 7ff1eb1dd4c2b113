"""Personal data is masked where text enters: the runtime before the spool, ingest for every text
field, props at any depth and rejected raw lines; the same patterns in Python and in SQL.

The labelled corpus below is the measure: every positive is masked exactly as written, no
negative (prices, dates, times, sizes, ids, UUIDs, timestamps, coordinates, short numbers) is
touched, and DuckDB masks every string the way Python does.
"""

from __future__ import annotations

import csv
import json
import random
import uuid

import duckdb
import pytest
from typer.testing import CliRunner

from feedback import privacy
from feedback.events import Event
from feedback.ingest import REDACTION_OFF, ingest
from feedback.sink import SpoolSink
from feedback.store import connect
from lab import Lab
from prototypes.scaffold import new_prototype
from tests.fixtures import (
    answer_questions,
    app_test,
    click,
    make_event,
    session,
    spool_events,
    walk_task,
    write_jsonl,
)

# --- the corpus ---------------------------------------------------------------------------------

POSITIVE: list[tuple[str, str]] = [
    # German phone numbers, every way of writing them
    ("Bitte ruft mich zurück: 0171 2345678", "Bitte ruft mich zurück: [phone]"),
    ("Handy 0171/2345678, danke", "Handy [phone], danke"),
    ("Nummer 0171.2345678", "Nummer [phone]"),
    ("0171-234 56 78 (abends)", "[phone] (abends)"),
    ("0171 / 234 56 78", "[phone]"),
    ("01712345678", "[phone]"),
    ("Tel. 030 12345678", "Tel. [phone]"),
    ("Tel.0171 2345678", "Tel.[phone]"),
    ("Büro (030) 1234567 oder", "Büro [phone] oder"),
    ("Tel: 089 123456", "Tel: [phone]"),
    ("0800 1234567 kostenlos", "[phone] kostenlos"),
    ("Ruf an: 0171 2345678.", "Ruf an: [phone]."),
    ("Zeile eins\n0171 2345678", "Zeile eins\n[phone]"),
    ("0171 2345678,0151 1234567", "[phone],[phone]"),
    ("Mobil\u00a00171\u00a02345678", "Mobil\u00a0[phone]"),
    # international
    ("+49 171 2345678", "[phone]"),
    ("Festnetz +49 (0)30 1234567.", "Festnetz [phone]."),
    ("0049 30 1234567", "[phone]"),
    ("+491712345678", "[phone]"),
    ("+49-171-2345678", "[phone]"),
    ("Call me on +44 20 7946 0958 please", "Call me on [phone] please"),
    ("+1 (415) 555-2671", "[phone]"),
    ("call 020 7946 0958 after six", "call [phone] after six"),
    # e-mail
    ("Mail an anna.muster@example.de bitte", "Mail an [email] bitte"),
    ("jürgen.müller@web.de schreibt", "[email] schreibt"),
    ("anna+shop@mail.example.co.uk", "[email]"),
    ("My email is sam.taylor@example.org.", "My email is [email]."),
    ("Reach me at SAM@EXAMPLE.COM", "Reach me at [email]"),
    ("(lena_s-1990@t-online.de)", "([email])"),
    # IBAN
    ("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [iban] bitte"),
    ("DE89370400440532013000", "[iban]"),
    ("de89 3704 0044 0532 0130 00", "[iban]"),
    ("AT61 1904 3002 3457 3201", "[iban]"),
    ("CH93 0076 2011 6238 5295 7", "[iban]"),
    ("GB29 NWBK 6016 1331 9268 19", "[iban]"),
    ("NL91ABNA0417164300", "[iban]"),
    ("FR14 2004 1010 0505 0001 3M02 606", "[iban]"),
    # together
    (
        "Rückruf 0171 2345678 oder anna@example.de, Erstattung auf DE89370400440532013000",
        "Rückruf [phone] oder [email], Erstattung auf [iban]",
    ),
]

NEGATIVE: list[str] = [
    # prices
    "Die Jacke kostet 129,95 €",
    "1.299,00 €",
    "€ 49.99",
    "Preis: 0,99 €",
    "was 1,299.00 GBP",
    # dates and times
    "am 26.11.2026 abgeholt",
    "01.12.2026",
    "2026-11-26",
    "26/11/2026",
    "11/26/2026",
    "um 14:30 Uhr",
    "09.30 - 18.00 Uhr",
    "09:00-20:00",
    "Mo-Fr 9-20 Uhr",
    # sizes
    "Größe 42",
    "XL",
    "W32/L34",
    "EU 42-44",
    "Gr. 36/38",
    # store ids, UUIDs, timestamps
    "Filiale S01",
    "S12",
    "0199a3b4-5d6e-7f80-9123-456789abcdef",
    "01995678-1234-7abc-8def-0123456789ab",
    "d102dd45-3a11-44ed-9df2-1d7569d00db9",
    "2026-11-26T09:30:00.123+01:00",
    "2026-11-26 09:30:00+00",
    "1764150000",
    "1764150000123",
    # coordinates
    "52.520008, 13.404954",
    "0.0123456789",
    "x=0.4231 y=0.8525",
    # short numbers, order numbers, postcodes, barcodes
    "Bestellung 123456",
    "Auftrag 0123456",
    "#4711",
    "Bon 012345",
    "order no. 1234567",
    "01067 Dresden",
    "EAN 4006381333931",
    "3 Jacken für 2",
    "10 Minuten gewartet",
    "Call 911",
    "Kasse 3, Tisch 12",
    # signs, offsets, versions, handles
    "+5 %",
    "+12,5 % mehr",
    "Zeitzone +01:00",
    "Version 1.0.12345678",
    "@handle",
    "user@localhost",
    "Preis @ 20 €",
]


@pytest.mark.parametrize(("text", "masked"), POSITIVE, ids=[p[0][:30] for p in POSITIVE])
def test_every_positive_is_masked(text, masked):
    assert privacy.redact(text) == masked
    assert privacy.has_personal_data(text)


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_negative_is_touched(text):
    assert privacy.redact(text) == text
    assert not privacy.has_personal_data(text)


# Strings where the two engines could disagree: escapes, brackets, non-ASCII, ends of lines.
TRICKY = [
    'Sie sagte "0171 2345678" und ging',
    "C:\\Users\\anna@example.de",
    "C:\\0171 2345678",
    "Tel:\n0171 2345678\n",
    "0171 2345678\n",
    "mail\tanna@example.de\r\n",
    "ü0171 2345678",
    "Größe0171 2345678",
    "x\x010171 2345678",
    "DE89370400440532013000ü",
    "\u2028anna@example.de\u2029",
    "0171 2345678/-",
    "[email] [phone] [iban]",
    "",
]


def _random_strings(n: int, seed: int) -> list[str]:
    """Strings made of the pieces personal data and its neighbours are made of."""
    pieces = [
        "0171", " ", "2345678", "@", "anna", ".de", "@x.de", '"', "\\", "\n", "\t", "\r", "\b",
        "\f", "\x01", "\x1f", "\u2028", "ü", "Ā", "+49", "(", ")", "/", "-", ".", "DE89", "3704",
        "0044", "0532", "GB29", "NWBK", "x", "n", "t", "b", "Ab.", "Tel.", "\u00a0", "\u202f",
        ",", ":", "0", "00", "9", "44", "[", "]", "{", "'",
    ]  # fmt: skip
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(n)]


def _sql_redact(strings: list[str]) -> list[str]:
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {privacy.redact_sql('s')}, {privacy.matches_sql('s')} "
        "FROM unnest(?) WITH ORDINALITY t(s, i) ORDER BY i",
        [strings],
    ).fetchall()
    assert [m for _, m in rows] == [privacy.has_personal_data(s) for s in strings]
    return [r for r, _ in rows]


def test_sql_masks_exactly_like_python():
    corpus = [t for t, _ in POSITIVE] + NEGATIVE + TRICKY + _random_strings(3000, seed=1)
    assert _sql_redact(corpus) == [privacy.redact(t) for t in corpus]


def test_one_match_over_several_fields_finds_what_each_field_holds():
    """Ingest checks a row's text fields with one match over them, joined by newlines."""
    strings = [t for t, _ in POSITIVE] + NEGATIVE + TRICKY + _random_strings(2000, seed=3)
    rng = random.Random(4)
    triples = [[rng.choice(strings + [None]) for _ in range(3)] for _ in range(3000)]
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT {privacy.matches_sql('t[1]', 't[2]', 't[3]')} "
            "FROM unnest(?) WITH ORDINALITY u(t, i) ORDER BY i",
            [triples],
        )
        .fetchall()
    )
    assert [r for (r,) in rows] == [any(map(privacy.has_personal_data, t)) for t in triples]


def test_props_masked_as_json_text_equal_python_and_stay_valid_json():
    """Ingest masks props as DuckDB's JSON text; Python masks string by string."""
    strings = _random_strings(4000, seed=2)
    objects = [
        {a: b, "list": [b, {"deep": a}], "n": 1.5}
        for a, b in zip(strings[::2], strings[1::2], strict=True)
    ]
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT (CASE WHEN {privacy.matches_sql("p::VARCHAR")}
                    THEN {privacy.redact_json_sql("p")} ELSE p END)::VARCHAR,
                TRY_CAST({privacy.redact_sql("p::VARCHAR")} AS JSON) IS NOT NULL
            FROM (SELECT json_transform(line, '{{"props": "JSON"}}').props AS p, i
                  FROM unnest(?) WITH ORDINALITY t(line, i)) ORDER BY i""",
        [[json.dumps({"props": o}) for o in objects]],
    ).fetchall()
    assert all(valid for _, valid in rows)
    assert [json.loads(r) for r, _ in rows] == [privacy.redact_value(o) for o in objects]


# --- ingest ---------------------------------------------------------------------------------------


def _ingest(lab: Lab, tmp_path, rows: list) -> None:
    ingest(lab, [write_jsonl(tmp_path / f"{uuid.uuid4()}.jsonl", rows)])


def _one(lab: Lab, sql: str):
    with connect(lab) as con:
        return con.execute(sql).fetchone()


def test_text_0171_dot_number_is_masked(lab, tmp_path):
    _ingest(lab, tmp_path, [make_event(type="comment", text="Ruf an: 0171.2345678")])
    assert _one(lab, "SELECT text FROM events") == ("Ruf an: [phone]",)


def test_props_at_any_depth_and_the_id_fields_are_masked(lab, tmp_path):
    props = {
        "form": {"phone": "0171 2345678", "mail": ["anna@example.de", "Tel:\n0151 1234567"]},
        "iban": "DE89 3704 0044 0532 0130 00",
        "price": "129,95 €",
        "date": "01.12.2026",
        "size": "42",
        "n": 5,
    }
    event = make_event(
        props=props,
        element="anna@example.de",
        screen="call 0171 2345678",
        task="+49 30 1234567",
        question="a@b.de",
    )
    _ingest(lab, tmp_path, [event])
    stored = _one(lab, "SELECT props, element, screen, task, question FROM events")
    assert json.loads(stored[0]) == {
        "form": {"phone": "[phone]", "mail": ["[email]", "Tel:\n[phone]"]},
        "iban": "[iban]",
        "price": "129,95 €",
        "date": "01.12.2026",
        "size": "42",
        "n": 5,
    }
    assert stored[1:] == ("[email]", "call [phone]", "[phone]", "[email]")


def test_fields_without_personal_data_are_stored_as_they_came(lab, tmp_path):
    props = {"path": ["home", "product"], "target": "S01", "when": "2026-11-26T09:30:00+01:00"}
    event = make_event(props=props, element="size.42", screen="product", text="Größe 42, 129,95 €")
    _ingest(lab, tmp_path, [event])
    stored = _one(lab, "SELECT props, element, screen, text FROM events")
    assert (json.loads(stored[0]), *stored[1:]) == (props, "size.42", "product", event["text"])


def test_rejected_lines_keep_no_personal_data(lab, tmp_path):
    lines = [
        make_event(type="rückruf", text="0171 2345678 oder anna@example.de"),
        '{"text": "kaputt, Mail jürgen.müller@example.de, IBAN DE89370400440532013000',
        make_event(type="Tel 0171 2345678"),  # the reason quotes the value
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with path.open("ab") as fh:  # a line that is not UTF-8
        fh.write(b'{"text": "\xff Handy +49 171 2345678"}\n')
    report = ingest(lab, [path])
    assert report.rejected == 4
    with connect(lab) as con:
        rows = con.execute("SELECT raw, reason FROM rejected_events ORDER BY line").fetchall()
    everything = json.dumps(rows, ensure_ascii=False) + " ".join(report.files[0].examples)
    for personal in ("2345678", "anna@", "example.de", "3704004405"):
        assert personal not in everything
    raws = [r for r, _ in rows]
    assert "[phone] oder [email]" in raws[0] and "[email], IBAN [iban]" in raws[1]
    assert rows[2][1] == "unknown type 'Tel [phone]'"
    assert "Handy [phone]" in raws[3]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_csv_and_parquet_imports_are_masked(lab, tmp_path, kind):
    rows = [
        make_event(text="Mail: anna@example.de", props={"tel": "0171 2345678"}),
        make_event(text="IBAN DE89 3704 0044 0532 0130 00", element="+49 171 2345678"),
    ]
    csv_path = tmp_path / "e.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "props": json.dumps(r["props"])} for r in rows)
    path = csv_path
    if kind == "parquet":
        path = tmp_path / "e.parquet"
        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar=true)) TO '{path}'"
        )
    assert ingest(lab, [path]).inserted == 2
    with connect(lab) as con:
        stored = con.execute("SELECT text, props, element FROM events ORDER BY text").fetchall()
    assert stored == [
        ("IBAN [iban]", "{}", "[phone]"),
        ("Mail: [email]", '{"tel":"[phone]"}', "btn-sizes"),
    ]


# --- turned off only explicitly -------------------------------------------------------------------


def test_redaction_is_on_unless_the_lab_turns_it_off(lab, tmp_path):
    text = "0171 2345678"
    toml = lab.config_path.read_text(encoding="utf-8")
    # No [privacy] section at all: still on.
    start = toml.index("[privacy]")
    lab.config_path.write_text(toml[:start] + toml[toml.index("[kiosk]") :], encoding="utf-8")
    report = ingest(Lab(lab.root), [write_jsonl(tmp_path / "a.jsonl", [make_event(text=text)])])
    assert report.redacted and not report.warning and "warning" not in report.to_dict()
    assert _one(lab, "SELECT text FROM events") == ("[phone]",)

    lab.config_path.write_text(
        toml.replace("redact_text = true", "redact_text = false"), encoding="utf-8"
    )
    off = Lab(lab.root)
    report = ingest(off, [write_jsonl(tmp_path / "b.jsonl", [make_event(text=text)])])
    assert not report.redacted and report.to_dict()["warning"] == REDACTION_OFF
    assert _one(lab, "SELECT count(*) FROM events WHERE text = '0171 2345678'") == (1,)


def test_ingest_command_says_in_one_line_that_nothing_was_masked(lab, tmp_path):
    from cli import app

    toml = lab.config_path.read_text(encoding="utf-8")
    lab.config_path.write_text(
        toml.replace("redact_text = true", "redact_text = false"), encoding="utf-8"
    )
    path = write_jsonl(tmp_path / "a.jsonl", [make_event(text="0171 2345678")])
    result = CliRunner().invoke(app, ["feedback", "ingest", str(path), "--lab", str(lab.root)])
    assert result.exit_code == 0, result.output
    assert "NOT masked" in result.output
    assert [line for line in result.output.splitlines() if "NOT masked" in line] == [
        line for line in result.output.splitlines() if "redact_text = false" in line
    ]


# --- the spool: nothing unmasked is written ------------------------------------------------------


def _event(**fields) -> Event:
    base = dict(
        session_id=uuid.uuid4(),
        prototype_id="p",
        prototype_version=1,
        variant="control",
        store_id="S01",
        device="kiosk",
        type="comment",
    )
    return Event(**(base | fields))


def test_spool_sink_masks_before_the_line_is_written(tmp_path):
    with SpoolSink(tmp_path) as sink:
        sink.emit(_event(text="Ruf an 0171.2345678", props={"form": {"mail": "a.b@example.de"}}))
        sink.emit(make_event(text="IBAN DE89370400440532013000", element="0171 2345678"))
        sink.emit(_event(text="Größe 42, 129,95 €"))
    raw = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.jsonl"))
    for personal in ("2345678", "a.b@", "3704004405"):
        assert personal not in raw
    rows = [json.loads(line) for line in raw.splitlines()]
    assert rows[0]["text"] == "Ruf an [phone]" and rows[0]["props"] == {"form": {"mail": "[email]"}}
    assert rows[1]["text"] == "IBAN [iban]" and rows[1]["element"] == "[phone]"
    assert rows[2]["text"] == "Größe 42, 129,95 €"
    Event.model_validate(rows[0])


def test_spool_sink_keeps_text_only_when_told_to(tmp_path):
    with SpoolSink(tmp_path, redact=False) as sink:
        sink.emit(_event(text="0171 2345678"))
    (line,) = next(tmp_path.glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["text"] == "0171 2345678"


def test_a_mask_longer_than_what_it_hid_keeps_text_within_the_limit(tmp_path):
    with SpoolSink(tmp_path) as sink:
        sink.emit(_event(text="a@b.de " * 285))  # 1995 characters; masked, it would be longer
    (line,) = next(tmp_path.glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    Event.model_validate(json.loads(line))


def test_a_comment_typed_in_the_runtime_reaches_the_spool_masked(lab, monkeypatch):
    new_prototype(lab, "kiosk", "feedback-kiosk")
    at = app_test(lab, monkeypatch, prototype="kiosk", store="S01")
    click(at, "sl_consent_yes")
    comment = "Bitte zurückrufen: 0171.2345678 oder lena.schmidt@example.de"
    while session(at).phase in ("mission", "question"):
        if session(at).phase == "mission":
            walk_task(at)
        answer_questions(at, comment=comment)
    raw = "".join(p.read_text(encoding="utf-8") for p in lab.spool_dir.glob("*.jsonl*"))
    assert "2345678" not in raw and "lena.schmidt" not in raw
    (event,) = [e for e in spool_events(lab) if e["type"] == "comment"]
    assert event["text"] == "Bitte zurückrufen: [phone] oder [email]"
