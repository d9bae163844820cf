"""Serve the dashboard: `streamlit run dashboard/navigation.py` as a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from salespipe.logs import LogFormat, relay

# The page list; each page is its own script (app.py: sales, pipeline.py: operations).
APP = Path(__file__).resolve().parent / "navigation.py"
_STOP_TIMEOUT_SECONDS = 10


def streamlit_command(*, port: int, host: str = "127.0.0.1", headless: bool = True) -> list[str]:
    """The command line; usage statistics are off whatever the local Streamlit config says."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
    ]


def launch(*, port: int = 8501, headless: bool = True, host: str = "127.0.0.1",
           log_format: LogFormat = "logfmt") -> int:
    """Run Streamlit in the foreground until it exits; returns its exit code.

    `host` is 127.0.0.1 on a workstation, 0.0.0.0 in a container. The app reads its settings
    from the environment it inherits. SIGTERM (from `salespipe run`, docker stop) is passed on
    to Streamlit, so no server outlives this process. `log_format` reaches the app as
    LOG_FORMAT, and Streamlit's stderr is relayed line by line, so whatever Streamlit prints
    before the app sets up logging still comes out as a parseable line.
    """
    env = {**os.environ, "LOG_FORMAT": log_format}
    process = subprocess.Popen(  # noqa: S603
        streamlit_command(port=port, host=host, headless=headless), env=env,
        stderr=subprocess.PIPE, text=True, errors="backslashreplace")
    relaying = threading.Thread(target=relay, args=(process.stderr, "dashboard.streamlit"),
                                name="streamlit-stderr", daemon=True)
    relaying.start()
    try:
        return _wait(process)
    finally:
        relaying.join(timeout=_STOP_TIMEOUT_SECONDS)


def _wait(process: subprocess.Popen[str]) -> int:
    """Wait for Streamlit; SIGTERM is passed on, a stray Ctrl-C stops it within a bound."""

    def forward(signum: int, _frame: FrameType | None) -> None:
        process.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()  # Ctrl-C already reached Streamlit; this covers a stray one
        try:
            return process.wait(timeout=_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
