"""The v1 API over real HTTP (uvicorn on 127.0.0.1) against the real engine."""

from pathlib import Path

import httpx
import pytest


async def test_execute_passing_test(test_client: httpx.AsyncClient) -> None:
    response = await test_client.post(
        "/api/v1/execute", json={"test_code": "def test_example(): assert True", "execution_strategy": "tier1_only"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success" and body["tier_reached"] == 1
    status = await test_client.get(f"/api/v1/execution/{body['execution_id']}/status")
    assert status.status_code == 200
    assert status.json()["status"] == "success"
    assert status.json()["execution_strategy"] == "tier1_only"
    assert status.json()["completed_at"] is not None


async def test_execute_with_repository_reports_coverage(test_client: httpx.AsyncClient, sample_repo: Path) -> None:
    response = await test_client.post(
        "/api/v1/execute",
        json={
            "test_code": "from calc import clamp\n\ndef test_clamp():\n    assert clamp(5, 0, 3) == 3\n",
            "repository_path": str(sample_repo),
            "target_files": ["calc.py"],
        },
    )
    assert response.status_code == 200, response.text
    coverage = response.json()["coverage"]
    assert coverage["files"][0]["path"] == "calc.py"
    assert 0 < coverage["line_rate"] < 1


async def test_each_test_alone_runs_every_test_without_the_ones_before_it(test_client: httpx.AsyncClient) -> None:
    """The keep step's "alone" check (agents/test_order.py) over the API: the second test passes only after the
    first in one process, and fails alone."""
    code = ("STATE = []\n\n\ndef test_adds():\n    STATE.append(1)\n\n\n"
            "def test_needs_the_first():\n    assert STATE == [1]\n")
    together = (await test_client.post("/api/v1/execute", json={"test_code": code})).json()
    alone = (await test_client.post("/api/v1/execute", json={"test_code": code, "each_test_alone": True})).json()
    assert together["status"] == "success"
    assert alone["status"] == "failed"
    assert [(t["name"], t["outcome"]) for t in alone["tests"]] == [("test_adds", "passed"),
                                                                   ("test_needs_the_first", "failed")]


async def test_code_that_does_not_parse_is_an_execution_that_fails_at_tier_1(test_client: httpx.AsyncClient) -> None:
    """Not a 422: a request the schema describes is accepted, and the run says why it failed, at once."""
    response = await test_client.post("/api/v1/execute", json={"test_code": "def test_x(:\n  pass",
                                                               "execution_strategy": "tier1_to_tier2"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["tier_reached"]) == ("error", 1)
    assert body["error"] == "test_code is not valid Python: line 1, column 12: invalid syntax"
    stored = (await test_client.get(f"/api/v1/execution/{body['execution_id']}/status")).json()
    assert stored["status"] == "error" and stored["attempts"][0]["reason"] == body["error"]


@pytest.mark.parametrize(
    ("payload", "status", "field", "reason"),
    [
        ({"test_code": "   "}, 422, "test_code", "is empty"),
        ({"test_code": "x = 1"}, 422, "test_code", "has no test function"),
        ({"test_code": "def test_a(): pass", "execution_strategy": "tier9"}, 422, "execution_strategy",
         "tier1_only"),
        ({}, 422, "test_code", "is required"),
        ({"test_code": "def test_a(): pass", "repository_path": "/no/such/folder"}, 422, "repository_path",
         "is not a folder"),
        ({"test_code": "def test_a(): pass", "target_files": ["a.py"]}, 422, "target_files", "repository_path"),
        ({"test_code": "def test_a(): pass", "each_test_alone": "sometimes"}, 422, "each_test_alone", "bool"),
        # A name longer than the file system allows was a 503 ("the database is not answering (OSError)"),
        # found by schemathesis over the served schema.
        ({"test_code": "def test_a(): pass", "repository_path": "0" * 4096}, 422, "repository_path",
         "is not a folder on this machine: File name too long"),
    ],
)
async def test_bad_input_names_field_and_reason(
    test_client: httpx.AsyncClient, payload: dict, status: int, field: str, reason: str
) -> None:
    response = await test_client.post("/api/v1/execute", json=payload)
    assert response.status_code == status
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    assert reason in errors[0]["reason"]


async def test_invalid_json_is_400(test_client: httpx.AsyncClient) -> None:
    response = await test_client.post(
        "/api/v1/execute", content=b'{"test_code": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "invalid JSON" in response.json()["detail"]


async def test_unknown_execution_is_404(test_client: httpx.AsyncClient) -> None:
    response = await test_client.get("/api/v1/execution/999999/status")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "execution_id"
    assert (await test_client.get("/api/v1/execution/abc/status")).status_code == 422


async def test_settings_get_and_put(test_client: httpx.AsyncClient) -> None:
    current = (await test_client.get("/api/v1/settings")).json()
    assert current["fallback_strategy"] == "tier1_to_tier2_to_tier3"
    changed = await test_client.put("/api/v1/settings", json={"fallback_strategy": "tier1_only", "timeout_seconds": 30})
    assert changed.status_code == 200
    assert changed.json()["fallback_strategy"] == "tier1_only" and changed.json()["timeout_seconds"] == 30
    assert (await test_client.get("/api/v1/settings")).json()["memory_limit_mb"] == current["memory_limit_mb"]
    for bad, field in [
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"fallback_strategy": "yolo"}, "fallback_strategy"),
        ({"heal_match_threshold": 2}, "heal_match_threshold"),
        ({"browser_backend": "selenium"}, "browser_backend"),
        ({"colour": "blue"}, "colour"),
    ]:
        response = await test_client.put("/api/v1/settings", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == field
    assert (await test_client.get("/api/v1/settings")).json()["timeout_seconds"] == 30


async def test_openapi_document(test_client: httpx.AsyncClient) -> None:
    paths = (await test_client.get("/openapi.json")).json()["paths"]
    assert {"/api/v1/execute", "/api/v1/execution/{execution_id}/status", "/api/v1/settings"} <= set(paths)
