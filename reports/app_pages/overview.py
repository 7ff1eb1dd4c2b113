"""Overview page: what is in the lab's database, an ingest button, and every experiment's call."""

from __future__ import annotations

from html import escape

import streamlit as st

from errors import DatabaseBusyError, StorelabError
from reports import scorecard as sc
from reports.app_pages import _shared


def _short_time(value: object) -> str:
    """ "2026-11-28 18:36:02+00" -> "28 Nov" (the caption below has the full range)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value)).strftime("%d %b")
    except ValueError:
        return str(value or "–")[:16]


lab = _shared.current_lab()
_shared.style()

head, action = st.columns([3, 1], vertical_alignment="bottom")
head.title(lab.config.lab.name)
head.caption(f"Lab folder `{lab.root}`")
action.button(
    "Ingest new events",
    key="ingest_button",
    icon=":material/download:",
    on_click=_shared.run_ingest,
    args=(lab,),
    help="Read new spool files into the database (the same as `storelab feedback ingest`).",
    width="stretch",
)
if "ingest_result" in st.session_state:
    kind, message = st.session_state.pop("ingest_result")
    getattr(st, kind)(message)

with _shared.friendly_errors():
    summary = _shared.summary(lab)

if summary is None:
    st.info(
        "No data yet: the lab has no database. Press **Ingest new events** once prototypes have "
        "written events to the spool, or run `storelab sample generate` for simulated data."
    )
    st.stop()

cols = st.columns(6)
cols[0].metric("Events", f"{summary['events']:,}", border=True)
cols[1].metric(
    "Customer sessions",
    f"{summary['customer_sessions']:,}",
    border=True,
    help="The sessions experiments analyse.",
)
cols[2].metric(
    "Preview/team sessions",
    f"{summary['team_sessions']:,}",
    border=True,
    help="Opened as a team preview, from the gallery or with the team token: they never count "
    "in an experiment.",
)
cols[3].metric("Stores", f"{summary['stores']:,}", border=True)
cols[4].metric(
    "Rejected lines",
    f"{summary['rejected']:,}",
    border=True,
    help="Invalid lines kept with their reason in the table rejected_events.",
)
cols[5].metric("Last event", _short_time(summary.get("last")), border=True)
if summary.get("first"):
    st.caption(f"Events from {str(summary['first'])[:16]} to {str(summary['last'])[:16]} UTC.")

# --- experiments --------------------------------------------------------------------------------

st.subheader("Experiments")
ids = _shared.experiments(lab)
if not ids:
    st.caption("No experiment specs yet: `storelab experiment new ID --prototype P --unit store`.")
for exp_id in ids:
    with st.container(border=True, key=f"exp_card_{exp_id}"):
        left, mid, right = st.columns([2, 4, 1], vertical_alignment="center")
        try:
            result = _shared.analysis(lab, exp_id).result
        except DatabaseBusyError:
            left.markdown(f"**{exp_id}**")
            mid.warning("Database busy; reload in a moment.")
            continue
        except StorelabError as exc:
            left.markdown(f"**{exp_id}**")
            mid.caption(f"Cannot analyse yet: {exc}")
            continue
        _key, label, colour, _ = sc.recommendation(result)
        left.markdown(
            f"**{escape(exp_id)}**<br><span style='color:{colour};font-weight:700;"
            f"font-size:1.25rem'>{escape(label)}</span>",
            unsafe_allow_html=True,
        )
        primary = result.primary
        c = primary.comparisons[0]
        ci = sc.fmt_ci(c.ci_low, c.ci_high, lambda v, m=primary: sc.fmt_abs_effect(m, v))
        ok, _text = sc.srm_summary(result.srm)
        lines = [
            f"{sc.metric_label(primary.metric)}: "
            f"**{sc.fmt_abs_effect(primary, c.abs_effect)}** "
            f"{ci}, p adj. {sc.fmt_p(c.p_adjusted)}, "
            f"chance to win {sc.fmt_chance(c.chance_to_win)}",
            "Sample ratio OK" if ok else ("⚠ Sample ratio mismatch" if ok is False else ""),
        ]
        mid.markdown("  \n".join(line for line in lines if line))
        right.page_link(
            "app_pages/experiment.py",
            label="Scorecard",
            icon=":material/arrow_forward:",
            query_params={"exp": exp_id},
        )

# --- sessions per prototype / version / variant -------------------------------------------------

st.subheader("Customer sessions by prototype and variant")
rows = summary.get("by_prototype") or []
if rows:
    import plotly.graph_objects as go

    from reports.figures import FONT, GRID

    names = list(dict.fromkeys(r["variant"] for r in rows))
    colours = {
        n: sc.BASELINE_COLOR if i == 0 else sc.VARIANT_COLORS[(i - 1) % len(sc.VARIANT_COLORS)]
        for i, n in enumerate(sorted(names, key=lambda n: (n != "control", n)))
    }
    fig = go.Figure()
    for name in sorted(names, key=lambda n: (n != "control", n)):
        sub = [r for r in rows if r["variant"] == name]
        fig.add_trace(
            go.Bar(
                y=[f"{r['prototype']} v{r['version']}" for r in sub],
                x=[r["customer_sessions"] for r in sub],
                name=name,
                orientation="h",
                marker={"color": colours[name]},
                text=[f"{r['customer_sessions']:,}" for r in sub],
                textposition="auto",
            )
        )
    fig.update_layout(
        template="simple_white",
        barmode="group",
        height=120 + 36 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    fig.update_xaxes(showgrid=True, gridcolor=GRID, title="customer sessions")
    fig.update_yaxes(autorange="reversed", title=None)
    chart, table = st.columns([3, 2])
    chart.plotly_chart(fig, key="sessions_by_variant", theme=None, config={"displaylogo": False})
    table.dataframe(
        [
            {
                "prototype": r["prototype"],
                "version": r["version"],
                "variant": r["variant"],
                "customer sessions": r["customer_sessions"],
                "preview/team sessions": r["team_sessions"],
            }
            for r in rows
        ],
        key="sessions_table",
        hide_index=True,
    )
