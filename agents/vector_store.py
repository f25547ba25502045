"""Where working memory's vectors live: PostgreSQL (pgvector, the default) or Qdrant.

The spec's configuration names Qdrant (``VECTOR_DB_URL=http://localhost:6333``); teams that run
one can point us at it. Either way PostgreSQL keeps the rows (``working_memory``: content,
importance, metadata, and the embedding too), so the store holds only what it is good at: the
vectors, with the conversation, agent and task ids as payload to filter on.

With Qdrant, a note is written to PostgreSQL first and then upserted; a Qdrant that is down or
answers errors never fails the work: the note waits in PostgreSQL (``metadata.vector_pending``)
and is upserted by the next call that reaches Qdrant, and a recall that cannot reach it returns
nothing and says why (``Recall.problem``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

_IDS = uuid.UUID("6f1c3a52-93d4-4b7e-9a51-6c2f0e7d9b10")  # Qdrant point ids are UUIDs: ours, derived


@dataclass(frozen=True)
class Hit:
    memory_id: str
    similarity: float


def point_id(memory_id: str) -> str:
    return str(uuid.uuid5(_IDS, memory_id))


class QdrantStore:
    """Vectors in Qdrant: a collection per embedding dimension (``aiwebtest_memory_1536``), cosine distance.

    ``location``: an http(s) URL of a Qdrant server, ``:memory:``, or a folder path (the client's
    local mode, for machines where no server runs; the same calls either way).
    """

    kind = "qdrant"

    def __init__(self, location: str, *, api_key: str | None = None, dimensions: int = 1536,
                 timeout_s: int = 5) -> None:
        from qdrant_client import AsyncQdrantClient

        self.where = location
        self.collection = f"aiwebtest_memory_{dimensions}"
        self.dimensions = dimensions
        if location.startswith(("http://", "https://")):
            self.client = AsyncQdrantClient(url=location, api_key=api_key, timeout=timeout_s,
                                            check_compatibility=False)
        elif location == ":memory:":
            self.client = AsyncQdrantClient(location=":memory:")
        else:
            self.client = AsyncQdrantClient(path=location)
        self._ready = False

    async def _ensure_collection(self) -> None:
        if self._ready:
            return
        from qdrant_client import models

        if not await self.client.collection_exists(self.collection):
            await self.client.create_collection(
                self.collection, vectors_config=models.VectorParams(size=self.dimensions,
                                                                    distance=models.Distance.COSINE))
            if self.where.startswith(("http://", "https://")):  # the local mode has no payload indexes
                await self.client.create_payload_index(self.collection, "conversation_id",
                                                       field_schema=models.PayloadSchemaType.KEYWORD)
        self._ready = True

    async def add(self, memory_id: str, vector: np.ndarray, payload: dict[str, Any]) -> None:
        from qdrant_client import models

        await self._ensure_collection()
        await self.client.upsert(self.collection, points=[models.PointStruct(
            id=point_id(memory_id), vector=[float(x) for x in vector], payload={**payload, "memory_id": memory_id})])

    async def nearest(self, vector: np.ndarray, conversation_id: str | None, limit: int) -> list[Hit]:
        from qdrant_client import models

        await self._ensure_collection()
        where = (models.Filter(must=[models.FieldCondition(key="conversation_id",
                                                           match=models.MatchValue(value=conversation_id))])
                 if conversation_id else None)
        found = await self.client.query_points(self.collection, query=[float(x) for x in vector],
                                               query_filter=where, limit=limit, with_payload=["memory_id"])
        return [Hit(p.payload["memory_id"], float(p.score)) for p in found.points if p.payload]

    async def ping(self) -> None:
        await self.client.get_collections()

    async def close(self) -> None:
        await self.client.close()


def qdrant_problem(exc: BaseException, where: str) -> str:
    """One sentence for a person: what failed, where, and that the work goes on."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return f"Qdrant at {where} did not answer ({type(exc).__name__}: {detail}); going on without recall"
