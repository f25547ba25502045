"""The local API's guard over real HTTP: token, Host, body size, hostile input (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.api_guard import MAX_BODY_BYTES, host_is_local
from app.api_token import ensure_token, read_token


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]", "[::1]:8000"])
def test_local_hosts(host: str) -> None:
    assert host_is_local(host)


@pytest.mark.parametrize("host", ["", "evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "127.0.0.2", "[::1]x", "localhost:80x", "0.0.0.0"])
def test_foreign_hosts(host: str) -> None:
    assert not host_is_local(host)


def test_a_clusters_service_name_is_accepted_only_when_named() -> None:
    """AIWEBTEST_API_ALLOWED_HOSTS (deploy/k8s/): the API pod is reached as aiwebtest-api:8000; nothing else is."""
    from app.config import load_config

    named = load_config(env_file=None, aiwebtest_api_allowed_hosts="aiwebtest-api, AIWEBTEST-API.production")
    assert named.api_allowed_hosts == {"aiwebtest-api", "aiwebtest-api.production"}
    assert host_is_local("aiwebtest-api:8000", named.api_allowed_hosts)
    assert host_is_local("aiwebtest-api.production", named.api_allowed_hosts)
    assert not host_is_local("aiwebtest-api.evil.example:8000", named.api_allowed_hosts)
    assert not host_is_local("aiwebtest-api:8000")  # a desktop names none
    with pytest.raises(Exception, match="AIWEBTEST_API_ALLOWED_HOSTS=.a/b.*comma list of host names"):
        load_config(env_file=None, aiwebtest_api_allowed_hosts="a/b")


def test_token_is_made_once_and_private(tmp_path: Path) -> None:
    token = ensure_token(tmp_path)
    assert len(token) >= 32
    assert ensure_token(tmp_path) == token
    assert (tmp_path / "api-token").stat().st_mode & 0o777 == 0o600
    (tmp_path / "api-token").chmod(0o644)
    assert read_token(tmp_path) == token
    assert (tmp_path / "api-token").stat().st_mode & 0o777 == 0o600


async def test_401_without_the_token_health_stays_open(test_client: httpx.AsyncClient) -> None:
    base = str(test_client.base_url)
    async with httpx.AsyncClient(base_url=base) as anonymous:
        for method, path in [("GET", "/api/v1/settings"), ("PUT", "/api/v1/settings"), ("POST", "/api/v1/execute"),
                             ("GET", "/openapi.json"), ("GET", "/api/v1/execution/1/status")]:
            response = await anonymous.request(method, path, json={})
            assert response.status_code == 401, (method, path)
            assert "aiwebtest api-token" in response.json()["detail"]
            assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = await anonymous.get("/api/v1/settings", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        health = await anonymous.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
    assert (await test_client.get("/api/v1/settings")).status_code == 200


async def test_foreign_host_is_refused_and_nothing_runs(test_client: httpx.AsyncClient, tmp_path: Path,
                                                        pool) -> None:
    # Nothing the test writes can leave its sandbox, so "it ran" is the executions table.
    code = "def test_x():\n    assert True\n"
    before = await pool.fetchval("SELECT count(*) FROM executions")
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.nip.io"):
        response = await test_client.post("/api/v1/execute", json={"test_code": code, "execution_strategy": "tier1_only"},
                                          headers={"Host": host})
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["field"] == "Host"
    assert await pool.fetchval("SELECT count(*) FROM executions") == before
    # The same request addressed to this machine does run: the refusal was the Host alone.
    ok = await test_client.post("/api/v1/execute", json={"test_code": code, "execution_strategy": "tier1_only"},
                                headers={"Host": "localhost"})
    assert ok.status_code == 200 and ok.json()["status"] == "success", ok.text
    assert await pool.fetchval("SELECT count(*) FROM executions") == before + 1


async def test_big_body_is_413_at_once_and_health_answers_after(test_client: httpx.AsyncClient) -> None:
    big = b'{"test_code": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    response = await test_client.post("/api/v1/execute", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"

    async def chunks():
        for _ in range(12):
            yield b"x" * (1024 * 1024)

    chunked = await test_client.post("/api/v1/execute", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert (await test_client.get("/api/health")).status_code == 200
    assert (await test_client.get("/api/v1/settings")).status_code == 200


async def test_execute_refuses_hostile_text_and_paths(test_client: httpx.AsyncClient, sample_repo: Path) -> None:
    surrogate = json.dumps({"test_code": "def test_x():\n    assert '\ud800'\n"}).encode()
    response = await test_client.post("/api/v1/execute", content=surrogate, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "test_code", response.text
    answers = []
    for name in ("../../etc/passwd", "../../etc/no-such-file", "/etc/passwd", "sub/../../x.py"):
        response = await test_client.post("/api/v1/execute", json={
            "test_code": "def test_x():\n    pass\n", "repository_path": str(sample_repo), "target_files": [name]})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith("target_files")
        answers.append(response.json()["errors"][0]["reason"])
    # An existing and a missing file outside the repository get the same answer (but for the name sent).
    assert answers[0].replace("passwd", "NAME") == answers[1].replace("no-such-file", "NAME")
    (sample_repo / "escape.py").symlink_to("/etc/passwd")
    response = await test_client.post("/api/v1/execute", json={
        "test_code": "def test_x():\n    pass\n", "repository_path": str(sample_repo), "target_files": ["escape.py"]})
    assert response.status_code == 422, response.text
    huge_id = await test_client.get(f"/api/v1/execution/{10**30}/status")
    assert huge_id.status_code == 422 and huge_id.json()["errors"][0]["field"] == "execution_id"


@pytest.mark.slow
async def test_generation_refuses_hostile_input(v2_client: httpx.AsyncClient, sample_repo: Path) -> None:
    good = {"repository_url": str(sample_repo), "target_files": ["calc.py"], "coverage_target": 0.5}
    cases = [
        ({**good, "repository_url": str(sample_repo) + "\x00"}, "repository_url"),
        ({**good, "requirements": "edge cases\x00"}, "requirements"),
        ({**good, "requirements": "x" * 200_000}, "requirements"),
        ({**good, "conversation_id": "c" * 10_000}, "conversation_id"),
        ({**good, "target_files": ["../../etc/passwd"]}, "target_files"),
        ({**good, "requirements": "\ud800"}, "requirements"),
    ]
    for body, field in cases:
        raw = json.dumps(body).encode()
        response = await v2_client.post("/api/v2/tests/generate", content=raw,
                                        headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (field, response.status_code, response.text[:300])
        assert response.json()["errors"][0]["field"] == field, response.text[:300]
    nul_task = await v2_client.get("/api/v2/tests/generate/task%00x")
    assert nul_task.status_code == 422 and nul_task.json()["errors"][0]["field"] == "task_id"
    long_task = await v2_client.get("/api/v2/tests/generate/" + "t" * 5000)
    assert 400 <= long_task.status_code < 500
