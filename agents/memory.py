"""Working memory: notes agents keep and recall by meaning, per conversation.

Embeddings are 1536-d (the spec's column). With an embeddings endpoint
configured, ``RemoteEmbedder`` asks it (OpenAI-compatible,
``dimensions=1536``). Otherwise ``LocalEmbedder`` is used, and it is worth
being clear about what that is:

* it IS a deterministic feature-hashing embedder: words and character
  trigrams are hashed into 1536 signed buckets and the vector is
  L2-normalised. Similar wording gives similar vectors, the same text the
  same vector, on any machine, with no model download;
* it is NOT semantic: "car" and "automobile" share nothing. Recall works
  on shared words (function names, file names, error text), which is most
  of what a follow-up request about the same code repeats.

pgvector's ivfflat gotcha, as measured in ``tests/agents/test_memory.py``
(2,000 clustered 1536-d notes, recall@10 against an exact scan): the
spec's index, built by the migration on an empty table, puts every row in
one list, so it recalls 1.00 but scans everything (correct, slow).
``maintain_index()`` rebuilds it once there is data; the rebuilt index is
fast, and with the default ``ivfflat.probes = 1`` recalls only 0.69. So
each recall sets ``probes = 10`` (1.00 there) and iterative scans
(pgvector 0.8, so a conversation filter still fills the limit) within its
transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import asyncpg
import numpy as np

from agents.vector_store import QdrantStore, qdrant_problem

log = logging.getLogger(__name__)

DIMENSIONS = 1536
_WORD = re.compile(r"[a-z0-9_]+")
_IVF_LISTS = 100  # pgvector's default for the spec's index


class Embedder(Protocol):
    async def embed(self, texts: list[str], *, agent_id: str = "phase2") -> list[np.ndarray]: ...


class LocalEmbedder:
    def __init__(self, dimensions: int = DIMENSIONS) -> None:
        self.dimensions = dimensions

    def embed_one(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimensions, dtype=np.float32)
        lowered = text.lower()
        features = _WORD.findall(lowered)
        compact = " ".join(features)
        features += [compact[i:i + 3] for i in range(max(len(compact) - 2, 0))]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimensions
            sign = 1.0 if digest[4] & 1 else -1.0
            vec[bucket] += sign
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    async def embed(self, texts: list[str], *, agent_id: str = "phase2") -> list[np.ndarray]:
        # Hashing every trigram is CPU work that grows with the text: off the loop (issue 12).
        return await asyncio.to_thread(lambda: [self.embed_one(t) for t in texts])


class RemoteEmbedder:
    """An OpenAI-compatible ``/embeddings`` endpoint, through the gateway: its tokens are reserved,
    counted and priced like every other model call's (issue 16)."""

    def __init__(self, gateway: Any, model: str = "text-embedding-3-small") -> None:
        self.gateway = gateway
        self.model = model

    async def embed(self, texts: list[str], *, agent_id: str = "phase2") -> list[np.ndarray]:
        """``agent_id``: whose call it is, for the usage row (the agent remembering or recalling)."""
        vectors = await self.gateway.embed(texts, model=self.model, dimensions=DIMENSIONS, agent_id=agent_id)
        return [np.asarray(v, dtype=np.float32) for v in vectors]


@dataclass(frozen=True)
class Recall:
    """Notes by meaning, or none and why (a vector store that did not answer never fails the work)."""

    notes: list["Note"]
    problem: str | None = None


@dataclass(frozen=True)
class Note:
    memory_id: str
    content: str
    similarity: float
    importance: float
    metadata: dict[str, Any]


class WorkingMemory:
    """``store``: a Qdrant store (``agents/vector_store.py``) when VECTOR_DB_URL is set; None: pgvector.

    PostgreSQL keeps every note (and its embedding) either way; Qdrant, when used, holds the vectors
    it searches. A note Qdrant could not take is marked ``vector_pending`` and upserted by the next
    call that reaches it.
    """

    def __init__(self, pool: asyncpg.Pool, embedder: Embedder | None = None, probes: int = 10,
                 store: QdrantStore | None = None) -> None:
        self.pool = pool
        self.embedder = embedder or LocalEmbedder()
        self.probes = probes
        self.store = store
        self._rows_at_last_build: int | None = None
        self._pending_checked = False

    @property
    def kind(self) -> str:
        return self.store.kind if self.store is not None else "pgvector"

    async def remember(
        self, agent_id: str, content: str, *, conversation_id: str | None, importance: float = 0.5,
        metadata: dict[str, Any] | None = None, effect_key: str | None = None,
    ) -> str:
        """Store a note; with ``effect_key`` (task:attempt:kind) a second write of the same note is a no-op."""
        [vector] = await self.embedder.embed([content], agent_id=agent_id)
        memory_id = f"mem-{uuid.uuid4().hex[:16]}"
        meta = {**(metadata or {}), **({"conversation_id": conversation_id} if conversation_id else {})}
        if self.store is not None:
            meta["vector_pending"] = True  # until Qdrant has it
        inserted = await self.pool.fetchval(
            "INSERT INTO working_memory (memory_id, agent_id, content, embedding, timestamp, importance, metadata, "
            "effect_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (effect_key) DO NOTHING "
            "RETURNING memory_id",
            memory_id, agent_id, content, vector, datetime.now(timezone.utc).replace(tzinfo=None),
            importance, meta, effect_key,
        )
        if self.store is not None and inserted is not None:
            try:
                await self._to_store(memory_id, vector, agent_id, meta)
                await self._backfill()
            except Exception as exc:  # noqa: BLE001 - a vector store outage must not fail the work
                log.warning("%s; note %s kept in PostgreSQL for later", qdrant_problem(exc, self.store.where),
                            memory_id)
                self._pending_checked = False
        return memory_id

    async def recall(self, query: str, *, conversation_id: str | None, limit: int = 5,
                     agent_id: str = "phase2") -> list[Note]:
        return (await self.recall_notes(query, conversation_id=conversation_id, limit=limit, agent_id=agent_id)).notes

    async def recall_notes(self, query: str, *, conversation_id: str | None, limit: int = 5,
                           agent_id: str = "phase2") -> Recall:
        [vector] = await self.embedder.embed([query], agent_id=agent_id)
        if self.store is not None:
            return await self._recall_from_store(vector, conversation_id, limit)
        scope = {"conversation_id": conversation_id} if conversation_id else {}

        async def nearest(conn: asyncpg.Connection) -> list[asyncpg.Record]:
            await conn.execute(f"SET LOCAL ivfflat.probes = {int(self.probes)}")
            await conn.execute("SET LOCAL ivfflat.iterative_scan = relaxed_order")
            return await conn.fetch(
                "SELECT memory_id, content, importance, metadata, 1 - (embedding <=> $1) AS similarity "
                "FROM working_memory WHERE metadata @> $2::jsonb ORDER BY embedding <=> $1 LIMIT $3",
                vector, scope, limit,
            )

        rows = await self.pool.run(nearest)
        return Recall([Note(r["memory_id"], r["content"], float(r["similarity"]), r["importance"], r["metadata"])
                       for r in rows])

    async def _recall_from_store(self, vector: np.ndarray, conversation_id: str | None, limit: int) -> Recall:
        assert self.store is not None
        try:
            await self._backfill()
            hits = await self.store.nearest(vector, conversation_id, limit)
        except Exception as exc:  # noqa: BLE001 - no recall, said; the work goes on
            problem = qdrant_problem(exc, self.store.where)
            log.warning("%s", problem)
            self._pending_checked = False
            return Recall([], problem)
        rows = await self.pool.fetch(
            "SELECT memory_id, content, importance, metadata FROM working_memory WHERE memory_id = ANY($1::text[])",
            [h.memory_id for h in hits])
        by_id = {r["memory_id"]: r for r in rows}
        return Recall([Note(h.memory_id, by_id[h.memory_id]["content"], h.similarity,
                            by_id[h.memory_id]["importance"], by_id[h.memory_id]["metadata"])
                       for h in hits if h.memory_id in by_id])

    async def _to_store(self, memory_id: str, vector: np.ndarray, agent_id: str, meta: dict[str, Any]) -> None:
        assert self.store is not None
        await self.store.add(memory_id, vector, {"conversation_id": meta.get("conversation_id"),
                                                 "agent_id": agent_id, "task_id": meta.get("task_id")})
        await self.pool.execute("UPDATE working_memory SET metadata = metadata - 'vector_pending' "
                                "WHERE memory_id = $1", memory_id)

    async def _backfill(self, batch: int = 200) -> None:
        """Notes written while Qdrant was away: upserted now that it answers (once after each outage)."""
        if self._pending_checked:
            return
        rows = await self.pool.fetch(
            "SELECT memory_id, agent_id, embedding, metadata FROM working_memory "
            "WHERE metadata ? 'vector_pending' ORDER BY timestamp LIMIT $1", batch)
        for row in rows:
            vector = row["embedding"]  # pgvector's Vector, not an array
            await self._to_store(row["memory_id"], np.asarray(vector.to_list() if hasattr(vector, "to_list") else vector,
                                                              dtype=np.float32), row["agent_id"], row["metadata"])
        if rows:
            log.info("upserted %d note(s) kept in PostgreSQL while Qdrant was away", len(rows))
        self._pending_checked = len(rows) < batch

    async def maintain_index(self) -> bool:
        """Rebuild the ivfflat index when the table has grown past what it was built on.

        Rebuilds once there are enough rows for the lists to mean something
        (10 per list) and again each time the table doubles. Returns True
        if it rebuilt.
        """
        rows = await self.pool.fetchval("SELECT count(*) FROM working_memory")
        built_on = self._rows_at_last_build or 0
        if rows < _IVF_LISTS * 10 or rows < 2 * max(built_on, 1):
            return False
        await self.pool.execute("REINDEX INDEX idx_working_memory_embedding")
        self._rows_at_last_build = rows
        return True


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b)) / denominator if denominator else 0.0


