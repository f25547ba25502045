"""Task leases in PostgreSQL: a stopping worker hands its lease back at once (deploy/k8s/: SIGTERM in a pod)."""

from agents import registry, tasks


async def test_a_lease_handed_back_is_claimable_at_once_and_only_by_its_holders_token(pool) -> None:
    for agent_id in ("agent_evolution_a", "agent_evolution_b"):
        await registry.register(pool, agent_id=agent_id, agent_type="evolution", capabilities=[], priority=5,
                                inbox=f"agents:inbox:{agent_id}", max_concurrent_tasks=1, host="h", pid=1)
    await pool.execute("INSERT INTO agent_tasks (task_id, task_type, payload, status) "
                       "VALUES ('t-1', 'evolve', '{}', 'pending')")
    token = tasks.new_lease_token()
    assert await tasks.claim(pool, "t-1", "agent_evolution_a", token, lease_s=600, max_attempts=5) is not None
    # Another worker cannot take it while the 10-minute lease lives.
    assert await tasks.claim(pool, "t-1", "agent_evolution_b", tasks.new_lease_token(), lease_s=600,
                             max_attempts=5) is None
    assert not await tasks.hand_back(pool, "t-1", "not-the-token")  # a lease is given up only by its holder
    assert await tasks.hand_back(pool, "t-1", token)
    taken = await tasks.claim(pool, "t-1", "agent_evolution_b", tasks.new_lease_token(), lease_s=600, max_attempts=5)
    assert taken is not None and taken["assigned_agent_id"] == "agent_evolution_b" and taken["attempts"] == 2
    assert not await tasks.hand_back(pool, "t-1", token)  # taken over: the old holder's token does nothing
