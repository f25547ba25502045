"""The production overlay as kustomize renders it: what the spec's kubectl commands and a team's secrets rely on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agents.constants import group_name, work_stream

ROOT = Path(__file__).resolve().parents[2]
AGENT_TYPES = {"orchestration", "observation", "requirements", "analysis", "evolution", "reporting"}
SECRET_NAMES = ("POSTGRES_URL", "REDIS_STREAMS_URL", "AIWEBTEST_API_TOKEN", "LLM_API_KEY")

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed here: its kustomize renders the overlay")


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    done = subprocess.run(["kubectl", "kustomize", str(ROOT / "deploy/k8s/production")], capture_output=True,
                          text=True, check=True, timeout=60)
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _of(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_object_is_in_production_and_each_agent_type_has_its_deployment(rendered: list[dict]) -> None:
    assert all(d["metadata"].get("namespace") == "production" for d in rendered if d["kind"] != "Namespace")
    agents = [d for d in _of(rendered, "Deployment").values() if d["metadata"]["labels"].get("app") == "agents"]
    # kubectl logs -l app=agents -n production selects pods: the pod template carries both labels.
    types = {d["spec"]["template"]["metadata"]["labels"]["agent-type"] for d in agents
             if d["spec"]["template"]["metadata"]["labels"]["app"] == "agents"}
    assert types == AGENT_TYPES
    for d in agents:
        pod = d["spec"]["template"]["spec"]
        args = pod["containers"][0]["args"]
        assert args[:3] == ["worker", "--agents", d["metadata"]["labels"]["agent-type"]]
        assert pod["terminationGracePeriodSeconds"] >= 45  # the 30 s drain plus the cancel grace
        probe = pod["containers"][0]["readinessProbe"]["exec"]["command"]
        assert probe[:3] == ["python", "-m", "app.probe_file"] and probe[3].endswith("/ready")
        assert pod["securityContext"]["runAsNonRoot"] is True


def test_secrets_come_from_the_secret_and_never_from_the_configmap(rendered: list[dict]) -> None:
    settings = _of(rendered, "ConfigMap")["aiwebtest-settings"]["data"]
    assert not set(settings) & set(SECRET_NAMES)
    assert not any("://" in v and "@" in v for v in settings.values())  # no URL with a password in it
    for d in _of(rendered, "Deployment").values():
        env = {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        for name in SECRET_NAMES:
            assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "aiwebtest-secrets", (d["metadata"]["name"], name)


def test_keda_scales_evolution_on_its_stream_and_the_rest_stay_fixed(rendered: list[dict]) -> None:
    scaled = _of(rendered, "ScaledObject")
    assert list(scaled) == ["agents-evolution"]
    spec = scaled["agents-evolution"]["spec"]
    trigger = spec["triggers"][0]
    assert trigger["type"] == "redis-streams" and trigger["metadata"]["stream"] == work_stream("evolution")
    assert trigger["metadata"]["consumerGroup"] == group_name("evolution") and "streamLength" in trigger["metadata"]
    assert spec["scaleTargetRef"]["name"] == "agents-evolution" and 1 <= spec["minReplicaCount"] < spec[
        "maxReplicaCount"]
    assert spec["cooldownPeriod"] >= 60
