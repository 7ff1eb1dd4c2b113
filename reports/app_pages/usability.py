"""Usability page: one prototype version's tasks, screens to rework, screens and paths.

Needs no experiment. The same numbers, words and figures as ``storelab report usability`` and
its HTML file (``reports.usability_view``, ``reports.usability_figures``).
"""

from __future__ import annotations

import streamlit as st

from reports import usability_view as uv
from reports.app_pages import _shared
from reports.figures import PLOTLY_CONFIG
from reports.usability_figures import outcomes_figure, sankey_figure, time_figure
from reports.usability_html import USABILITY_CSS, rework_html, table_html

ALL = "(all)"

lab = _shared.current_lab()
_shared.style()
st.markdown(f"<style>{USABILITY_CSS}</style>", unsafe_allow_html=True)
st.title("Usability")

prototypes = _shared.prototypes_or_stop(lab)

cols = st.columns(4)
prototype = cols[0].selectbox("Prototype", prototypes, key="usab_prototype")
with _shared.friendly_errors():
    versions, variants, stores, declared = _shared.usability_choices(lab, prototype)
version = cols[1].selectbox("Version", versions, index=len(versions) - 1, key="usab_version")
variant = cols[2].selectbox("Variant", [ALL, *variants], key="usab_variant")
store = cols[3].selectbox("Store", [ALL, *stores], key="usab_store")

persona = ALL
if declared:  # segment-of-one prototypes: read one persona's journeys ('anonymous': none)
    persona = st.selectbox("Persona", [ALL, *declared, "anonymous"], key="usab_persona")

with _shared.friendly_errors():
    report = _shared.usability(
        lab,
        prototype,
        version,
        None if variant == ALL else variant,
        None if store == ALL else store,
        None if persona == ALL else persona,
    )

st.caption(uv.subtitle(report))
head = st.columns(4)
head[0].metric("Usability score", uv.num(report.usability.score, 0), border=True,
               help=uv.SCORE_NOTE)  # fmt: skip
head[1].metric("Customer sessions", f"{report.sessions:,}", border=True)
head[2].metric("Tasks", len(report.tasks), border=True)
head[3].metric("Screens to rework", len(report.rework), border=True)


def html(body: str) -> None:
    st.markdown(f'<div class="sl">{body}</div>', unsafe_allow_html=True)


st.subheader("Tasks")
html(table_html(uv.TASK_COLUMNS, [uv.task_row(t) for t in report.tasks], "sl-tasks"))
st.caption(uv.OUTCOME_NOTE)
if report.tasks:
    st.plotly_chart(outcomes_figure(report), key="usab_outcomes", theme=None, config=PLOTLY_CONFIG)

st.subheader("Screens to rework")
html(rework_html(report) or "<p>No screen had failures or misclicks.</p>")

for task in report.tasks:
    with st.container(border=True, key=f"usab_task_{task.task}"):
        st.markdown(f"### {task.task} · score {uv.num(task.usability.score, 0)}")
        st.caption(task.prompt)
        st.markdown(f"Expected path: **{' → '.join(task.paths.expected_path)}**. "
                    f"{uv.time_line(task)}")  # fmt: skip
        html(table_html(uv.SCREEN_COLUMNS, uv.screen_rows(task), "sl-screens"))
        time_fig, sankey = time_figure(task), sankey_figure(task)
        if time_fig is not None:
            st.plotly_chart(time_fig, key=f"usab_time_{task.task}", theme=None,
                            config=PLOTLY_CONFIG)  # fmt: skip
        if sankey is not None:
            st.plotly_chart(sankey, key=f"usab_sankey_{task.task}", theme=None,
                            config=PLOTLY_CONFIG)  # fmt: skip
        st.markdown("**Most common paths**\n\n" + "\n".join(f"- {x}" for x in uv.path_lines(task)))
        if task.answers:
            st.markdown(
                "**Answers**\n\n" + "\n".join(f"- {x}" for x in uv.answer_lines(task.answers))
            )

once = uv.score_lines(report.scores) + uv.answer_lines(report.answers)
if once:
    st.subheader("Asked once per session")
    st.markdown("\n".join(f"- {x}" for x in once))
if report.own or report.goals:
    from reports.usability_figures import own_figures

    st.subheader("The prototype's own questions and goals")
    st.markdown("\n".join(f"- {x}" for x in uv.own_lines(report) + uv.goal_lines(report)))
    for key, fig in own_figures(report):
        st.plotly_chart(fig, key=f"usab_{key}", theme=None, config=PLOTLY_CONFIG)
    st.caption(uv.OWN_NOTE)
st.caption(uv.SCORE_NOTE)
