"""Working memory: recall by meaning within a conversation, and the ivfflat gotcha measured."""

import numpy as np
import pytest

from agents.memory import DIMENSIONS, LocalEmbedder, WorkingMemory, cosine


async def _agent(pool) -> str:
    await pool.execute(
        "INSERT INTO agent_registry (agent_id, agent_type, status, capabilities, priority, endpoints, health) "
        "VALUES ('agent_reporting_m', 'reporting', 'healthy', '[]', 5, '{}', '{}') ON CONFLICT DO NOTHING")
    return "agent_reporting_m"


def test_local_embedder_is_deterministic_and_lexical() -> None:
    e = LocalEmbedder()
    a = e.embed_one("clamp raises ValueError when low > high")
    assert a.shape == (DIMENSIONS,) and abs(np.linalg.norm(a) - 1) < 1e-5
    assert np.array_equal(a, LocalEmbedder().embed_one("clamp raises ValueError when low > high"))
    near = e.embed_one("ValueError from clamp if low is above high")
    far = e.embed_one("tabulate renders a grid of rows")
    assert cosine(a, near) > cosine(a, far) + 0.2


async def test_recall_is_scoped_by_conversation(pool) -> None:
    agent = await _agent(pool)
    memory = WorkingMemory(pool)
    await memory.remember(agent, "calc.clamp lines 24-26 still uncovered", conversation_id="c1")
    await memory.remember(agent, "text_utils.initials handles empty names", conversation_id="c1")
    await memory.remember(agent, "calc.clamp was fully covered", conversation_id="c2")
    notes = await memory.recall("what about clamp in calc", conversation_id="c1", limit=5)
    assert [n.content for n in notes][0] == "calc.clamp lines 24-26 still uncovered"
    assert all(n.metadata["conversation_id"] == "c1" for n in notes) and len(notes) == 2


@pytest.mark.slow
async def test_ivfflat_recall_against_an_exact_scan(pool) -> None:
    """The index was built on an empty table (the migration). Measure recall, then fix it.

    Measured here: the empty-built index puts every row in one list, so it
    recalls perfectly while scanning everything (slow, not wrong). Rebuilt on
    data it becomes fast, and then the default ``probes = 1`` is what loses
    neighbours; recall raises probes.
    """
    agent = await _agent(pool)
    rng = np.random.default_rng(7)
    # Clustered data, as real notes are: 40 topics with variation.
    centers = rng.normal(size=(40, DIMENSIONS))
    data = centers[rng.integers(0, 40, 2000)] + 0.3 * rng.normal(size=(2000, DIMENSIONS))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    await pool.executemany(
        "INSERT INTO working_memory (memory_id, agent_id, content, embedding, timestamp, importance, metadata) "
        "VALUES ($1, $2, $3, $4, now(), 0.5, '{\"conversation_id\": \"big\"}')",
        [(f"m{i}", agent, f"note {i}", v) for i, v in enumerate(data)])
    queries = data[rng.integers(0, 2000, 20)] + 0.05 * rng.normal(size=(20, DIMENSIONS)).astype(np.float32)

    async def recall_at_10(probes: int) -> float:
        hits = 0
        for q in queries:
            exact = set(np.argsort(-(data @ q))[:10].tolist())
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(f"SET LOCAL ivfflat.probes = {probes}")
                rows = await conn.fetch(
                    "SELECT memory_id FROM working_memory ORDER BY embedding <=> $1 LIMIT 10", q)
            hits += len(exact & {int(r["memory_id"][1:]) for r in rows})
        return hits / (10 * len(queries))

    stale_default = await recall_at_10(probes=1)
    memory = WorkingMemory(pool)
    assert await memory.maintain_index()  # rebuilt on real data
    rebuilt_default = await recall_at_10(probes=1)
    rebuilt = await recall_at_10(probes=memory.probes)
    print(f"ivfflat recall@10: empty-built index, probes=1: {stale_default:.2f}; "
          f"rebuilt, probes=1: {rebuilt_default:.2f}; rebuilt, probes={memory.probes}: {rebuilt:.2f}")
    assert rebuilt >= 0.9
    assert rebuilt >= rebuilt_default
    assert not await memory.maintain_index()  # no rebuild until the table doubles
