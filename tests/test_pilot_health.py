"""Pilot health (``storelab pilot status``): a lab with events at known times and ``now`` fixed.

The scenario is ``tests.fixtures.add_pilot``: Wednesday 11:00 in Berlin, stores open 09:00-20:00,
S01 busy, S02 silent since before opening, S03 never seen, S04 closed (its own hours), S05 not in
the experiment. The CLI tests use the clock, so they only assert what holds at any time of day.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli import app
from errors import InvalidInputError
from experiments.pilot.health import pilot_health
from experiments.pilot.hours import OpeningHours
from tests.fixtures import (
    PILOT_EXPERIMENT,
    PILOT_NOW,
    add_pilot,
    session_events,
    write_jsonl,
)

runner = CliRunner()
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def pilot(lab):
    return add_pilot(lab)


def stores_of(health) -> dict:
    return {s.store_id: s for s in health.stores}


def devices_of(store) -> dict:
    return {d.device: d for d in store.devices}


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in November 2026 (Mon 23 .. Sun 29), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


# --- what the table shows ------------------------------------------------------------------------


def test_sessions_today_and_this_week_per_store_and_device(pilot):
    stores = stores_of(pilot_health(pilot, now=PILOT_NOW))
    s01 = devices_of(stores["S01"])
    # kiosk: two today, Tue and Mon this week; Sunday's session was last week
    assert (s01["kiosk"].sessions_today, s01["kiosk"].sessions_week) == (2, 4)
    assert (s01["phone"].sessions_today, s01["phone"].sessions_week) == (1, 1)
    assert (stores["S01"].sessions_today, stores["S01"].sessions_week) == (3, 5)
    assert (stores["S04"].sessions_today, stores["S04"].sessions_week) == (0, 1)
    assert (stores["S05"].sessions_today, stores["S05"].sessions_week) == (0, 1)


def test_last_event_age_and_events_per_hour(pilot):
    stores = stores_of(pilot_health(pilot, now=PILOT_NOW))
    s01 = devices_of(stores["S01"])
    # sessions are six events 10 s apart: the 10:45 session ends at 10:45:50
    assert s01["kiosk"].last_event == berlin(25, 10, 45) + timedelta(seconds=50)
    assert s01["kiosk"].last_event_age_min == 14.2
    assert s01["phone"].last_event_age_min == 9.2
    assert stores["S01"].last_event_age_min == 9.2  # the store: its freshest device
    assert s01["kiosk"].events_per_hour == 12  # both sessions of the last hour
    assert s01["phone"].events_per_hour == 6
    assert devices_of(stores["S02"])["kiosk"].events_per_hour == 0
    assert stores["S03"].last_event is None and stores["S03"].devices == ()


def test_rejected_lines_by_source_and_store(pilot):
    health = pilot_health(pilot, now=PILOT_NOW)
    found = {(r.store_id, r.lines) for r in health.rejected}
    assert found == {("S02", 1), ("unknown", 2)}  # not JSON / no store_id: unknown
    assert all(r.source.endswith("pilot-kiosks.jsonl") for r in health.rejected)
    assert stores_of(health)["S02"].rejected == 1
    assert health.rejected_total == 3


def test_srm_so_far_counts_sessions_as_the_metrics_do(pilot):
    from scipy.stats import chisquare

    health = pilot_health(pilot, now=PILOT_NOW)
    (srm,) = health.srm
    assert srm.experiment == PILOT_EXPERIMENT
    # unit=store: stores that delivered sessions per variant against the plan (2 + 2)
    assert srm.check.counts == {"control": 1, "treatment": 2}
    # Sunday's S01 session is before the start; S05 is not in the experiment
    assert srm.check.sessions == {"control": 5, "treatment": 2}
    assert srm.check.p_value == pytest.approx(chisquare([1, 2], [1.5, 1.5]).pvalue)
    assert srm.check.ok
    earlier = pilot_health(pilot, now=PILOT_NOW - timedelta(minutes=20))
    assert earlier.srm[0].check.sessions == {"control": 3, "treatment": 2}  # "so far"


def test_sample_ratio_mismatch_is_flagged(pilot):
    from experiments.spec import parse_experiment, write_experiment

    raw = {
        "id": "reco", "hypothesis": "h", "prototype": "reco", "unit": "session",
        "variants": {"control": {"version": 1}, "treatment": {"version": 2}},
        "allocation": {"control": 0.5, "treatment": 0.5},
        "start": date(2026, 11, 23), "end": date(2026, 12, 20),
        "primary_metric": "task_success_rate",
    }  # fmt: skip
    write_experiment(pilot, parse_experiment(raw, "reco.yaml"))
    rows = []
    for i in range(25):  # every session shows control: the hash could never do that
        rows += session_events(
            store_id="S01", variant="control", success=True, experiment_id="reco",
            start=PILOT_NOW - timedelta(minutes=50 - i),
        )  # fmt: skip
    from feedback.ingest import ingest

    ingest(pilot, [write_jsonl(pilot.root / "reco.jsonl", rows)])
    health = pilot_health(pilot, now=PILOT_NOW)
    srm = {s.experiment: s.check for s in health.srm}
    assert srm["reco"].counts == {"control": 25, "treatment": 0}
    assert not srm["reco"].ok
    assert ("srm", "reco") in {(f.kind, f.subject) for f in health.flags}


# --- silence ---------------------------------------------------------------------------------


def test_silent_store_during_opening_hours_is_flagged(pilot):
    health = pilot_health(pilot, now=PILOT_NOW)
    s02 = stores_of(health)["S02"]
    assert s02.open_now and s02.watched
    # last event 08:50 local, before opening: only the 120 open minutes since 09:00 count
    assert s02.last_event_age_min == 129.2
    assert s02.silent_min == 120.0
    assert s02.flag == "silent"
    flag = next(f for f in health.flags if f.subject == "S02")
    assert flag.kind == "silent" and "2 h 00 min" in flag.message
    assert not health.ok


def test_store_that_opened_20_minutes_ago_is_not_silent_yet(pilot):
    s02 = stores_of(pilot_health(pilot, now=berlin(25, 9, 20)))["S02"]
    assert s02.open_now and s02.silent_min == 20.0 and s02.flag is None
    s02 = stores_of(pilot_health(pilot, now=berlin(25, 10, 0)))["S02"]
    assert s02.silent_min == 60.0 and s02.flag == "silent"  # the threshold itself


def test_store_outside_opening_hours_is_not_flagged(pilot):
    s04 = stores_of(pilot_health(pilot, now=PILOT_NOW))["S04"]  # opens at 14:00
    assert s04.watched and not s04.open_now
    assert s04.opening_hours == "14:00-22:00"
    assert s04.flag is None and s04.silent_min is None
    night = pilot_health(pilot, now=berlin(25, 23, 0))
    assert not any(s.open_now for s in night.stores)
    assert [f.subject for f in night.flags] == ["S03"]  # never seen stays flagged


def test_never_seen_store_of_a_running_experiment_is_flagged_once_it_was_open(pilot):
    health = pilot_health(pilot, now=PILOT_NOW)
    s03 = stores_of(health)["S03"]
    assert s03.flag == "never_seen"
    assert s03.silent_min == 24 * 60.0  # Mon 11 h + Tue 11 h + today 2 h
    assert PILOT_EXPERIMENT in next(f for f in health.flags if f.subject == "S03").message
    first_morning = pilot_health(pilot, now=berlin(23, 9, 30))  # the experiment's first day
    assert stores_of(first_morning)["S03"].silent_min == 30.0
    assert stores_of(first_morning)["S03"].flag is None


def test_stores_outside_the_running_experiment_are_not_watched(pilot):
    s05 = stores_of(pilot_health(pilot, now=PILOT_NOW))["S05"]
    assert not s05.watched and s05.flag is None


def test_without_a_running_experiment_every_recent_store_is_watched(pilot):
    (pilot.experiments_dir / f"{PILOT_EXPERIMENT}.yaml").unlink()
    health = pilot_health(pilot, now=PILOT_NOW)
    stores = stores_of(health)
    assert health.running == () and health.srm == ()
    assert "S03" not in stores  # never seen, and nobody expects it
    assert stores["S05"].watched and stores["S05"].flag == "silent"
    assert {f.subject for f in health.flags} == {"S02", "S05"}


def test_a_store_with_its_own_hours_wins_over_the_lab(pilot):
    text = pilot.config_path.read_text().replace('"09:00-20:00"', '"06:00-12:00"')
    pilot.config_path.write_text(text)
    from lab import find_lab

    lab = find_lab(pilot.root)  # the config is read once per Lab
    stores = stores_of(pilot_health(lab, now=berlin(25, 13, 0)))
    assert stores["S02"].opening_hours == "06:00-12:00" and not stores["S02"].open_now
    assert stores["S04"].opening_hours == "14:00-22:00" and stores["S04"].flag is None
    evening = stores_of(pilot_health(lab, now=berlin(25, 21, 30)))
    assert evening["S04"].silent_min == 7.5 * 60 and evening["S04"].flag == "silent"


def test_to_dict_is_plain_json(pilot):
    data = pilot_health(pilot, now=PILOT_NOW).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["ok"] is False and data["now"] == "2026-11-25T10:00:00+00:00"
    assert data["local_time"] == "2026-11-25T11:00:00+01:00"
    assert [f["kind"] for f in data["flags"]] == ["silent", "never_seen"]


# --- opening hours ------------------------------------------------------------------------------


def test_opening_hours_past_midnight():
    hours = OpeningHours.parse("22:00-06:00", "test")
    assert hours.current(berlin(25, 23, 0), BERLIN) is not None
    opening = hours.current(berlin(26, 5, 0), BERLIN)
    assert opening == (berlin(25, 22, 0), berlin(26, 6, 0))
    assert hours.current(berlin(26, 12, 0), BERLIN) is None
    assert hours.open_minutes(berlin(25, 12, 0), berlin(26, 12, 0), BERLIN) == 8 * 60


def test_open_minutes_count_real_time_across_a_clock_change():
    hours = OpeningHours.parse("00:00-24:00", "test")
    start = datetime(2026, 3, 29, tzinfo=BERLIN)  # clocks go forward at 02:00: a 23-hour day
    end = datetime(2026, 3, 30, tzinfo=BERLIN)
    assert hours.open_minutes(start, end, BERLIN) == 23 * 60


@pytest.mark.parametrize("text", ["9-17", "09:00-24:30", "10:00-10:00", "09:00-20:00\n"])
def test_bad_opening_hours_are_refused(text):
    with pytest.raises(InvalidInputError, match="test"):
        OpeningHours.parse(text, "test")


# --- the command --------------------------------------------------------------------------------


def run(*args) -> object:
    return runner.invoke(app, ["pilot", "status", *map(str, args)])


def test_cli_exits_4_when_a_store_is_flagged_also_with_json(lab):
    add_pilot(lab, now=datetime.now(UTC))  # S03 never seen: flagged at any hour
    result = run("--lab", lab.root)
    assert result.exit_code == 4, result.output
    assert "NEVER SEEN" in result.output and "S03 has never sent an event" in result.output
    result = run("--lab", lab.root, "--json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert set(data) == {"ok", "now", "local_time", "timezone", "silent_after_minutes",
                         "running", "flags", "stores", "srm", "rejected"}  # fmt: skip
    assert data["ok"] is False and data["running"] == [PILOT_EXPERIMENT]
    assert {"kind": "never_seen", "subject": "S03"}.items() <= data["flags"][-1].items()
    s01 = next(s for s in data["stores"] if s["store_id"] == "S01")
    assert set(s01) >= {
        "opening_hours",
        "open_now",
        "last_event_age_min",
        "silent_min",
        "sessions_today",
        "sessions_week",
        "rejected",
        "flag",
        "devices",
    }
    assert {d["device"] for d in s01["devices"]} == {"kiosk", "phone"}
    assert set(s01["devices"][0]) == {
        "device",
        "sessions_today",
        "sessions_week",
        "last_event",
        "last_event_age_min",
        "events_per_hour",
    }
    assert data["srm"][0]["experiment"] == PILOT_EXPERIMENT
    assert {r["store_id"] for r in data["rejected"]} == {"S02", "unknown"}


def test_cli_exits_0_when_every_store_sends(lab):
    from feedback.ingest import ingest

    now = datetime.now(UTC)
    rows = session_events(store_id="S01", variant="control", success=True, experiment_id=None,
                          start=now - timedelta(minutes=2))  # fmt: skip
    ingest(lab, [write_jsonl(lab.root / "today.jsonl", rows)])
    result = run("--lab", lab.root)
    assert result.exit_code == 0, result.output
    assert "All watched stores are sending data." in result.output
    assert json.loads(run("--lab", lab.root, "--json").stdout)["ok"] is True


def test_cli_without_a_database_is_a_user_error(lab):
    result = run("--lab", lab.root)
    assert result.exit_code == 1
    assert "has no data yet" in result.output and "Traceback" not in result.output


def test_cli_names_a_bad_time_zone(pilot):
    text = pilot.config_path.read_text().replace("Europe/Berlin", "Europe/Atlantis")
    pilot.config_path.write_text(text)
    result = run("--lab", pilot.root)
    assert result.exit_code == 1
    assert "[pilot] timezone" in result.output and "Europe/Atlantis" in result.output
