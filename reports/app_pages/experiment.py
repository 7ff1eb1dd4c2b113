"""Experiment page: pick an experiment, read its scorecard (the same as the HTML report)."""

from __future__ import annotations

from html import escape

import streamlit as st

from reports import htmlreport as report_html
from reports import scorecard as sc
from reports.app_pages import _shared
from reports.data import ExperimentReport
from reports.figures import PLOTLY_CONFIG, metric_figures
from reports.kpi_notes import kpi_lines
from reports.slices import breakdown_table_html, caveat_html

lab = _shared.current_lab()
_shared.style()

ids = _shared.experiments(lab)
if not ids:
    st.title("Experiment")
    st.info("No experiment specs in this lab yet: `storelab experiment new ID --prototype P`.")
    st.stop()

# ?exp= opens the picker on a linked experiment (links from the overview)
_shared.choice_from_url("exp", ids, "experiment_select")


def _remember_choice() -> None:
    chosen = st.session_state["experiment_select"]
    st.query_params["exp"] = chosen
    st.session_state["experiment_select_from_url"] = chosen


title_col, pick_col = st.columns([3, 1], vertical_alignment="bottom")
pick_col.selectbox("Experiment", ids, key="experiment_select", on_change=_remember_choice)
exp_id = st.session_state["experiment_select"]

with _shared.friendly_errors():
    report = _shared.analysis(lab, exp_id)
result = report.result

title_col.title(exp_id)
if report.hypothesis:
    title_col.markdown(f"*{escape(report.hypothesis)}*")
st.markdown(report_html.meta_html(report), unsafe_allow_html=True)

st.markdown(
    f'<div class="sl">{report_html.decision_html(result)}{report_html.srm_html(result)}'
    f"{report_html.mislabelled_html(result)}</div>",
    unsafe_allow_html=True,
)

if report.prototype:
    st.page_link(
        "app_pages/history.py",
        label=f"History of {report.prototype}: every version side by side",
        icon=":material/history:",
        query_params={"prototype": report.prototype},
    )

st.subheader("Scorecard")
st.markdown(
    f'<div class="sl">{report_html.metrics_table_html(result)}</div>', unsafe_allow_html=True
)

st.subheader("Metrics in detail")
for metric in sc.sorted_metrics(result):
    name = metric.metric
    figs = metric_figures(report, metric)
    with st.container(border=True, key=f"metric_card_{name}"):
        st.markdown(
            f'<div class="sl"><h3 style="margin:0">{escape(sc.metric_label(name))}'
            f'<span class="sl-role {escape(metric.role)}">{escape(sc.ROLE_LABELS[metric.role])}'
            f"</span></h3></div>",
            unsafe_allow_html=True,
        )
        lower = "" if metric.higher_is_better else " Lower is better."
        st.caption(report_html.metric_lede(metric) + lower)
        for line in kpi_lines(metric):
            st.caption(line)
        st.plotly_chart(figs["effect"], key=f"fig_effect_{name}", theme=None, config=PLOTLY_CONFIG)
        left, right = st.columns([2, 3])
        left.plotly_chart(figs["means"], key=f"fig_means_{name}", theme=None, config=PLOTLY_CONFIG)
        if "stores" in figs:
            right.plotly_chart(
                figs["stores"], key=f"fig_stores_{name}", theme=None, config=PLOTLY_CONFIG
            )
        if "timeline" in figs:
            st.plotly_chart(
                figs["timeline"], key=f"fig_timeline_{name}", theme=None, config=PLOTLY_CONFIG
            )

if result.breakdowns is not None:
    st.subheader("Breakdowns")
    st.markdown(f'<div class="sl">{caveat_html(result.breakdowns)}</div>', unsafe_allow_html=True)
    by_name = {m.metric: m for m in sc.sorted_metrics(result)}
    shown = st.selectbox(
        "Metric",
        list(by_name),
        format_func=sc.metric_label,
        key="breakdown_metric",
    )
    st.markdown(
        f'<div class="sl">{breakdown_table_html(result, by_name[shown])}</div>',
        unsafe_allow_html=True,
    )

with st.expander("Methods: which tests, and why", expanded=False):
    st.markdown(report_html.methods_html(result), unsafe_allow_html=True)


@st.cache_data(ttl=_shared.CACHE_TTL_S, show_spinner=False)
def _report_file(report: ExperimentReport) -> str:
    return report_html.render_html(report)


st.download_button(
    "Download HTML report",
    data=lambda: _report_file(report),
    file_name=f"{exp_id}.html",
    mime="text/html",
    key="download_report",
    icon=":material/description:",
)
