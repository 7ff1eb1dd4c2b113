"""What every dashboard page shares: the lab, the sign-in page, cached data, friendly errors.

Not a page itself (the leading underscore says so). Data is read through short read-only DuckDB
connections (``feedback.store.connect`` inside ``reports.data``) and cached with
``st.cache_data`` keyed by the lab path and the database file's version, so a new ingest shows at
once and no connection outlives a call.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from errors import DatabaseBusyError, StorelabError
from lab import Lab, find_lab
from prototypes.runtime.access import sign_in
from reports import data
from reports.htmlreport import CSS

CACHE_TTL_S = 300
DASHBOARD_CSS = """
.sl { font-family: inherit; }
.sl-decision .sl-verdict { font-size: 34px; }
[data-testid='stMainBlockContainer'] { padding-top: 3.5rem; padding-bottom: 3rem; }
[data-testid='stMetricValue'] { font-variant-numeric: tabular-nums; }
.sl .sl-table, .sl .sl-table tr, .sl .sl-table td, .sl .sl-table th {
  border: none; background: none; }
.sl .sl-table { display: table; margin-bottom: 4px; }
.sl .sl-table th { border-bottom: 2px solid var(--line); }
.sl .sl-table td { border-bottom: 1px solid var(--line); }
.sl .sl-table tr.primary td { background: #f8fafc; }
.sl .sl-table tr:hover td { background: #f1f5f9; }
"""


def current_lab() -> Lab:
    """The lab named by ``STORELAB_LAB`` (set by ``storelab dashboard``); stops the page if none."""
    try:
        lab = find_lab()
        lab.config  # noqa: B018 - read the config now so a broken storelab.toml shows here
    except StorelabError as exc:
        st.error(f"No lab to show. {exc}\n\nStart the dashboard with `storelab dashboard`.")
        st.stop()
    return lab


def sign_in_page() -> None:
    """The only page before the token matches: asks for it and shows no data at all."""
    sign_in(
        current_lab(),
        "storelab · analyst dashboard",
        "This dashboard shows pilot data. Enter the lab's access token "
        "(`[dashboard] token` in `storelab.toml`), or open the link that `storelab dashboard` "
        "printed.",
    )


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Show a busy database or a missing one as a message, never a traceback."""
    try:
        yield
    except DatabaseBusyError:
        st.warning(
            "The database is busy: an ingest or another program is writing it right now. "
            "Wait a moment and reload the page."
        )
        st.stop()
    except StorelabError as exc:
        st.info(str(exc))
        st.stop()


def style() -> None:
    """The scorecard's CSS (shared with the HTML report) plus a few dashboard touches."""
    st.markdown(f"<style>{CSS}{DASHBOARD_CSS}</style>", unsafe_allow_html=True)


# --- cached data (keys: lab path + db version; never a connection) ------------------------------


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _summary(root: str, version: int) -> dict | None:
    return data.lab_summary(Lab(Path(root)))


def summary(lab: Lab) -> dict | None:
    return _summary(str(lab.root), data.db_version(lab))


def _specs_version(lab: Lab) -> int:
    return sum(p.stat().st_mtime_ns for p in lab.experiments_dir.glob("*.yaml"))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _experiments(root: str, specs: int) -> list[str]:
    return data.list_experiments(Lab(Path(root)))


def experiments(lab: Lab) -> list[str]:
    return _experiments(str(lab.root), _specs_version(lab))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Analysing…")
def _analysis(root: str, version: int, specs: int, experiment_id: str) -> data.ExperimentReport:
    return data.analyze(Lab(Path(root)), experiment_id)


def analysis(lab: Lab, experiment_id: str) -> data.ExperimentReport:
    """The experiment's analysis with its spec's context, cached until data or specs change."""
    return _analysis(str(lab.root), data.db_version(lab), _specs_version(lab), experiment_id)


def run_ingest(lab: Lab) -> None:
    """The ingest button's callback: the one ingest path, in this process; result in state.

    Whatever goes wrong shows as one line on the page, never as a traceback; the traceback of
    an unexpected error goes to the server's stderr, for the operator.
    """
    from feedback.ingest import ingest

    try:
        report = ingest(lab)
    except DatabaseBusyError:
        st.session_state["ingest_result"] = (
            "warning",
            "The database is busy (another ingest is running?). Try again in a moment.",
        )
        return
    except StorelabError as exc:
        st.session_state["ingest_result"] = ("error", _one_line(str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - the page must stay usable whatever happened
        print(f"storelab dashboard: ingest failed in {lab.root}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        st.session_state["ingest_result"] = (
            "error",
            f"Ingest failed: {_one_line(f'{type(exc).__name__}: {exc}')}. "
            "The dashboard's log has the details; `storelab feedback ingest` shows the same.",
        )
        return
    message = (
        f"Ingested {report.inserted:,} new events "
        f"({report.duplicates:,} duplicates skipped, {report.rejected:,} lines rejected)."
    )
    if report.unreadable:
        first = report.unreadable[0]
        message += (
            f" {len(report.unreadable)} spool file(s) could not be read, e.g. "
            f"{Path(first.source).name}: {first.error}."
        )
    problems = report.rejected or report.unreadable
    st.session_state["ingest_result"] = ("warning" if problems else "success", message)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- usability (insights) -------------------------------------------------------------------


def prototype_ids(lab: Lab) -> list[str]:
    """The lab's prototype ids (``prototypes.library``)."""
    from prototypes.library import list_prototype_ids

    return list_prototype_ids(lab)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _usability_choices(root: str, version: int, prototype: str):
    from feedback.store import connect
    from prototypes.library import load_lab_prototype

    lab = Lab(Path(root))
    proto = load_lab_prototype(lab, prototype)
    with connect(lab) as con:
        rows = con.execute(
            "SELECT list(DISTINCT variant ORDER BY variant), list(DISTINCT store_id ORDER BY "
            "store_id) FROM events WHERE prototype_id = $p",
            {"p": prototype},
        ).fetchone()
    return proto.version_numbers, rows[0] or [], rows[1] or [], list(proto.personas)


def usability_choices(
    lab: Lab, prototype: str
) -> tuple[list[int], list[str], list[str], list[str]]:
    """The prototype's versions, the variant labels and stores its events carry, and the
    personas it declares (none: the page shows no persona picker)."""
    return _usability_choices(str(lab.root), data.db_version(lab), prototype)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Reading the sessions…")
def _usability(root: str, version: int, prototype: str, proto_version, variant, store, persona):
    from insights.usability import UsabilityQuery, usability_report

    query = UsabilityQuery(version=proto_version, variant=variant, store=store, persona=persona)
    return usability_report(Lab(Path(root)), prototype, query)


def usability(
    lab: Lab,
    prototype: str,
    version: int,
    variant: str | None,
    store: str | None,
    persona: str | None = None,
):
    """The usability report (``insights.usability``), cached until the data change."""
    return _usability(
        str(lab.root), data.db_version(lab), prototype, version, variant, store, persona
    )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Reading every version…")
def _history(root: str, version: int, prototype: str):
    from insights.history import iteration_history

    return iteration_history(Lab(Path(root)), prototype)


def history(lab: Lab, prototype: str):
    """The prototype's iteration history (``insights.history``), cached until the data change."""
    return _history(str(lab.root), data.db_version(lab), prototype)


def choice_from_url(param: str, options: list[str], key: str) -> None:
    """Seed the picker state ``key`` from ``?param=`` once per new value, so links open the
    page on their choice and the picker stays free afterwards; fall back to the first option."""
    wanted = st.query_params.get(param)
    if wanted and wanted != st.session_state.get(f"{key}_from_url"):
        st.session_state[f"{key}_from_url"] = wanted
        if wanted in options:
            st.session_state[key] = wanted
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]


def prototypes_or_stop(lab: Lab) -> list[str]:
    """The lab's prototype ids; a hint and the end of the page when there are none."""
    prototypes = prototype_ids(lab)
    if not prototypes:
        st.info("No prototypes in this lab yet: `storelab prototype new ID --template T`.")
        st.stop()
    return prototypes
