"""``ledger-tui web`` in headless Chromium: the browse screen shows the ledger's accounts, and keys
typed into the page reach the console (the account finder opens one of them).

xterm.js draws on canvases, so the screen's text is read from the page's terminal object, which a
script injected before the page loads catches as textual.js creates it. Chromium, chromedriver and
selenium missing: a skip locally, a failure under CI=true (make test installs them:
tools/browser/install). LEDGER_WEB_SCREENSHOT=PATH also saves the picture there (the README's is
docs/images/web-console.png).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger_tui.cli import main

from ..support.entry_sets import entry_set, leg
from ..support.stores import IN_CI

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
#: Read at import: the suite clears every LEDGER_* variable before each test.
SCREENSHOT = os.environ.get("LEDGER_WEB_SCREENSHOT")
ENTITIES = ("acme_bank", "globex_fr", "initech_us")
#: Catches the xterm Terminal that textual.js stores as ``this.terminal``.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  get() { return undefined; },
  set(value) {
    window.__ledgerTerminal = value;
    Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
  },
});
"""
READ_SCREEN = """
const term = window.__ledgerTerminal;
if (!term) { return ''; }
const buffer = term.buffer.active, lines = [];
for (let row = 0; row < term.rows; row++) {
  const line = buffer.getLine(buffer.viewportY + row);
  lines.push(line ? line.translateToString(true) : '');
}
return lines.join('\\n');
"""


def _require_browser() -> Any:
    """Selenium's webdriver module, once Chromium and its driver are there (else skip, or fail in CI)."""
    webdriver: Any = None
    with contextlib.suppress(ImportError):
        from selenium import webdriver
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    missing += [] if webdriver is not None else ["selenium (pip install -e '.[test]')"]
    if missing:
        message = f"not installed: {', '.join(missing)} (make test installs them: tools/browser/install)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return webdriver


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


class Web:
    """A running ``ledger-tui web`` and its log."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    url = f"sqlite:{tmp_path / 'ledger.sqlite'}"
    for number, entity in enumerate(ENTITIES):
        document = tmp_path / f"{entity}.json"
        document.write_text(entry_set(
            leg("debit", 100 + number, entity=entity, name="cash", account="main", description="paid in"),
            leg("credit", 100 + number, entity=entity, name="capital", account="owners", description="shares"),
        ))  # fmt: skip
        assert main(["--store", url, "post", str(document)]) == 0
    port, log = _free_port(), tmp_path / "web.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger_tui", "--store", url, "web", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    served = Web(process, port, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                assert page.status == 200
                break
        except OSError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "web did not come up: " + log.read_text()
            time.sleep(0.1)
    yield served
    served.stop()


def _screen_text(driver: Any, within_s: float, wanted: tuple[str, ...], unwanted: str = "\0") -> str:
    """The terminal's text once it shows every ``wanted`` string and not ``unwanted`` (or whatever it
    shows at the deadline)."""
    deadline = time.monotonic() + within_s
    text = ""
    while time.monotonic() < deadline:
        text = str(driver.execute_script(READ_SCREEN))
        if all(word in text for word in wanted) and unwanted not in text:
            break
        time.sleep(0.1)
    return text


def test_the_browse_screen_shows_the_ledgers_accounts(web: Web, tmp_path: Path) -> None:
    webdriver = _require_browser()
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1280,760", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})
        driver.get(f"http://127.0.0.1:{web.port}/")
        text = _screen_text(driver, 90, ("Browse", *ENTITIES))
        consoles = _children(web.process.pid)
        assert "Browse" in text and all(entity in text for entity in ENTITIES), text
        assert consoles, "no console process under the server"
        keyboard = driver.find_element("css selector", ".xterm-helper-textarea")
        # The account finder (/) opens the first entity's cash account: the tree walks open to it.
        steps = (("/", "Find an account", "\0"), ("cash", "acme_bank/com.test.customer/cash/GBP/main", "capital/GBP"),
                 ("\n", "paid in", "\0"))  # fmt: skip
        for keys, wanted, unwanted in steps:
            keyboard.send_keys(keys)
            text = _screen_text(driver, 30, (wanted,), unwanted)
            assert wanted in text and unwanted not in text, text
        time.sleep(0.4)  # the page fades in
        driver.save_screenshot(str(tmp_path / "web-console.png"))
        if SCREENSHOT:
            driver.save_screenshot(SCREENSHOT)
    finally:
        driver.quit()
    assert web.stop() == 0, web.log.read_text()
    assert not [pid for pid in consoles if _alive(pid)], "a console outlived the server"
    log = web.log.read_text()
    assert "Traceback" not in log and f"http://127.0.0.1:{web.port}" in log, log
