"""What the health view says of the vector store: Qdrant when one is used, up or down, never fatal."""

from agents.vector_store import QdrantStore
from app import health


async def test_qdrant_is_reported_up_or_down_and_never_fails_the_report(pool, redis_client) -> None:
    where = (("embedded", "here"), ("embedded", "here"))
    local = QdrantStore(":memory:")
    up = await health.check(pool, redis_client, postgres_where=where[0], redis_where=where[1],
                            vectors=(local.where, local.ping()))
    await local.close()
    assert up.vectors is not None and up.vectors.up and up.vectors.mode == "qdrant"
    dead = QdrantStore("http://127.0.0.1:9", timeout_s=1)
    down = await health.check(pool, redis_client, postgres_where=where[0], redis_where=where[1],
                              vectors=(dead.where, dead.ping()))
    await dead.close()
    assert not down.vectors.up and down.vectors.where == "http://127.0.0.1:9" and down.vectors.error
    assert down.all_up  # recall is lost, the work is not
    plain = await health.check(pool, redis_client, postgres_where=where[0], redis_where=where[1])
    assert plain.vectors is None  # pgvector: PostgreSQL's own indicator says it all
