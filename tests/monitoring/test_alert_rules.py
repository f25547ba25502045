"""The shipped alert rules and scrape config, checked by Prometheus' own promtool.

``make setup`` installs promtool (Debian's ``prometheus``) as root; without it these
tests are skipped with that reason printed (pytest -ra).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MONITORING = Path(__file__).parents[2] / "monitoring"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (make setup installs it as root: apt-get install prometheus)")


def promtool(*args: str, cwd: Path = MONITORING) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@needs_promtool
def test_rules_pass_promtool_check() -> None:
    done = promtool("check", "rules", "alerts/phase3_integration.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 8 rules found" in done.stdout


@needs_promtool
def test_rules_pass_their_unit_tests() -> None:
    done = promtool("test", "rules", "alerts/phase3_integration_test.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_unit_tests_catch_a_rule_that_cannot_fire(tmp_path: Path) -> None:
    """The spec's original TokenBudgetExceeded (a per-second rate against a daily figure) fails our tests."""
    alerts = tmp_path / "alerts"
    shutil.copytree(MONITORING / "alerts", alerts)
    rules = alerts / "phase3_integration.yaml"
    text = rules.read_text()
    fixed = "sum(increase(agent_token_usage_total[24h])) > max(aiwebtest_token_budget_daily)"
    assert fixed in text
    rules.write_text(text.replace(fixed, "sum(rate(agent_token_usage_total[24h])) > 1000000"))
    done = promtool("test", "rules", "alerts/phase3_integration_test.yaml", cwd=tmp_path)
    assert done.returncode != 0 and "TokenBudgetExceeded" in done.stdout + done.stderr


@needs_promtool
def test_example_scrape_config_is_valid_and_sends_the_token(tmp_path: Path) -> None:
    token = tmp_path / "aiwebtest-token"
    token.write_text("secret\n")
    token.chmod(0o600)
    text = (MONITORING / "prometheus.yml").read_text()
    assert "credentials_file: /etc/prometheus/aiwebtest-token" in text
    (tmp_path / "alerts").mkdir()
    shutil.copy(MONITORING / "alerts" / "phase3_integration.yaml", tmp_path / "alerts")
    config = tmp_path / "prometheus.yml"
    config.write_text(text.replace("/etc/prometheus/aiwebtest-token", str(token)))
    done = promtool("check", "config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
