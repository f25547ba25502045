"""``run_log``: every progress line of a request, kept with it. Owns that table's SQL.

Progress went only to Redis pub/sub, so a run's log lived in the GUI's log
pane and was gone after a restart (issue 14). Each line is now also a row,
written best effort with a short retry budget: a store outage must not hold
up the work the line describes.
"""

from __future__ import annotations

from typing import Any

from agents.constants import agent_type_of
from agents.store_retry import retry_budget

WRITE_BUDGET_S = 2.0


async def append(db: Any, request_id: str, source: str, message: str, *, attempt: int = 1,
                 data: dict[str, Any] | None = None) -> None:
    try:
        with retry_budget(WRITE_BUDGET_S):
            await db.execute(
                "INSERT INTO run_log (request_id, source, attempt, message, data) VALUES ($1, $2, $3, $4, $5)",
                request_id, source, attempt, message, data or None)
    except Exception:  # noqa: BLE001 - the log is best effort; the request is not
        pass


async def read(db: Any, request_id: str, limit: int = 5000) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT at, source, attempt, message, data FROM run_log WHERE request_id = $1 ORDER BY id LIMIT $2",
        request_id, limit)
    return [dict(r) for r in rows]


async def kept_so_far(db: Any, request_id: str) -> tuple[list[dict[str, Any]], float | None]:
    """The test files a request had kept (the latest of each path) and its last coverage figure: what a
    cancelled request still has to give."""
    rows = await db.fetch(
        "SELECT data FROM run_log WHERE request_id = $1 AND data IS NOT NULL AND "
        "(data ? 'kept_file' OR data ? 'coverage') ORDER BY id", request_id)
    files: dict[str, dict[str, Any]] = {}
    coverage = None
    for row in rows:
        data = row["data"]
        if "kept_file" in data:
            files[data["kept_file"]["path"]] = data["kept_file"]
        if data.get("coverage") is not None:
            coverage = float(data["coverage"])
    return list(files.values()), coverage


def as_text(lines: list[dict[str, Any]]) -> str:
    """The log as the GUI's log pane shows it: time, who, what."""
    out = []
    for line in lines:
        source = line["source"]
        who = agent_type_of(source)
        retry = f" (attempt {line['attempt']})" if line["attempt"] > 1 else ""
        out.append(f"{line['at'].astimezone().strftime('%H:%M:%S')} [{who}]{retry} {line['message']}")
    return "\n".join(out)
