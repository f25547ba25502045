"""``aiwebtest generate``: the same path as the GUI and the API, in a terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.observation import checkout_folder
from app.config import Config
from app.core import AppCore
from app.generation import OnEvent
from app.outcome import of_state
from engine.errors import AppError, BadResult
from engine.generate_request import GenerateRequest
from engine.result_paths import all_inside


def request_of(args: argparse.Namespace) -> GenerateRequest:
    """The request the flags make; a bad one raises ``InputError`` before anything starts."""
    return GenerateRequest.parse({
        "repository_url": args.repo, "target_files": [f.strip() for f in args.files.split(",") if f.strip()],
        "coverage_target": args.coverage_target, "requirements": args.requirements,
        "conversation_id": args.conversation_id, "strategy": args.strategy, "max_rounds": args.max_rounds,
        "search_time_s": args.search_time, "generate_anyway": args.even_if_met,
        "mutation_score": not args.no_mutation})


async def run_generate(config: Config, args: argparse.Namespace) -> int:
    request = request_of(args)
    core = AppCore(config, serve_api=False)
    await core.start()
    try:
        assert core.generation is not None and core.redis is not None
        submitted = await core.generation.submit(request, use_agents=args.use_agents)
        say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
        say(f"request {submitted['task_id']}: route {submitted['route']} ({submitted['reason']})")
        state = await core.generation.follow(submitted["task_id"], _printer(say), timeout_s=args.timeout)
        if args.json:
            print(json.dumps(state, indent=2, default=str))
        verdict = of_state(state)
        if state["status"] != "completed":
            print(f"aiwebtest: {verdict.kind}: {verdict.reason}", file=sys.stderr)
            return verdict.exit_code
        result = state["result"]
        if not args.json:
            print(f"done: {result['test_count']} tests, measured line coverage "
                  f"{result['coverage_estimate']:.1%} (target {args.coverage_target:.0%}), "
                  f"{state.get('token_usage') or 0:,} tokens, {_cost(result)}, "
                  f"{result.get('execution_time_seconds', 0):.1f} s")
            for why in result.get("added_dependencies") or []:  # installed for an import declared nowhere
                print(f"added {why}")
            if result.get("baseline_coverage") is not None:  # the one measurement, both figures (agents/baseline.py)
                print(f"your tests cover {result['baseline_coverage']:.1%} of the target lines; with the generated "
                      f"ones {result['coverage_estimate']:.1%}")
            mutation = result.get("mutation") or {}
            if mutation.get("score") is not None:
                print(f"mutation score {mutation['score']:.0%} ({mutation['killed']} of {mutation['total']} "
                      f"mutants killed{', time-boxed' if mutation.get('timed_out') else ''})")
                if mutation.get("distillation"):
                    print(f"mutation gate: {mutation['distillation']}"[:300])
            elif mutation:  # asked for and not had: say why rather than leave the line out
                why = mutation.get("error") or ("its time box ran out before a mutant was tested"
                                                if mutation.get("timed_out") else "no mutant was tested")
                # The reasons the steps give start "not measured: ..." themselves: once is enough.
                print(f"mutation score not measured: {why.removeprefix('not measured: ')}"[:300])
            for g in result.get("generators") or []:
                kept = f"{g['kept_tests']} tests kept" if g["kept_tests"] else f"nothing kept: {g['error']}"
                print(f"  round {g['round']} {g['generator']}: {kept}"[:200])
            by_file = result.get("coverage_by_file") or []
            if request.whole_repository and by_file:  # every module, then the total over all of them
                for row in by_file:
                    print(f"  {row['path']}: {row['line_rate']:.1%} ({row['lines_covered']}/{row['lines_total']} "
                          "lines)")
                print(f"  all {len(by_file)} modules: {result['coverage_estimate']:.1%} "
                      f"({sum(r['lines_covered'] for r in by_file)}/{sum(r['lines_total'] for r in by_file)} lines)")
            polish = result.get("polish") or {}
            distil = result.get("distil") or {}
            for name in result["files"]:
                said = [n for n in (distil.get(name), polish.get(name)) if n]
                print(f"  {name}" + (f" ({'; '.join(said)})" if said else ""))
        if args.write:
            await asyncio.to_thread(_write, args.repo, config.data_dir / "workspaces", result)
        if verdict.kind == "failed":  # finished, but nothing kept: a failure with its reason, exit 1
            print(f"aiwebtest: failed: {verdict.reason}", file=sys.stderr)
        elif verdict.kind == "partial":
            # Tests were kept, but the target was not reached: a script must not take it for success.
            print(f"aiwebtest: partial: {verdict.reason}", file=sys.stderr)
        elif result.get("outcome") == "met" and not args.json:
            print(result.get("reason", ""))
        return verdict.exit_code
    finally:
        await core.shutdown()


LIVE_EVERY_S = 10.0


def _printer(say: Callable[[str], None]) -> OnEvent:
    """A progress line per event; a model's answer growing only every ``LIVE_EVERY_S`` in a terminal log."""
    last_live = [0.0]

    def show(agent: str, event: dict[str, Any]) -> None:
        if event.get("live"):
            now = time.monotonic()
            if now - last_live[0] < LIVE_EVERY_S:
                return
            last_live[0] = now
        say(f"[{agent}] {event['message']}")

    return show


def _write(url: str, workspace: Path, result: dict[str, Any]) -> None:
    """The result's files into the repository the user named: the folder is worked out from ``--repo``, not read
    from the result, and every file name must stay inside it (engine/result_paths.py). All are checked, and
    none may exist, before any is written."""
    repo = checkout_folder(url, workspace)
    named = Path(str(result.get("repository") or repo)).resolve()
    if named != repo:
        raise BadResult(f"The result names the repository {named}, not {repo} that was asked for; nothing was "
                        "written. A worker sharing the database with this machine wrote it: check its version.")
    paths = all_inside(repo, result.get("files"))
    for path in paths.values():
        if path.exists():
            raise AppError(f"{path} exists; not overwriting it (nothing was written). Move it away or write elsewhere.")
    for name, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result["files"][name], encoding="utf-8")
        print(f"wrote {path}")


def _cost(result: dict) -> str:
    """The cost line: the priced cost, or why there is none."""
    if not result.get("token_usage") and not result.get("cost_usd"):
        return "$0 (no model call)"
    cost = float(result.get("cost_usd") or 0)
    if result.get("cost_note") and not cost:  # every model it used is unpriced: not "$0"
        return result["cost_note"]
    note = f" + {result['cost_note']}" if result.get("cost_note") else ""
    return f"${cost:.4f}{note}"
