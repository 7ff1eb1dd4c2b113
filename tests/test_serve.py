"""Server commands stop their Streamlit server when they are stopped, however that happens, and
the server finishes its spool file on the way out (no ``.jsonl.part`` is left behind)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from prototypes.scaffold import new_prototype
from tests.fixtures import ROOT, free_port, server_healthy, wait_healthy


def play_over_websocket(
    port: int, query: str, clicks: tuple[str, ...] = (), page: str = "", timeout: float = 60
) -> None:
    """Open a running server's page as a browser would (Streamlit's websocket protocol) and
    click the buttons with these keys in turn; each click waits for the run it causes."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    def run(ws, trigger: str | None = None) -> dict[str, str]:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        if trigger is not None:
            state = msg.rerun_script.widget_states.widgets.add()
            state.id, state.trigger_value = trigger, True
        ws.send(msg.SerializeToString())
        buttons: dict[str, str] = {}  # widget key -> widget id
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fwd = ForwardMsg()
            fwd.ParseFromString(ws.recv(timeout=timeout))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                if element.WhichOneof("type") == "button":
                    buttons[element.button.id.split("-", 2)[-1]] = element.button.id
            elif kind == "script_finished":
                return buttons
        raise AssertionError(f"no script run finished within {timeout:.0f}s")

    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"]) as ws:
        buttons = run(ws)
        for key in clicks:
            assert key in buttons, f"no button {key!r}; buttons: {sorted(buttons)}"
            buttons = run(ws, buttons[key])


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.parametrize(
    ("command", "stop"),
    [
        pytest.param("prototype-run", signal.SIGTERM, id="prototype-run-sigterm"),
        pytest.param("prototype-run", signal.SIGINT, id="prototype-run-ctrl-c"),
        pytest.param("dashboard", signal.SIGTERM, id="dashboard-sigterm"),
    ],
)
def test_stopping_the_cli_stops_the_server_and_finishes_its_spool_file(lab, command, stop):
    """A kiosk supervisor (systemd, a script, `timeout`) stops storelab with SIGTERM, a person
    with Ctrl-C: the server must not be left behind holding the port, and the events it wrote
    must end up in a finished ``.jsonl`` file."""
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = {
        "prototype-run": ["prototype", "run", "scan-and-discover", "--port", str(port)],
        "dashboard": ["dashboard", "--port", str(port)],
    }[command]
    cli = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), *args, "--lab", str(lab.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(url, cli)
        # A customer says yes on the welcome screen: session_start and consent are written.
        play_over_websocket(
            port,
            "prototype=scan-and-discover&store=S01",
            clicks=("sl_consent_yes",),
            page="play" if command == "dashboard" else "",
        )
        assert [p.name for p in lab.spool_dir.iterdir()][0].endswith(".jsonl.part")
        cli.send_signal(stop)
        cli.wait(timeout=30)
        assert wait_until(lambda: not server_healthy(url), 20), "the server outlived the CLI"
    finally:
        if cli.poll() is None:
            cli.kill()
    assert not list(lab.spool_dir.glob("*.part")), "the spool file was not finished"
    [done] = lab.spool_dir.glob("*.jsonl")
    events = [json.loads(line) for line in done.read_text(encoding="utf-8").splitlines()]
    assert [e["type"] for e in events] == ["session_start", "consent"]
