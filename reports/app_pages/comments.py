"""Comments page: what customers wrote, by theme (the lab's codebook) and sentiment.

Filters: prototype, version, variant, store, screen, theme, sentiment and a search box. Theme
counts per variant and per version (table and bar chart), the comments themselves (verbatim:
redacted at ingest; Streamlit escapes table cells), and suggested new themes from the comments
no theme matches yet. Cached per filter until the database or the codebook changes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import streamlit as st

from insights.codebook import codebook_path
from insights.comments import NO_THEME, CommentFilter, analyse_comments
from insights.sentiment import LABELS
from lab import Lab
from prototypes.library import list_prototype_ids
from reports import data
from reports.app_pages import _shared
from reports.comments_section import count_rows, theme_counts_figure

ALL = "all"


@st.cache_data(ttl=_shared.CACHE_TTL_S, show_spinner="Reading comments…")
def _report(root: str, version: int, book: int, flt: CommentFilter):
    return analyse_comments(Lab(Path(root)), flt)


def report_for(lab: Lab, flt: CommentFilter):
    """The comments report for ``flt``, cached until new data or an edited codebook."""
    path = codebook_path(lab)
    book = path.stat().st_mtime_ns if path.is_file() else 0
    return _report(str(lab.root), data.db_version(lab), book, flt)


def _pick(col, label: str, options: list, key: str):
    choice = col.selectbox(label, [ALL, *options], key=key)
    return None if choice == ALL else choice


lab = _shared.current_lab()
_shared.style()
st.title("Comments")

prototypes = list_prototype_ids(lab)
if not prototypes:
    st.info("The lab has no prototype yet: `storelab prototype new ID --template T`.")
    st.stop()

top = st.columns([2, 1, 1, 1, 1])
prototype = top[0].selectbox("Prototype", prototypes, key="cm_prototype")
with _shared.friendly_errors():
    whole = report_for(lab, CommentFilter(prototype=prototype))
everything = whole.comments
version = _pick(top[1], "Version", sorted({c.version for c in everything}), "cm_version")
variant = _pick(top[2], "Variant", sorted({c.variant for c in everything}), "cm_variant")
store = _pick(top[3], "Store", sorted({c.store_id for c in everything}), "cm_store")
screen = _pick(top[4], "Screen", sorted({c.screen for c in everything if c.screen}), "cm_screen")
row = st.columns([1, 1, 3])
themes = {whole.theme_label(t): t for t in (*whole.codebook.ids, NO_THEME)}
theme_label = _pick(row[0], "Theme", list(themes), "cm_theme")
sentiment = _pick(row[1], "Sentiment", list(LABELS), "cm_sentiment")
search = row[2].text_input("Search", key="cm_search", placeholder="words in the comment") or None

flt = replace(
    whole.filter,
    version=version,
    variant=variant,
    store=store,
    screen=screen,
    theme=themes.get(theme_label) if theme_label else None,
    sentiment=sentiment,
    search=search.strip() if search else None,
)
with _shared.friendly_errors():
    report = report_for(lab, flt)

cols = st.columns(4)
cols[0].metric("Comments", f"{len(report.comments):,}", border=True)
for col, label in zip(cols[1:], LABELS, strict=True):
    col.metric(label.capitalize(), f"{report.sentiments.get(label, 0):,}", border=True)
st.caption(
    f"Themes from `{report.codebook.source}` (edit it to add themes or keywords); a comment can "
    "carry several themes. Sentiment: VADER (English) and the German Polarity Lexicon."
)
if report.truncated:
    st.warning("Only the first comments are shown; narrow the filter.")

if not report.comments:
    st.info("No comment matches these filters.")
    st.stop()

for by, tab in zip(("variant", "version"), st.tabs(["Per variant", "Per version"]), strict=True):
    with tab:
        st.dataframe(count_rows(report, by), key=f"cm_counts_{by}", hide_index=True)
        fig = theme_counts_figure(report, by)
        if fig is not None:
            st.plotly_chart(fig, key=f"cm_fig_{by}", width="stretch")

st.subheader("What they wrote")
rows = [
    {
        "When": c.ts[:16].replace("T", " "),
        "Comment": c.text,
        "Themes": ", ".join(report.theme_label(t) for t in c.themes) or "—",
        "Sentiment": c.sentiment,
        "Variant": c.variant,
        "Version": c.version,
        "Store": c.store_id,
        "Screen": c.screen or "",
    }
    for c in reversed(report.comments)
]
st.dataframe(rows, key="cm_table", hide_index=True, width="stretch", height=420)

st.subheader("Suggested themes")
if not report.suggestions:
    st.caption("Every comment here matches a theme, or too few are left to suggest one.")
else:
    st.caption(
        "Frequent keywords (YAKE) of comments that no theme matches yet. Add the ones that "
        f"matter to `{codebook_path(lab).name}` as a theme or as keywords of one."
    )
    st.dataframe(
        [
            {"Keyword": s.keyword, "Comments": s.count, "For example": " / ".join(s.examples)}
            for s in report.suggestions
        ],
        key="cm_suggestions",
        hide_index=True,
        width="stretch",
    )
