"""The progress bar's arithmetic, without Qt: by time during the search, never full before the result."""

from ui.generate.run_progress import BEFORE_EVOLVE, BEFORE_RESULT, RunProgress, clock


def test_steps_before_evolution_fill_only_the_first_tenth() -> None:
    run = RunProgress(started=0.0, estimate_s=100.0, target=0.85)
    for agent in ("orchestration", "observation", "requirements", "analysis"):
        run.on_event(agent, {"message": "…"}, now=1.0)
        assert run.fraction(now=1.0) < BEFORE_EVOLVE


def test_the_search_moves_the_bar_by_time_up_to_the_estimate_and_stops_short_of_full() -> None:
    run = RunProgress(started=0.0, estimate_s=100.0, target=0.85)
    run.on_event("evolution", {"message": "Round 1", "search_budget_s": 20}, now=10.0)
    half = run.fraction(now=50.0)
    assert BEFORE_EVOLVE < half < BEFORE_RESULT
    assert run.fraction(now=80.0) > half
    assert run.fraction(now=500.0) == BEFORE_RESULT  # past the estimate: waiting, not done
    assert "taking longer than the estimate" in run.label(now=500.0)


def test_the_single_pass_moves_the_bar_as_the_agents_do() -> None:
    """Phase 2's bar sat at 0 % and jumped to 100 %: its events now start the search clock."""
    run = RunProgress(started=0.0, estimate_s=100.0, target=0.85)
    run.on_event("phase2", {"message": "Phase 2 single pass"}, now=5.0)
    assert run.fraction(now=50.0) > BEFORE_EVOLVE


def test_the_label_says_elapsed_left_coverage_and_a_streaming_model() -> None:
    run = RunProgress(started=0.0, estimate_s=100.0, target=0.85)
    run.on_event("evolution", {"message": "kept", "coverage": 0.42}, now=1.0)
    run.on_event("evolution", {"message": "model q: 40 tokens", "model_stream": {}}, now=2.0)
    assert run.label(now=90.0) == ("Elapsed 1:30 · about 0:10 left · line coverage so far 42% (target 85%) "
                                   "· evolution · model q: 40 tokens")
    run.on_event("evolution", {"message": "next"}, now=3.0)
    assert "tokens" not in run.label(now=90.0)
    assert run.finished_label(now=125.0) == "Took 2:05 · line coverage 42%"
    assert clock(-5) == "0:00"
