"""Tier 2 for browser tests with Stagehand: find what a broken selector meant.

Our own healer (``aiwebtest_plugin``) needs the element's fingerprint from
an earlier passing run. Stagehand needs none: it reads the page's
accessibility tree and asks the model which element the test step meant.
The sandboxed run reports each selector that matched nothing, with the
page's URL and the steps taken on that page before it; here, in our
process (the model needs the key, which never enters the sandbox), a
Stagehand browser opens that URL, replays those steps, and observes.

The answer becomes a selector the test can keep: the element's id, test id
or name where one is unique, else Stagehand's XPath. The engine applies it
with ``healing.apply_heals`` and keeps it only if the healed test passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.stagehand_session import StagehandSession

_REPLAYED = {"fill", "type", "click", "check", "uncheck", "select_option"}
_STEP_TIMEOUT_MS = 3000

# The element an XPath names, as the shortest selector that finds it alone.
_STABLE_SELECTOR_JS = """
(() => {
  const el = document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  if (!el || el.nodeType !== 1) return null;
  const alone = (s) => { try { const f = document.querySelectorAll(s); return f.length === 1 && f[0] === el; }
                         catch (e) { return false; } };
  const tag = el.tagName.toLowerCase();
  const found = [];
  if (el.id) found.push('#' + CSS.escape(el.id));
  for (const a of ['data-testid', 'data-test', 'data-qa', 'name', 'aria-label', 'placeholder', 'title']) {
    const v = el.getAttribute(a);
    if (v) found.push(tag + '[' + a + '=' + JSON.stringify(v) + ']');
  }
  if (el.classList.length) found.push(tag + Array.from(el.classList).map(c => '.' + CSS.escape(c)).join(''));
  for (const s of found) if (alone(s)) return s;
  return null;
})()
"""


@dataclass(frozen=True)
class BrokenSelector:
    """A selector that matched nothing in a sandboxed run, and where."""

    test: str
    selector: str
    method: str
    url: str
    before: tuple[dict[str, Any], ...] = ()  # steps on that page before it: method, selector, args

    @classmethod
    def from_report(cls, entry: dict[str, Any]) -> BrokenSelector:
        before = entry.get("before")
        steps = tuple(s for s in before if isinstance(s, dict))[-10:] if isinstance(before, list) else ()
        return cls(test=str(entry.get("test", ""))[:200], selector=str(entry["selector"])[:1000],
                   method=str(entry.get("method", ""))[:40], url=str(entry.get("url", "")), before=steps)


def worth_healing(broken: list[Any], failures: str, limit: int = 5) -> list[BrokenSelector]:
    """The broken selectors behind the failure: those its message names, else all of them.

    A selector can match nothing for a moment and then appear (a late
    render); the failing step's Playwright message names the one that mattered.

    The report comes out of the sandbox, so it is the tested code's word:
    only http(s) pages are opened. Stagehand's browser runs in our process,
    and a ``file://`` URL would put our own files in the prompt.
    """
    seen: dict[str, BrokenSelector] = {}
    for entry in broken:
        if not isinstance(entry, dict) or not isinstance(entry.get("selector"), str):
            continue
        url = entry.get("url")
        if entry["selector"] and isinstance(url, str) and url.startswith(("http://", "https://")):
            seen.setdefault(entry["selector"], BrokenSelector.from_report(entry))
    named = [b for s, b in seen.items() if s in failures]
    return (named or list(seen.values()))[:limit]  # one model call each: a bounded number per round


def instruction_for(broken: BrokenSelector, intent: dict[str, str] | None) -> str:
    purpose = f" The test is {broken.test}"
    if intent and intent.get("docstring"):
        purpose += f": {intent['docstring']}"
    return (f"Find the element the test step page.{broken.method}({broken.selector!r}) acts on. That selector "
            f"no longer matches anything on this page; the element was renamed or moved.{purpose}")


async def heal_one(session: StagehandSession, broken: BrokenSelector,
                   intent: dict[str, str] | None) -> dict[str, Any]:
    """One heal record in the engine's shape: selector, healed (None if not found), and how."""
    page = await session.page()
    record: dict[str, Any] = {"selector": broken.selector, "healed": None, "backend": "stagehand",
                              "url": broken.url}
    await page.goto(broken.url)
    replayed = []
    for step in broken.before:
        outcome = await _replay(page, step)
        replayed.append(outcome)
    if replayed:
        record["replayed"] = replayed
    result = await session.stagehand.observe(instruction_for(broken, intent), page=page)
    actions = list(getattr(result, "data", []) or [])
    if not actions:
        record["reason"] = "Stagehand found no element the step could have meant"
        return record
    action = actions[0]
    record["description"] = action.description
    record["healed"] = await stable_selector(page, action.selector)
    return record


async def stable_selector(page: Any, found: str) -> str:
    """An id, test id or name selector for Stagehand's element where one is unique; its XPath otherwise."""
    if not found.startswith("xpath="):
        return found
    try:
        better = await page.evaluate(_STABLE_SELECTOR_JS % json.dumps(found[len("xpath="):]))
    except Exception:  # noqa: BLE001 - the XPath is still a working selector
        better = None
    return better if isinstance(better, str) and better else found


async def _replay(page: Any, step: dict[str, Any]) -> dict[str, Any]:
    method, selector, args = step.get("method"), step.get("selector"), list(step.get("args") or [])
    if method not in _REPLAYED or not isinstance(selector, str):
        return {"method": method, "selector": selector, "replayed": False}
    try:
        locator = page.locator(selector)
        if method in ("fill", "type"):
            await locator.fill(str(args[0]) if args else "", timeout=_STEP_TIMEOUT_MS)
        else:
            await locator.click(timeout=_STEP_TIMEOUT_MS)
        return {"method": method, "selector": selector, "replayed": True}
    except Exception as exc:  # noqa: BLE001 - a step that does not replay still leaves the page to observe
        return {"method": method, "selector": selector, "replayed": False, "error": str(exc).splitlines()[0][:200]}
