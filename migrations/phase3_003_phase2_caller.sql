-- Model calls made outside an agent (Phase 2's tier 2 repair and tier 3, its single-shot path) go
-- through the same gateway and are counted in agent_metrics like the agents' calls, once each
-- (issue 16). The spec's foreign key on agent_metrics.agent_id needs a registry row to hang them
-- on: 'phase2', of status 'service', which the health figures and the Agents panel leave out.
INSERT INTO agent_registry (agent_id, agent_type, status, capabilities, priority, endpoints, health)
VALUES ('phase2', 'phase2', 'service', '[{"name": "execution", "version": "2.0.0"}]', 0, '{}', '{}')
ON CONFLICT (agent_id) DO NOTHING;
