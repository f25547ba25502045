import shutil
from pathlib import Path

import asyncpg
import pytest

from app.embedded_postgres import bin_dir
from engine.errors import MigrationError
from app.migrations import applied_migrations, discover, migrate
from app.paths import migrations_dir

# The spec's Phase 3 schema, column by column: (name, data_type, nullable, default contains).
SPEC_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "agent_registry": [
        ("agent_id", "character varying", False),
        ("agent_type", "character varying", False),
        ("status", "character varying", False),
        ("capabilities", "jsonb", False),
        ("priority", "integer", False),
        ("endpoints", "jsonb", False),
        ("health", "jsonb", False),
        ("constraints", "jsonb", True),
        ("created_at", "timestamp without time zone", True),
        ("updated_at", "timestamp without time zone", True),
    ],
    "working_memory": [
        ("memory_id", "character varying", False),
        ("agent_id", "character varying", False),
        ("content", "text", False),
        ("embedding", "USER-DEFINED", True),
        ("timestamp", "timestamp without time zone", False),
        ("importance", "double precision", False),
        ("metadata", "jsonb", True),
        ("created_at", "timestamp without time zone", True),
    ],
    "agent_tasks": [
        ("task_id", "character varying", False),
        ("task_type", "character varying", False),
        ("payload", "jsonb", False),
        ("assigned_agent_id", "character varying", True),
        ("status", "character varying", False),
        ("priority", "integer", False),
        ("conversation_id", "character varying", True),
        ("result", "jsonb", True),
        ("error", "text", True),
        ("execution_time_seconds", "double precision", True),
        ("token_usage", "integer", True),
        ("created_at", "timestamp without time zone", True),
        ("started_at", "timestamp without time zone", True),
        ("completed_at", "timestamp without time zone", True),
    ],
    "agent_metrics": [
        ("metric_id", "integer", False),
        ("agent_id", "character varying", False),
        ("metric_type", "character varying", False),
        ("metric_value", "double precision", False),
        ("metadata", "jsonb", True),
        ("timestamp", "timestamp without time zone", False),
    ],
}

# Columns we add after the spec's (migrations/phase3_002_task_leases.sql: leases, fencing, effects once).
OUR_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "agent_tasks": [("attempts", "integer", False), ("lease_token", "character varying", True),
                    ("lease_expires_at", "timestamp with time zone", True)],
    "agent_metrics": [("effect_key", "character varying", True)],
    "working_memory": [("effect_key", "character varying", True)],
}

SPEC_INDEXES: dict[str, tuple[str, str, str]] = {
    # index name: (table, access method, key columns as pg_get_indexdef shows them)
    "idx_agent_type": ("agent_registry", "btree", "(agent_type)"),
    "idx_agent_status": ("agent_registry", "btree", "(status)"),
    "idx_agent_capabilities": ("agent_registry", "gin", "(capabilities)"),
    "idx_working_memory_agent": ("working_memory", "btree", "(agent_id)"),
    "idx_working_memory_timestamp": ("working_memory", "btree", '("timestamp" DESC)'),
    "idx_working_memory_conversation": ("working_memory", "gin", "(metadata)"),
    "idx_working_memory_embedding": ("working_memory", "ivfflat", "(embedding vector_cosine_ops)"),
    "idx_agent_tasks_status": ("agent_tasks", "btree", "(status)"),
    "idx_agent_tasks_assigned": ("agent_tasks", "btree", "(assigned_agent_id)"),
    "idx_agent_tasks_conversation": ("agent_tasks", "btree", "(conversation_id)"),
    "idx_agent_tasks_type": ("agent_tasks", "btree", "(task_type)"),
    "idx_agent_metrics_agent": ("agent_metrics", "btree", '(agent_id, "timestamp" DESC)'),
    "idx_agent_metrics_type": ("agent_metrics", "btree", "(metric_type)"),
}


async def test_fresh_database_gets_every_spec_column(conn: asyncpg.Connection) -> None:
    for table, expected in SPEC_COLUMNS.items():
        rows = await conn.fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = $1 ORDER BY ordinal_position",
            table,
        )
        actual = [(r["column_name"], r["data_type"], r["is_nullable"] == "YES") for r in rows]
        assert actual[:len(expected)] == expected, table  # the spec's columns, in its order
        assert actual[len(expected):] == OUR_COLUMNS.get(table, []), table  # then ours, named here
    dims = await conn.fetchval(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'working_memory'::regclass AND attname = 'embedding'"
    )
    assert dims == "vector(1536)"


async def test_fresh_database_gets_every_spec_index(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "SELECT i.relname AS name, t.relname AS tbl, am.amname AS method, pg_get_indexdef(i.oid) AS def "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_am am ON am.oid = i.relam WHERE i.relname LIKE 'idx_%'"
    )
    found = {r["name"]: r for r in rows}
    for name, (table, method, columns) in SPEC_INDEXES.items():
        assert name in found, name
        assert found[name]["tbl"] == table
        assert found[name]["method"] == method
        assert found[name]["def"].endswith(f"USING {method} {columns}"), found[name]["def"]


async def test_constraints_and_foreign_keys(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "INSERT INTO agent_registry (agent_id, agent_type, status, capabilities, priority, endpoints, health) "
        "VALUES ('a1', 'evolution', 'healthy', '[]', 1, '{}', '{}')"
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "INSERT INTO working_memory (memory_id, agent_id, content, timestamp, importance) "
            "VALUES ('m1', 'a1', 'x', now(), 1.5)"
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute(
            "INSERT INTO agent_metrics (agent_id, metric_type, metric_value) VALUES ('ghost', 'latency_ms', 1)"
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute(
            "INSERT INTO agent_tasks (task_id, task_type, payload, assigned_agent_id, status) "
            "VALUES ('t1', 'generate', '{}', 'ghost', 'pending')"
        )
    await conn.execute(
        "INSERT INTO working_memory (memory_id, agent_id, content, timestamp, importance) "
        "VALUES ('m1', 'a1', 'x', now(), 0.5)"
    )
    await conn.execute(
        "INSERT INTO agent_metrics (agent_id, metric_type, metric_value) VALUES ('a1', 'latency_ms', 12)"
    )
    await conn.execute("DELETE FROM agent_registry WHERE agent_id = 'a1'")  # cascades
    assert await conn.fetchval("SELECT count(*) FROM working_memory") == 0
    assert await conn.fetchval("SELECT count(*) FROM agent_metrics") == 0


async def test_grants_to_app_user_match_the_spec(conn: asyncpg.Connection) -> None:
    def priv(table: str, what: str) -> str:
        return f"SELECT has_table_privilege('app_user', '{table}', '{what}')"

    for table in ("agent_registry", "working_memory", "agent_tasks"):
        for what in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert await conn.fetchval(priv(table, what)), (table, what)
    assert await conn.fetchval(priv("agent_metrics", "UPDATE"))
    assert not await conn.fetchval(priv("agent_metrics", "DELETE"))
    assert await conn.fetchval(
        "SELECT has_sequence_privilege('app_user', 'agent_metrics_metric_id_seq', 'USAGE')"
    )


async def test_phase2_tables_and_seed_rows(conn: asyncpg.Connection) -> None:
    settings = await conn.fetchrow("SELECT * FROM execution_settings WHERE id = 1")
    assert settings["fallback_strategy"] == "tier1_to_tier2_to_tier3"
    assert settings["timeout_seconds"] > 0 and settings["memory_limit_mb"] > 0
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("INSERT INTO execution_settings (id) VALUES (2)")
    config = dict(await conn.fetch("SELECT key, value FROM system_config"))
    assert config["agents_enabled"] == "false"
    assert config["rollout_mode"] == "off"
    assert config["rollout_percentage"] == "0"
    assert len(config["rollout_salt"]) == 32
    for table in ("tests", "executions"):
        assert await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)


async def test_second_run_is_a_no_op(conn: asyncpg.Connection) -> None:
    before = await conn.fetch("SELECT filename, checksum, applied_at FROM schema_migrations ORDER BY 1")
    assert [r["filename"] for r in before] == [m.name for m in discover()]
    assert await migrate(conn) == []
    after = await conn.fetch("SELECT filename, checksum, applied_at FROM schema_migrations ORDER BY 1")
    assert before == after


async def test_edited_migration_is_refused(fresh_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    conn = await asyncpg.connect(fresh_db)
    try:
        assert len(await migrate(conn, folder)) == len(discover())
        target = folder / "000_phase2_base.sql"
        target.write_text(target.read_text() + "\n-- an innocent-looking edit\n")
        with pytest.raises(MigrationError) as err:
            await migrate(conn, folder)
        assert "migrations/000_phase2_base.sql was changed after it was applied" in str(err.value)
        assert "new migration file" in str(err.value)
    finally:
        await conn.close()


async def test_failing_migration_applies_nothing(fresh_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
    (folder / "002_broken.sql").write_text("CREATE TABLE half_done (id int);\nSELECT no_such_column FROM ok_table;")
    conn = await asyncpg.connect(fresh_db)
    try:
        with pytest.raises(MigrationError) as err:
            await migrate(conn, folder)
        assert "migrations/002_broken.sql failed" in str(err.value)
        assert "no_such_column" in str(err.value)
        assert await applied_migrations(conn) == ["001_ok.sql"]
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        # Fixing the file lets the next run finish the job.
        (folder / "002_broken.sql").write_text("CREATE TABLE half_done (id int);")
        assert await migrate(conn, folder) == ["002_broken.sql"]
    finally:
        await conn.close()


async def test_existing_phase2_database_keeps_its_data(fresh_db: str) -> None:
    """A Phase 2 database made before this app (no ledger) gains Phase 3, loses nothing."""
    conn = await asyncpg.connect(fresh_db)
    try:
        await conn.execute(
            """
            CREATE TABLE tests (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL);
            CREATE TABLE executions (id BIGSERIAL PRIMARY KEY, test_id BIGINT REFERENCES tests(id),
                                     status VARCHAR(20) NOT NULL);
            CREATE TABLE execution_settings (id INTEGER PRIMARY KEY, fallback_strategy VARCHAR(40) NOT NULL);
            CREATE TABLE system_config (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO tests (name, code) VALUES ('test_login', 'def test_login(): pass'),
                                                  ('test_logout', 'def test_logout(): pass');
            INSERT INTO executions (test_id, status) VALUES (1, 'success'), (2, 'failed');
            INSERT INTO execution_settings VALUES (1, 'tier1_only');
            INSERT INTO system_config VALUES ('agents_enabled', 'true'), ('theme', 'dark');
            """
        )
        original_columns = {"tests": "id, name, code", "executions": "id, test_id, status"}

        async def original_rows(table: str) -> list[asyncpg.Record]:
            return await conn.fetch(f"SELECT {original_columns[table]} FROM {table} ORDER BY 1")

        snapshot = {t: await original_rows(t) for t in original_columns}
        applied = await migrate(conn)
        assert applied == [m.name for m in discover()]
        assert await original_rows("tests") == snapshot["tests"]
        assert await original_rows("executions") == snapshot["executions"]
        assert len(snapshot["tests"]) == 2 and len(snapshot["executions"]) == 2
        config = dict(await conn.fetch("SELECT key, value FROM system_config"))
        assert config["agents_enabled"] == "true"  # the operator's choice survives
        assert config["theme"] == "dark"
        assert config["rollout_mode"] == "off"  # new keys are added
        settings = await conn.fetchrow("SELECT * FROM execution_settings WHERE id = 1")
        assert settings["fallback_strategy"] == "tier1_only"
        assert settings["timeout_seconds"] == 60  # engine columns added with defaults
        for table in SPEC_COLUMNS:
            assert await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_phase3_file_also_runs_by_hand_with_psql_twice(fresh_db: str) -> None:
    """The spec runs it with ``psql < file``; its own BEGIN/COMMIT must work there too."""
    import asyncio

    script = migrations_dir() / "phase3_001_initial_schema.sql"
    for _ in range(2):
        proc = await asyncio.create_subprocess_exec(
            str(bin_dir() / "psql"), "-v", "ON_ERROR_STOP=1", "-X", "-q", fresh_db, "-f", str(script),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "10"},
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert b"Phase 3 schema migration completed successfully" in err
    conn = await asyncpg.connect(fresh_db)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'idx_agent%'") == 9
    finally:
        await conn.close()
