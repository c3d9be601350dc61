"""Open a page in headless Chromium and look at it as a person would, with no dependency
beyond the browser: the DevTools protocol spoken over ``--remote-debugging-pipe`` (JSON
messages separated by NUL bytes on file descriptors 3 and 4 of the browser).

Used by tests/test_report_browser.py, and as a script to take the README's screenshot:

    python tests/browser.py actlab-report/index.html docs/report-screenshot.png
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# What every image, section and heading of the page looks like once it has loaded.
INSPECT_JS = """JSON.stringify({
  images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
           width: i.naturalWidth, height: i.naturalHeight})),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  title: document.title,
  height: document.documentElement.scrollHeight,
})"""


_TRAMPOLINE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execvp(sys.argv[3], sys.argv[3:])"
)


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    images: list[dict[str, Any]]
    ids: list[str]
    title: str
    height: int
    console_errors: list[str] = field(default_factory=list)
    screenshot_png: bytes = b""


class _Pipe:
    """The browser's end of the protocol: commands on fd 3, replies and events on fd 4."""

    def __init__(self, browser: str, profile: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The browser's ends go to fds >= 10 so that a small trampoline (a fresh Python, which
        # has no threads) can place them on 3 and 4 without clobbering either, then exec the
        # browser. A preexec_fn would fork this process, which may be running JAX's threads.
        child_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-extensions", "--mute-audio",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, str(child_r), str(child_w), *argv],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(child_r, child_w),
        )  # fmt: skip
        os.close(child_r)
        os.close(child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)


def inspect_page(
    path: Path, *, width: int = 1280, height: int = 900, timeout: float = 60, fragment: str = ""
) -> PageReport:
    """Load ``path`` from file://, wait for it, and report images, ids, console errors and a
    screenshot of the first screen (or of the screen at ``#fragment``)."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError(f"no browser found (looked for {', '.join(BROWSERS)})")
    with tempfile.TemporaryDirectory(prefix="actlab-chromium-") as profile:
        pipe = _Pipe(browser, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                      session=session)  # fmt: skip
            url = path.resolve().as_uri() + (f"#{fragment}" if fragment else "")
            pipe.send("Page.navigate", {"url": url}, session=session)
            pipe.wait_for("Page.loadEventFired", timeout)
            result = pipe.send("Runtime.evaluate", {"expression": INSPECT_JS,
                               "returnByValue": True}, session=session)  # fmt: skip
            shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)
        finally:
            pipe.close()
    seen = json.loads(result["result"]["value"])
    return PageReport(
        images=seen["images"],
        ids=seen["ids"],
        title=seen["title"],
        height=seen["height"],
        console_errors=_errors(pipe.events),
        screenshot_png=base64.b64decode(shot["data"]),
    )


def _errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(json.dumps(params.get("exceptionDetails", {}))[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(json.dumps(params.get("args", []))[:300])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", "")[:300])
    return errors


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tests/browser.py PAGE.html SCREENSHOT.png")
    report = inspect_page(Path(sys.argv[1]))
    if report.console_errors:
        sys.exit(f"console errors: {report.console_errors}")
    Path(sys.argv[2]).write_bytes(report.screenshot_png)
    broken = [i["alt"] for i in report.images if not i["width"]]
    if broken:
        sys.exit(f"figures that did not decode: {broken}")
    print(f"wrote {sys.argv[2]} ({len(report.images)} figures on the page, none broken)")
