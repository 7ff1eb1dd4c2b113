"""Drawing tap maps (``insights.tapmaps``): the plotly figure, the HTML to embed, terminal lines.

The figure puts the screen's snapshot (inlined as a base64 PNG) behind axes that run over the
normalised frame, x 0..1 left to right and y 0..1 top to bottom (the runtime's page frame),
sized in the picture's aspect ratio (a long screen makes a tall map): taps (blue) and
misclicks (orange) as points, the smoothed density (taps and misclicks) as filled contours,
the hot spot as a star, and the tappable elements' boxes from the snapshot manifest as faint
outlines. The dashboard page
(``reports/app_pages/tapmaps.py``) and the HTML report draw the same figure.
"""

from __future__ import annotations

import base64
import html
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from errors import InvalidInputError
from reports.figures import FONT, INK, PLOTLY_CONFIG

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from insights.tapmaps import ScreenTapMap, TapMapReport

TAP = "#2563eb"
MISCLICK = "#f97316"
HOT = "#dc2626"
BOX = "rgba(100, 116, 139, 0.55)"
# Transparent where little happens (the picture stays readable), yellow to red where it is dense.
DENSITY = [
    [0.0, "rgba(250,204,21,0)"],
    [0.18, "rgba(250,204,21,0)"],
    [0.4, "rgba(250,204,21,0.35)"],
    [1.0, "rgba(220,38,38,0.65)"],
]


@lru_cache(maxsize=64)
def _data_uri(path: str, mtime: float) -> str | None:  # mtime: a new snapshot is re-read
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def image_uri(m: ScreenTapMap) -> str | None:
    """The snapshot as a ``data:`` URI (so the HTML needs no other file), None without one."""
    if not m.image:
        return None
    try:
        mtime = Path(m.image).stat().st_mtime
    except OSError:
        return None
    return _data_uri(m.image, mtime)


def tapmap_figure(m: ScreenTapMap, *, width: int | None = None, boxes: bool = True) -> go.Figure:
    """One screen's tap map as a plotly figure (``width`` in px; height follows the aspect)."""
    import plotly.graph_objects as go

    from insights.tapmaps import smoothed

    width = width or (340 if m.height >= m.width else 760)
    height = round(width * m.height / m.width)
    fig = go.Figure()
    if m.density.total:
        z = smoothed(m.density)
        centres = [(i + 0.5) / m.density.bins for i in range(m.density.bins)]
        fig.add_trace(
            go.Contour(
                z=z, x=centres, y=centres, colorscale=DENSITY, showscale=False,
                contours={"coloring": "fill", "showlines": False}, line={"width": 0},
                ncontours=12, hoverinfo="skip", name="density",
            )
        )  # fmt: skip
    for kind, colour, label in (("tap", TAP, "tap"), ("misclick", MISCLICK, "misclick")):
        pts = [p for p in m.points if p.kind == kind]
        if pts:
            fig.add_trace(
                go.Scatter(
                    x=[p.x for p in pts], y=[p.y for p in pts], mode="markers", name=label,
                    marker={"color": colour, "size": 6, "opacity": 0.7,
                            "line": {"width": 0.5, "color": "white"}},
                    hovertemplate=f"{label} (%{{x:.3f}}, %{{y:.3f}})<extra></extra>",
                )
            )  # fmt: skip
    if m.hot_spot is not None:
        fig.add_trace(
            go.Scatter(
                x=[m.hot_spot.x], y=[m.hot_spot.y], mode="markers", name="hot spot",
                marker={"symbol": "star", "size": 18, "color": HOT,
                        "line": {"width": 1.5, "color": "white"}},
                hovertemplate=(f"hot spot (%{{x:.3f}}, %{{y:.3f}}): "
                               f"{m.hot_spot.share:.0%} of the points<extra></extra>"),
            )
        )  # fmt: skip
    if boxes:
        for b in m.boxes:
            fig.add_shape(
                type="rect", x0=b.x, y0=b.y, x1=b.x + b.w, y1=b.y + b.h,
                line={"color": BOX, "width": 1, "dash": "dot"}, fillcolor="rgba(0,0,0,0)",
                layer="above",
            )  # fmt: skip
    uri = image_uri(m)
    if uri:
        fig.add_layout_image(
            source=uri, xref="x", yref="y", x=0, y=0, sizex=1, sizey=1,
            xanchor="left", yanchor="top", sizing="stretch", layer="below",
        )  # fmt: skip
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": ""}
    fig.update_xaxes(range=[0, 1], constrain="domain", **axis)
    fig.update_yaxes(range=[1, 0], **axis)  # y grows downwards, as on the screen
    fig.update_layout(
        template="simple_white",
        width=width,
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font={"family": FONT, "size": 12, "color": INK},
        plot_bgcolor="#f8fafc" if not uri else "rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        showlegend=False,
        xaxis={"showline": False},
        yaxis={"showline": False},
    )
    return fig


def caption(m: ScreenTapMap) -> str:
    """One line under a map: counts, the hot spot and the element it lies on."""
    parts = [f"{m.taps:,} taps, {m.misclicks:,} misclicks"]
    if m.hot_spot is not None:
        el = m.element_at(m.hot_spot)
        parts.append(
            f"hot spot ({m.hot_spot.x:.2f}, {m.hot_spot.y:.2f})"
            + (f" on {el}" if el else "")
            + f", {m.hot_spot.share:.0%} of the points near it"
        )
    if m.misclick_hot_spot is not None and m.misclicks:
        el = m.element_at(m.misclick_hot_spot)
        parts.append(
            f"misclicks densest at ({m.misclick_hot_spot.x:.2f}, {m.misclick_hot_spot.y:.2f})"
            + (f" near {el}" if el else "")
        )
    if not m.image:
        parts.append("no snapshot (storelab prototype snapshot)")
    return "; ".join(parts)


def tapmap_html(m: ScreenTapMap, *, width: int | None = None) -> str:
    """One screen's tap map as an HTML ``<figure>`` to embed in a self-contained report.

    The PNG is inlined (base64) in the figure's data; plotly.js is NOT included: the page must
    load it once (``reports.htmlreport.plotly_js()`` inlined in ``<head>``, as the experiment
    report does).
    """
    import plotly.io as pio

    div = pio.to_html(
        tapmap_figure(m, width=width),
        full_html=False,
        include_plotlyjs=False,
        config={**PLOTLY_CONFIG, "responsive": False},
    )
    title = html.escape(f"{m.screen} · {m.device}")
    return (
        f'<figure class="sl-tapmap" data-screen="{html.escape(m.screen)}" '
        f'data-device="{html.escape(m.device)}" style="display:inline-block;margin:0 16px 16px 0;'
        f'vertical-align:top"><figcaption style="font-weight:650">{title}</figcaption>{div}'
        f'<figcaption style="font-size:12px;color:#64748b;max-width:{width or 340}px">'
        f"{html.escape(caption(m))}</figcaption></figure>"
    )


def _code(text: str) -> str:
    """`command` spans of an (escaped) hint as <code>."""
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def tapmaps_html(report: TapMapReport, *, width: int | None = None) -> str:
    """Every screen's tap map of a report as one HTML section (plotly.js loaded by the page)."""
    if not report.maps:
        return '<p class="sl-muted">No taps with a position for this version yet.</p>'
    note = "".join(
        f'<p class="sl-muted">{_code(html.escape(hint))}</p>' for hint in report.snapshot_hints()
    )
    return (
        '<section class="sl-tapmaps">'
        + note
        + "".join(tapmap_html(m, width=width) for m in report.maps)
        + "</section>"
    )


def write_tapmaps_html(report: TapMapReport, out: Path | str) -> Path:
    """The report's tap maps as one self-contained HTML file (plotly.js and PNGs inlined)."""
    from reports.htmlreport import plotly_js

    path = Path(out)
    title = html.escape(f"Tap maps · {report.filter.prototype_id} v{report.version}")
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"<script>{plotly_js()}</script></head>"
        f'<body style="font-family:{html.escape(FONT)};margin:24px"><h1>{title}</h1>'
        f"{tapmaps_html(report)}</body></html>"
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return path


def terminal_lines(report: TapMapReport) -> list[str]:
    """The tap maps in words, one line per screen (``storelab report tapmap``)."""
    head = f"Tap maps of {report.filter.prototype_id} v{report.version}"
    lines = [head, *(f"  {m.screen} ({m.device}): {caption(m)}" for m in report.maps)]
    if not report.maps:
        lines.append("  no taps with a position for this version yet")
    return lines


__all__ = [
    "caption",
    "image_uri",
    "tapmap_figure",
    "tapmap_html",
    "tapmaps_html",
    "terminal_lines",
    "write_tapmaps_html",
]
