"""Browser fixtures: the real server in a subprocess and the system's Chromium driven by
Playwright (sync API). Without a Chromium the browser tests skip and say why."""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import write_config
from tests.e2e.server import REPO, ServerProcess

CHROMIUM = os.environ.get("GIGMARKET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "test-output" / "screenshots"
MANAGER = ("boss", "correct-horse-battery")

#: The sizes the pages are made for (issue 3).
KIOSK = {"width": 1080, "height": 1920}
PHONE = {"width": 360, "height": 640}
PHONE_TALL = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}

#: Recorded instead of spoken, printed or buzzed, so a test can read what a page did.
SPEECH_AND_PRINT_RECORDER = """
window.__spoken = [];
window.__printed = 0;
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (u) => {
    window.__spoken.push({ text: u.text, lang: u.lang });
    // Also on the page, so a test waits with a locator: wait_for_function evaluates a
    // string, which the Content-Security-Policy (no unsafe-eval) refuses (see wait_until).
    document.documentElement.dataset.spoken = String(window.__spoken.length);
  };
}
window.print = () => { window.__printed += 1; };
window.__vibrated = 0;
navigator.vibrate = () => { window.__vibrated += 1; return true; };
"""


@contextlib.contextmanager
def running_server(root: Path, rules: dict[str, Any] | None = None) -> Iterator[ServerProcess]:
    """A real server under ``root`` with the manager signed up; ``rules`` override the
    shipped market's."""
    env = {}
    if rules:
        env["GIGMARKET_CONFIG"] = str(write_config(root / "config", rules))
    srv = ServerProcess(root / "data", env=env)
    srv.start()
    srv.cli("manager", "add", "--username", MANAGER[0], "--market", "shiling",
            "--password", MANAGER[1])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("browser")) as srv:
        yield srv


def manager_dashboard(browser: Any, server: ServerProcess, errors: list[str],
                      **context: Any) -> Any:
    """The manager's dashboard on a desktop, signed in through its own form."""
    dash = watch_errors(browser.new_context(**({"viewport": DESKTOP} | context)).new_page(),
                        errors)
    dash.goto(f"{server.base_url}/manage")
    dash.get_by_label("用户名").fill(MANAGER[0])
    dash.get_by_label("密码").fill(MANAGER[1])
    dash.get_by_role("button", name="登录").click()
    return dash


def api(server: ServerProcess, method: str, path: str, body: Any = None,
        token: str | None = None) -> Any:
    """A plain HTTP call for setting the scene (what a person does in the UI is done there)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.api + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as refused:
        # Close the error's response now: an unclosed socket is a ResourceWarning, an error here.
        refused.close()
        raise


@pytest.fixture(scope="module")
def kiosk_token(server: ServerProcess) -> str:
    """A device token for a kiosk at the hall station, registered by the manager."""
    mgr = api(server, "POST", "/auth/login", {"username": MANAGER[0], "password": MANAGER[1]})
    kiosk = api(server, "POST", "/markets/shiling/kiosks",
                {"station_id": "hall", "name": "hall kiosk 1"}, mgr["token"])
    return str(kiosk["token"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package, or point "
                    "GIGMARKET_CHROMIUM at a Chromium binary")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(autouse=True)
def close_pages_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test leaves no page behind: a page left open keeps polling and holding sockets on
    the module's shared server and would be part of the next test's scene."""
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()


@pytest.fixture
def shot() -> Callable[..., Path]:
    """Save a screenshot of a page at its viewport size (or the whole scrolled page) under
    test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def wait_until(page: Any, expression: str, arg: Any = None, timeout_ms: float = 20_000) -> None:
    """Waits until a page expression is true, asking from the test's side: Playwright's
    ``wait_for_function`` evaluates its string inside the page, which the pages'
    Content-Security-Policy (no 'unsafe-eval') refuses, while ``evaluate`` is not bound by it."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression} ({arg!r})")
        page.wait_for_timeout(100)


def watch_errors(page: Any, errors: list[str], *, expected_refusals: tuple[str, ...] = ()) -> Any:
    """Collect a page's uncaught script errors and console errors into ``errors``;
    ``page_errors`` fails the test when any arrived. Chromium logs every 4xx answer to a fetch
    as a console error, even one the page expects and handles (an unknown ID card at the
    kiosk is a 404 that leads to registering): those paths are named in ``expected_refusals``."""
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

    def on_console(m: Any) -> None:
        if m.type != "error":
            return
        source = str(m.location.get("url", ""))
        if m.text.startswith("Failed to load resource") and any(
                source.split("?")[0].endswith(path) for path in expected_refusals):
            return
        errors.append(f"{page.url}: console: {m.text} ({source})")

    page.on("console", on_console)
    return page


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    """Script and console errors from every page a test opens; the test fails if there are any."""
    errors: list[str] = []
    yield errors
    assert not errors, f"script errors in the pages: {errors}"
