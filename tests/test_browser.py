"""Real browser check: the generated report opens in headless Chromium, renders, every
image decodes and the console shows no errors; hostile titles stay text.

Drives Debian's ``chromium`` over the DevTools protocol with websocket-client (no
Node, no downloaded browser). Skips when no Chromium is installed locally; .ci/run
installs it, so in CI this runs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
import websocket  # websocket-client, in the test extra: missing it is an error, not a skip

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--remote-debugging-port=0", "--remote-allow-origins=*", "--allow-file-access-from-files")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)
        raise TimeoutError(method)

    def wait_for(self, event: str, timeout: float = 30) -> dict:
        for message in self.events:
            if message.get("method") == event:
                return message
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == event:
                return message
        raise TimeoutError(event)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")


def inspect_page(url: str, chromium: str, timeout: float = 60) -> dict:
    """Open ``url`` in a fresh headless Chromium; return title, images and errors."""

    if not chromium:
        raise RuntimeError("no chromium on PATH (.ci/run installs Debian's chromium)")
    profile = Path(tempfile.mkdtemp(prefix="impact-chromium-"))
    proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page_target = next(t for t in targets if t.get("type") == "page")
        ws = websocket.create_connection(page_target["webSocketDebuggerUrl"], timeout=timeout,
                                         suppress_origin=True)
        try:
            page = Page(ws)
            for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
                page.call(domain)
            page.call("Page.navigate", url=url)
            page.wait_for("Page.loadEventFired", timeout)
            # Images with loading=lazy or slow decode: wait until every one has settled.
            page.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
            info = page.evaluate("""({
                title: document.title,
                h1: document.querySelector('h1') ? document.querySelector('h1').textContent : null,
                scripts: document.querySelectorAll('script').length,
                text: document.body.innerText,
                width: document.documentElement.scrollWidth,
                images: [...document.images].map(i => ({src: i.getAttribute('src'), complete: i.complete,
                                                         width: i.naturalWidth, height: i.naturalHeight}))
            })""")
            errors = []
            for message in page.events:
                method, params = message.get("method"), message.get("params", {})
                if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                    errors.append(f"console.{params['type']}: {params.get('args')}")
                elif method == "Runtime.exceptionThrown":
                    errors.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
                elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                    errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
                elif method == "Network.loadingFailed":
                    errors.append(f"load failed: {params.get('errorText')}")
            info["errors"] = errors
            return info
        finally:
            ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("IMPACT_REQUIRE_BROWSER"),
                                reason="chromium is not installed (.ci/run installs it)")


def test_report_renders_with_all_images_and_no_console_errors():
    from test_report import rare_earths_report

    folder = rare_earths_report()
    info = inspect_page((folder / "index.html").resolve().as_uri(), CHROMIUM)
    assert info["errors"] == []
    assert info["title"] == info["h1"] == "The rare-earth escalation and truce, 9-30 October 2025"
    images = info["images"]
    assert len(images) == len(list((folder / "figures").glob("*.png")))
    broken = [i["src"] for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert broken == []
    assert "Headline findings" in info["text"] and "Data quality" in info["text"]
    assert "USCN-2025-22" in info["text"]
    assert info["scripts"] == 0


def test_hostile_title_shows_as_text_in_the_browser():
    from test_report import HOSTILE, hostile_report

    info = inspect_page((hostile_report() / "index.html").resolve().as_uri(), CHROMIUM)
    assert info["errors"] == []
    assert info["scripts"] == 0            # the <script> in the title did not become an element
    assert HOSTILE in info["text"]          # ... it is shown, literally, as text
    assert "<img src=x onerror=alert(1)>" in info["text"]


def test_the_checker_sees_broken_images_and_console_errors(tmp_path):
    """The browser check can fail: a page with a missing image and a console error."""
    page = tmp_path / "bad.html"
    page.write_text('<html><head><title>bad</title></head><body><h1>bad</h1><img src="missing.png">'
                    '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    info = inspect_page(page.as_uri(), CHROMIUM)
    assert any("boom" in e for e in info["errors"])
    assert any("missing.png" in e or "ERR_FILE_NOT_FOUND" in e for e in info["errors"])
    assert info["images"][0]["width"] == 0 and info["scripts"] == 1
