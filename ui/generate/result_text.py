"""A result in words, as the Generate view's rich-text labels show it: plain functions, no Qt.

Every figure comes from the result and its verdict (``app/outcome.py``),
the same record the CLI, History and the API read.
"""

from __future__ import annotations

from html import escape
from typing import Any

from app.outcome import COLOURS, Outcome
from engine.results import summary_counts


def verdict_header(verdict: Outcome) -> str:
    """The first line of a result: completed / partial / failed and why, in the colours used everywhere."""
    return (f'<span style="color:{verdict.colour}; font-size:12pt"><b>{verdict.label}</b></span>'
            + (f'<span style="color:{verdict.colour}">: {escape(verdict.reason)}</span>' if verdict.reason else ""))


def spent_line(state: dict[str, Any], result: dict[str, Any]) -> str:
    """What a run that kept nothing still spent on the model: its tokens were used all the same."""
    tokens = int(state.get("token_usage") or result.get("token_usage") or 0)
    if not tokens:
        return ""
    cost = float(result.get("cost_usd") or 0)
    price = escape(result["cost_note"]) if result.get("cost_note") and not cost else f"${cost:.4f}"
    return f"Spent {tokens:,} tokens · {price}<br>"


def coverage_words(result: dict[str, Any]) -> str:
    """Both figures of the one measurement (agents/baseline.py): the repository's own tests, then with ours."""
    total = (f"<b>{result.get('coverage_estimate', 0.0):.1%}</b> (branches "
             f"{result.get('branch_coverage', 0):.1%})")
    if result.get("baseline_coverage") is None:
        return f"measured line coverage {total}"
    if result.get("outcome") == "met":
        return f"your tests cover {total}"
    return f"your tests cover <b>{result['baseline_coverage']:.1%}</b>; with the generated ones {total}"


def mutation_line(result: dict[str, Any]) -> str:
    """Coverage alone lies: how many mutants of the code the kept tests notice."""
    mutation = result.get("mutation") or {}
    if mutation.get("score") is None:
        return f" · mutation score: {escape(mutation['error'])}" if mutation.get("error") else ""
    compared = mutation.get("compared") or {}
    versus = ""
    if compared:  # agents/mutation_gate.py: the distilled suite against the tests as generated
        went = {"distilled": "distilled kept",
                "distilled_unsliced": f"distilled without the slice kept ({compared.get('unsliced')})",
                "distilled_unshrunk": f"distilled without the slice or the shrink kept ({compared.get('unsliced')})",
                }.get(str(compared.get("kept")), "tests as generated kept")
        versus = (f"; distilled {compared.get('distilled')} vs as generated {compared.get('as_generated')} "
                  f"of {compared.get('mutants')} shared mutants: {went}")
    return (f" · mutation score <b>{mutation['score']:.0%}</b> ({mutation['killed']}/{mutation['total']}"
            f"{', time-boxed' if mutation.get('timed_out') else ''}{escape(versus)})")


def generators_line(result: dict[str, Any]) -> str:
    """What each generator contributed: "doctest 2 kept · pynguin mio 0 (why)".

    The llm loop's prompts (one per function, and their repairs) count as
    one generator, "llm", with how many prompts it took.
    """
    totals: dict[str, list[Any]] = {}
    for g in result.get("generators") or []:
        name = "llm" if g["generator"].startswith("llm") else g["generator"]
        entry = totals.setdefault(name, [0, "", 0, 0.0])
        entry[0] += int(g.get("kept_tests") or 0)
        if g.get("error") and not entry[1]:
            entry[1] = str(g["error"])
        entry[2] += 1
        entry[3] = max(entry[3], float(g.get("seconds") or 0))
    if not totals:
        return ""
    parts = []
    for name, (kept, why, tries, seconds) in totals.items():
        part = f"{escape(name)} <b>{kept}</b> kept"
        if name == "llm" and tries > 1:
            part += f" ({tries} prompts)"
        if seconds:
            part += f' <span style="color:#777">{seconds:.0f} s</span>'
        if not kept and why:
            part += f' <span style="color:#777" title="{escape(why)}">(nothing kept)</span>'
        parts.append(part)
    polish = result.get("polish") or {}
    rewritten = sum(1 for v in polish.values() if v.startswith("names and docstrings"))
    tail = f"<br>Readability pass by the model: {rewritten} of {len(polish)} file(s) rewritten" if polish else ""
    distil = result.get("distil") or {}
    if distil:
        done = [v for v in distil.values() if v.startswith("distilled")]
        left = [v for v in distil.values() if not v.startswith("distilled")]
        tail = (f"<br>Distilled (each rewrite rerun 3 times, coverage kept): {len(done)} of {len(distil)} file(s)"
                + (f' <span style="color:#777" title="{escape(left[0])}">({len(left)} left as generated)</span>'
                   if left else "") + tail)
    return "<br>Generators: " + " · ".join(parts) + tail


def summary(state: dict[str, Any], verdict: Outcome) -> str:
    """The result's header and figures; a failure shows no coverage figures that look like a result."""
    result = state.get("result") or {}
    if verdict.kind == "failed":
        return verdict_header(verdict) + "<br>" + spent_line(state, result) + generators_line(result).removeprefix("<br>")
    cost_note = (f' <span style="color:#a35f00">({escape(result["cost_note"])})</span>'
                 if result.get("cost_note") else "")
    return (verdict_header(verdict) + "<br>"
            f"<b>{result.get('test_count', 0)} tests</b> · {coverage_words(result)} · "
            f"{state.get('token_usage') or 0:,} tokens · ${result.get('cost_usd', 0):.4f}{cost_note}"
            f" · {result.get('execution_time_seconds', 0):.1f} s · "
            f"{result.get('strategy', '?')} strategy, {result.get('rounds', 1)} round(s)"
            + mutation_line(result) + added_line(result) + generators_line(result))


def added_line(result: dict[str, Any]) -> str:
    """Distributions installed for imports the repository declares nowhere: said, never silent."""
    added = result.get("added_dependencies") or []
    return "".join(f"<br>Added {escape(str(why))}" for why in added[:5])


def test_run_line(runs: list[dict[str, Any]]) -> str:
    """pytest's own summary words for these runs: "1 failed, 7 passed, 1 xfailed" (no time)."""
    counts = summary_counts([t["outcome"] for run in runs for t in run["tests"]])
    return ", ".join(f"{n} {word}" for word, n in counts)


def test_run(runs: list[dict[str, Any]]) -> str:
    """"Run these tests" as pytest says it, then what failed or erred (a skip or an xfail is no failure)."""
    outcomes = [t for run in runs for t in run["tests"]]
    if not outcomes:
        return (f'<span style="color:{COLOURS["failed"]}">No test ran: '
                + escape("; ".join(str(r.get("error") or r["status"]) for r in runs)) + "</span>")
    broken = [t for t in outcomes if t["outcome"] in ("failed", "error")]
    colour = COLOURS["completed"] if not broken else COLOURS["failed"]
    text = f'<span style="color:{colour}"><b>{escape(test_run_line(runs))}</b></span>'
    if broken:
        text += "<br>" + "<br>".join(escape(f"{t['name']}: {t['outcome']}: {t.get('message') or ''}")[:200]
                                     for t in broken[:5])
    return text


test_run.__test__ = False  # type: ignore[attr-defined]  # renderers named for what they render, not tests
test_run_line.__test__ = False  # type: ignore[attr-defined]
