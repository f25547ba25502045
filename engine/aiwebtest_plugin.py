"""pytest plugin loaded into every sandboxed run (``-p aiwebtest_plugin``).

It is copied into the run's scratch dir as a single file and imports only
the standard library, pytest and (for browser tests) Playwright, so it works
under the target project's interpreter, not ours.

The ``page`` fixture drives Debian's Chromium (never a downloaded browser)
and wraps the page so that selectors are watched:

* ``AIWEBTEST_HEAL_MODE=record`` (tier 1): every selector that matched has
  its element's fingerprint (tag, id, name, classes, text, attributes, DOM
  path) written to the report, for the engine to store.
* ``AIWEBTEST_HEAL_MODE=heal`` (tier 2): a selector that no longer matches
  is replaced by the element most similar to its stored fingerprint, if
  the similarity reaches ``AIWEBTEST_HEAL_THRESHOLD`` (Healenium's idea).
  Each heal is reported; the engine keeps it only if the test then passes.

In both modes a selector that matches nothing is reported as ``broken``
with the page's URL and the steps taken on that page before it, so that
Stagehand (``engine/stagehand_heal.py``) can find what it meant without a
fingerprint.

``AIWEBTEST_EACH_ALONE=1``: each test runs in a child process forked after
collection, so it meets the state the modules' import left and nothing an
earlier test did: the "alone" check of a kept file (agents/test_order.py)
in one process instead of one run per test.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest

_SELECTOR_METHODS = {
    "click", "dblclick", "fill", "type", "press", "check", "uncheck", "hover", "focus",
    "text_content", "inner_text", "inner_html", "input_value", "get_attribute",
    "is_visible", "is_enabled", "is_checked", "select_option", "wait_for_selector",
    "query_selector", "locator", "tap", "set_input_files",
}

_FINGERPRINT_JS = """
(el) => {
  const path = [];
  for (let n = el; n && n.nodeType === 1 && n.tagName !== 'HTML'; n = n.parentElement) {
    const sibs = n.parentElement ? Array.from(n.parentElement.children).filter(c => c.tagName === n.tagName) : [n];
    path.unshift(n.tagName.toLowerCase() + (sibs.length > 1 ? `:nth-of-type(${sibs.indexOf(n) + 1})` : ''));
  }
  const attrs = {};
  for (const a of el.attributes) { if (a.name !== 'style') attrs[a.name] = a.value; }
  return {
    tag: el.tagName.toLowerCase(), id: el.id || '', name: el.getAttribute('name') || '',
    classes: Array.from(el.classList), text: (el.innerText || el.value || '').trim().slice(0, 200),
    attributes: attrs, path: path.join(' > '),
  };
}
"""

_ALL_CANDIDATES_JS = """
(fp) => {
  const out = [];
  const els = document.body ? document.body.querySelectorAll('*') : [];
  const fpFn = %s;
  for (const el of Array.from(els).slice(0, 3000)) {
    const f = fpFn(el);
    let sel = '';
    if (el.id && document.querySelectorAll('#' + CSS.escape(el.id)).length === 1) sel = '#' + CSS.escape(el.id);
    else sel = f.path;
    f.selector = sel;
    out.push(f);
  }
  return out;
}
""" % _FINGERPRINT_JS


def similarity(old: dict[str, Any], new: dict[str, Any]) -> float:
    """Weighted similarity of two fingerprints, 0..1."""

    def ratio(a: str, b: str) -> float:
        if not a and not b:
            return 1.0
        return SequenceMatcher(None, a, b).ratio()

    def jaccard(a: set, b: set) -> float:
        if not a and not b:
            return 1.0
        return len(a & b) / len(a | b)

    old_attrs = {f"{k}={v}" for k, v in old.get("attributes", {}).items() if k not in ("id", "class")}
    new_attrs = {f"{k}={v}" for k, v in new.get("attributes", {}).items() if k not in ("id", "class")}
    parts = [
        (0.20, 1.0 if old.get("tag") == new.get("tag") else 0.0),
        (0.10, ratio(old.get("id", ""), new.get("id", ""))),
        (0.30, ratio(old.get("text", ""), new.get("text", ""))),
        (0.10, jaccard(set(old.get("classes", [])), set(new.get("classes", [])))),
        (0.15, jaccard(old_attrs, new_attrs)),
        (0.15, ratio(old.get("path", ""), new.get("path", ""))),
    ]
    return sum(w * s for w, s in parts)


class _Healer:
    def __init__(self) -> None:
        self.mode = os.environ.get("AIWEBTEST_HEAL_MODE", "off")
        self.threshold = float(os.environ.get("AIWEBTEST_HEAL_THRESHOLD", "0.75"))
        self.report_path = os.environ.get("AIWEBTEST_HEAL_REPORT")
        known = os.environ.get("AIWEBTEST_FINGERPRINTS")
        self.known: dict[str, dict] = json.loads(Path(known).read_text()) if known and Path(known).exists() else {}
        self.recorded: dict[str, dict] = {}
        self.heals: list[dict] = []
        self.broken: list[dict] = []

    def resolve(self, page: Any, selector: str, method: str = "", trail: list[dict] | None = None) -> str:
        """The selector to use: the original if it matches, else a healed one."""
        handle = page.query_selector(selector)
        if handle is None and self.mode == "heal":
            # Give late-rendered elements a moment before calling it broken.
            try:
                handle = page.wait_for_selector(selector, state="attached", timeout=1000)
            except Exception:  # Playwright's TimeoutError; not importable without playwright
                handle = None
        if handle is not None:
            if self.mode in ("record", "heal"):
                self.recorded[selector] = handle.evaluate(_FINGERPRINT_JS)
            return selector
        if self.mode in ("record", "heal") and len(self.broken) < 50:
            self.broken.append({"test": _current_test(), "selector": selector, "method": method, "url": page.url,
                                "before": list(trail or [])[-10:]})
        if self.mode != "heal" or selector not in self.known:
            return selector
        old = self.known[selector]
        candidates = page.evaluate(_ALL_CANDIDATES_JS, old)
        scored = sorted(((similarity(old, c), c) for c in candidates), key=lambda t: -t[0])
        if not scored or scored[0][0] < self.threshold:
            best = f"{scored[0][0]:.2f}" if scored else "none"
            self.heals.append({"selector": selector, "healed": None, "score": scored[0][0] if scored else 0,
                               "reason": f"best match {best} below threshold {self.threshold}"})
            return selector
        score, best = scored[0]
        self.heals.append({"selector": selector, "healed": best["selector"], "score": round(score, 3)})
        self.recorded[best["selector"]] = {k: v for k, v in best.items() if k != "selector"}
        return best["selector"]

    def write(self) -> None:
        if self.report_path:
            Path(self.report_path).write_text(json.dumps({"fingerprints": self.recorded, "heals": self.heals,
                                                           "broken": self.broken}))


_HEALER: _Healer | None = None


def _healer() -> _Healer:
    global _HEALER
    if _HEALER is None:
        _HEALER = _Healer()
    return _HEALER


def _current_test() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.split("::")[-1].split(" ")[0] if current else ""


class HealingPage:
    """A Playwright page whose selector-taking methods pass through the healer.

    It keeps the steps taken since the last navigation (the ``trail``): a
    broken selector's report carries them, so the page can be brought back
    to the state the step saw.
    """

    def __init__(self, page: Any, healer: _Healer) -> None:
        self._page = page
        self._healer = healer
        self._trail: list[dict] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._page, name)
        if name in ("goto", "reload") and callable(attr):
            def navigate(*args: Any, **kwargs: Any) -> Any:
                self._trail = []
                return attr(*args, **kwargs)

            return navigate
        if name not in _SELECTOR_METHODS or not callable(attr):
            return attr

        def call(selector: str, *args: Any, **kwargs: Any) -> Any:
            used = self._healer.resolve(self._page, selector, name, self._trail)
            result = attr(used, *args, **kwargs)
            self._trail.append({"method": name, "selector": used,
                                "args": [a for a in args if isinstance(a, (str, int, float, bool))][:3]})
            return result

        return call


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=os.environ.get("AIWEBTEST_CHROMIUM", "/usr/bin/chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"],
        )
        marker = os.environ.get("AIWEBTEST_BROWSER_STARTED")
        if marker:  # read by the engine: a run killed before this line hung starting Chromium
            Path(marker).touch()
        yield instance
        _close_within(instance, seconds=10.0)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (standard library only: this file runs under the target's Python)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _close_within(instance: Any, seconds: float) -> None:
    """Close the browser; if Chromium has not gone after ``seconds``, kill it.

    A Chromium that hangs on close (seen once in CI under load) would hold
    the whole run until the engine's time limit and turn passed tests into a
    timeout; the results are already decided by then, so a kill loses nothing.
    """
    import signal
    import threading

    def kill() -> None:
        for pid in _descendants(os.getpid()):
            try:
                if Path(f"/proc/{pid}/comm").read_text().startswith("chrom"):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    try:
        instance.close()
    except Exception:  # noqa: BLE001 - killed under us: the browser is gone either way
        pass
    finally:
        timer.cancel()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    raw = context.new_page()
    raw.set_default_timeout(float(os.environ.get("AIWEBTEST_ACTION_TIMEOUT_MS", "3000")))
    yield HealingPage(raw, _healer())
    try:
        context.close()
    except Exception:  # noqa: BLE001 - a browser gone under the test: the test's own outcome already says so
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any):  # noqa: ANN201 - a pytest hook wrapper
    """Marks an xpass for the JUnit report, which writes it as a plain pass (engine/results.py reads it)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed and hasattr(report, "wasxfail"):
        item.user_properties.append(("aiwebtest_outcome", "xpassed"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> bool | None:
    """With ``AIWEBTEST_EACH_ALONE=1``, the test's setup, call and teardown in a forked child; its reports come
    back through a pipe and are logged here as pytest's own (the JUnit report included). A child that dies
    without a report (``os._exit`` in the code under test, a signal) fails the test and says how it ended."""
    if os.environ.get("AIWEBTEST_EACH_ALONE") != "1" or not hasattr(os, "fork"):
        return None
    try:  # pytest's own protocol, as pytest-forked runs it: not public API, so a pytest that moved it runs as usual
        from _pytest.runner import runtestprotocol
    except ImportError:
        return None

    config, ihook = item.config, item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    # pytest's own stack dump before a time limit (``faulthandler_timeout``) is a watchdog thread: forked while
    # it is armed, the child inherits its lock but not the thread, and re-arming there waits forever (the second
    # test's child hung). Disarmed for the fork; each side then arms its own, the child's dump to real stderr.
    timeout = float(config.getini("faulthandler_timeout") or 0)
    stderr = os.dup(2)
    faulthandler.cancel_dump_traceback_later()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the one test, hand its reports over, and leave without any exit handler
        os.close(read_end)
        if timeout > 0:
            faulthandler.dump_traceback_later(timeout, file=stderr)
        status = 1
        try:
            reports = runtestprotocol(item, log=False, nextitem=None)
            data = json.dumps([config.hook.pytest_report_to_serializable(config=config, report=r) for r in reports],
                              default=str)
            with os.fdopen(write_end, "w", encoding="utf-8") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    os.close(stderr)
    if timeout > 0:
        faulthandler.dump_traceback_later(timeout + 1, file=sys.stderr)  # the child's dump, where the test is, first
    with os.fdopen(read_end, encoding="utf-8") as pipe:
        data = pipe.read()
    _, wait_status = os.waitpid(pid, 0)
    try:
        reports = [config.hook.pytest_report_from_serializable(config=config, data=d) for d in json.loads(data)]
    except (ValueError, TypeError, KeyError):
        reports = []
    if not reports:
        how = (f"signal {os.WTERMSIG(wait_status)}" if os.WIFSIGNALED(wait_status)
               else f"exit status {os.WEXITSTATUS(wait_status)}")
        reports = [pytest.TestReport(item.nodeid, item.location, {}, "failed",
                              f"the test's own process ended ({how}) without a report", "call")]
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _HEALER is not None:
        _HEALER.write()
