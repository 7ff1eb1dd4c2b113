"""Starting the runtime and printing QR codes: what ``storelab prototype run`` and ``qr`` call.

Both functions check their input against the lab (the prototype exists and is valid, the stores
are in ``stores.csv``) and raise an ``InvalidInputError`` (``UnknownPrototypeError`` from
``prototypes.library``, ``SpecError``) with a message that says what to do. Top-level
imports stay light: streamlit runs in the child process, segno is imported on use.
"""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from errors import InvalidInputError
from experiments.assignment import experiments_on
from lab import ENV_VAR, lab_stores
from prototypes.library import load_lab_prototype

if TYPE_CHECKING:
    from lab import Lab

APP_PATH = Path(__file__).with_name("app.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 8502
DEVICES = ("kiosk", "phone")
RUN_VARIANT_ENV = "STORELAB_RUN_VARIANT"
RUN_VERSION_ENV = "STORELAB_RUN_VERSION"
"""What ``prototype run --variant/--version`` chose: the server shows it on customer links."""


def _check_stores(lab: Lab, store_ids: list[str]) -> dict:
    stores = lab_stores(lab)
    unknown = [s for s in store_ids if s not in stores]
    if unknown:
        raise InvalidInputError(
            f"Store {', '.join(unknown)} is not in {lab.stores_csv} "
            f"(stores: {', '.join(stores) or 'none'}). Add it there or pick one of these."
        )
    return stores


def prototype_url(
    base_url: str,
    prototype_id: str,
    store: str,
    device: str,
    *,
    variant: str = "auto",
    version: int | None = None,
    preview: bool = False,
    token: str | None = None,
) -> str:
    """The link a customer (or the team) opens: ``<base>/?prototype=…&store=…&device=…``.

    A variant, a version or ``preview`` make it a team link: it works only with ``token``.
    """
    query: dict[str, str] = {"prototype": prototype_id, "store": store, "device": device}
    if variant and variant != "auto":
        query["variant"] = variant
    if version is not None:
        query["version"] = str(version)
    if preview:
        query["preview"] = "1"
    if token:
        query["token"] = token
    return f"{base_url.rstrip('/')}/?{urlencode(query)}"


def local_ip() -> str:
    """This machine's address in the store network (for phone links), else localhost."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent
            return s.getsockname()[0]
    except OSError:
        return "localhost"


def streamlit_command(port: int, app: Path = APP_PATH, toolbar: str = "minimal") -> list[str]:
    """``python -m streamlit run APP`` headless on ``port``, in storelab's light theme.

    The runtime and the analyst dashboard (``reports.serve``) are both started with it.
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--theme.base",
        "light",
        "--theme.primaryColor",
        "#123b6d",
        "--client.toolbarMode",
        toolbar,
    ]


def serve_until_stopped(proc: subprocess.Popen, grace: float = 10.0) -> int:
    """Wait for a server child; on Ctrl-C or SIGTERM stop it (and its group) before returning.

    Without this a supervisor's SIGTERM (systemd, ``timeout``, a kiosk script) would end the
    storelab process and leave the Streamlit server running, holding the port.
    """
    import signal

    def _terminate(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            proc.terminate()
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_prototype(
    lab: Lab,
    prototype_id: str,
    store: str = "S01",
    variant: str = "auto",
    device: str | None = None,
    port: int = DEFAULT_PORT,
    preview: bool = False,
    version: int | None = None,
    *,
    quiet: bool = False,
    output: Any = None,
) -> subprocess.Popen:
    """Start the runtime for one prototype and store; print its links; return the process.

    ``device`` None: the prototype's touchpoint (kiosk → kiosk, else phone). The child runs in
    its own process group (stop it with ``os.killpg(proc.pid, SIGTERM)``) with ``STORELAB_LAB``
    set; the caller waits on it (``proc.wait()``) or stops it. ``output``: a file object for
    the server's stdout and stderr (default: this process's); ``quiet`` prints no links.
    """
    if device is not None and device not in DEVICES:
        raise InvalidInputError(f"--device must be kiosk or phone, not {device!r}.")
    if not 1 <= int(port) <= 65535:
        raise InvalidInputError(f"--port must be between 1 and 65535, not {port}.")
    proto = load_lab_prototype(lab, prototype_id)
    _check_stores(lab, [store])
    if version is not None and version not in proto.version_numbers:
        raise InvalidInputError(
            f"Prototype {prototype_id!r} has no version {version}; "
            f"versions: {', '.join(map(str, proto.version_numbers))}."
        )
    if variant != "auto":
        arms = {name for exp in experiments_on(lab, prototype_id) for name in exp.variants}
        known = set(proto.variant_names(version)) | arms
        if variant not in known:
            raise InvalidInputError(
                f"Prototype {prototype_id!r} has no variant {variant!r}; "
                f"use auto or one of: {', '.join(sorted(known))}."
            )
    env = {**os.environ, ENV_VAR: str(lab.root)}
    # Customers' links carry no variant or version (those need the token): the server knows.
    env.pop(RUN_VARIANT_ENV, None)
    env.pop(RUN_VERSION_ENV, None)
    if variant != "auto":
        env[RUN_VARIANT_ENV] = variant
    if version is not None:
        env[RUN_VERSION_ENV] = str(version)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(  # noqa: S603 - fixed command line, no shell
        streamlit_command(port),
        env=env,
        cwd=str(REPO_ROOT),
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    if not quiet:
        print(f"storelab runtime for {prototype_id} in {store} (pid {proc.pid})")
        _print_links(lab, prototype_id, store, device or _touchpoint_device(proto), port, preview)
        print("Stop with Ctrl+C.")
    return proc


def _touchpoint_device(proto: Any) -> str:
    return "kiosk" if proto.touchpoint == "kiosk" else "phone"


def _print_links(
    lab: Lab, prototype_id: str, store: str, default: str, port: int, preview: bool
) -> None:
    """Customer links (no token: a customer sees only this prototype in this store) and, with
    the lab's token for the team, the preview and the gallery."""
    local = f"http://localhost:{port}"
    lan = f"http://{local_ip()}:{port}"
    token = lab.config.dashboard.token
    print(f"  {default:<7} {prototype_url(local, prototype_id, store, default)}")
    print(f"  phone   {prototype_url(lan, prototype_id, store, 'phone')}")
    print(f"  kiosk   {prototype_url(local, prototype_id, store, 'kiosk')}")
    if preview:
        team = prototype_url(local, prototype_id, store, default, preview=True, token=token)
        print(f"  preview {team}   (team only: it holds the lab's token)")
    print(f"  gallery {local}/gallery?token={quote(token, safe='')}   (team only)")


def write_qr_sheet(
    lab: Lab,
    prototype_id: str,
    stores: list[str],
    base_url: str | None = None,
    out: Path | str | None = None,
    *,
    device: str = "phone",
) -> Path:
    """A printable A4 HTML page: per store a QR code (inline SVG) linking to that store's URL.

    ``base_url``: where the runtime is reachable from customers' phones (default
    ``http://<this machine>:8502``). ``out``: default ``<lab>/reports/qr-<prototype>.html``.
    """
    import segno

    if not stores:
        raise InvalidInputError("Give at least one store: --stores S01,S02.")
    proto = load_lab_prototype(lab, prototype_id)
    known = _check_stores(lab, stores)
    base = base_url or f"http://{local_ip()}:{DEFAULT_PORT}"
    if not base.startswith(("http://", "https://")):
        raise InvalidInputError(f"--base-url must start with http:// or https://, not {base!r}.")
    title_de = proto.title.get("de") or next(iter(proto.title.values()))
    title_en = proto.title.get("en") or title_de
    cards = []
    for store_id in stores:
        s = known[store_id]
        url = prototype_url(base, prototype_id, store_id, device)
        svg = segno.make(url, error="m").svg_inline(border=4, dark="#101828", omitsize=True)
        cards.append(
            '<section class="card">'
            f'<div class="qr">{svg}</div>'
            '<div class="text">'
            '<div class="cta">Scannen &amp; mitmachen – 1 Minute, anonym</div>'
            '<div class="cta-en">Scan &amp; take part – 1 minute, anonymous</div>'
            f'<div class="title">{html.escape(title_de)}</div>'
            f'<div class="title-en">{html.escape(title_en)}</div>'
            f'<div class="store">{html.escape(s.name)}</div>'
            f'<div class="city">{html.escape(s.city)} · {html.escape(store_id)}</div>'
            f'<div class="url">{html.escape(url)}</div>'
            "</div></section>"
        )
    page = QR_PAGE.format(
        title=html.escape(f"{prototype_id} – QR codes"),
        heading=html.escape(title_de),
        date=date.today().isoformat(),
        cards="\n".join(cards),
    )
    target = Path(out) if out else lab.reports_dir / f"qr-{prototype_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


QR_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
* {{ box-sizing: border-box; }}
body {{ font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #101828; margin: 0; }}
header {{ display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 2px solid #123b6d;
  padding-bottom: 3mm; margin-bottom: 6mm; }}
header b {{ font-size: 14pt; color: #123b6d; }} header span {{ font-size: 9pt; color: #667085; }}
.card {{ display: flex; gap: 8mm; align-items: center; border: 1px solid #d0d5dd;
  border-radius: 5mm; padding: 6mm;
  margin-bottom: 6mm; page-break-inside: avoid; break-inside: avoid; }}
.qr svg {{ width: 55mm; height: 55mm; display: block; }}
.cta {{ font-size: 20pt; font-weight: 800; line-height: 1.15; color: #123b6d; }}
.cta-en {{ font-size: 12pt; font-weight: 600; color: #475467; margin-top: 1mm; }}
.title {{ font-size: 14pt; font-weight: 700; margin-top: 5mm; }}
.title-en {{ font-size: 10pt; color: #475467; }}
.store {{ font-size: 12pt; font-weight: 700; margin-top: 4mm; }}
.city {{ font-size: 10pt; color: #475467; }}
.url {{ font-size: 7pt; color: #98a2b3; margin-top: 3mm; word-break: break-all; }}
</style></head>
<body><header><b>storelab · {heading}</b><span>{date}</span></header>
{cards}
</body></html>
"""

__all__ = [
    "RUN_VARIANT_ENV",
    "RUN_VERSION_ENV",
    "prototype_url",
    "run_prototype",
    "streamlit_command",
    "write_qr_sheet",
]
