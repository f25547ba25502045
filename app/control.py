"""The window's services, one per feature, composed over the running ``AppCore``. No Qt here.

The UI is handed this object (house style: views get services, not
clients) and asks it for the feature it draws: ``generation`` (submit,
progress, cancel, history, estimate), ``results`` (outline, run, save),
``fleet`` (the Agents view), ``costs``, ``settings`` and ``rollouts``.
Each is built on the core's pool when asked for; a call made while the
services are stopped raises ``ServicesStopped`` from inside its coroutine,
where the view's error handler hears it.
"""

from __future__ import annotations

from pathlib import Path

from app.agent_fleet import AgentFleetService
from app.core import AppCore
from app.costs import CostsService
from app.generation import GenerationService
from app.rollout import RolloutService
from app.settings_service import SettingsService
from app.test_results import TestResultsService
from engine.errors import ServicesStopped


class ControlCenter:
    def __init__(self, core: AppCore) -> None:
        self.core = core

    @property
    def generation(self) -> GenerationService:
        if self.core.generation is None:
            raise ServicesStopped()
        return self.core.generation

    @property
    def results(self) -> TestResultsService:
        return TestResultsService(self.core.engine)

    @property
    def fleet(self) -> AgentFleetService:
        return AgentFleetService(self.core.pool, self.core.agents)

    @property
    def costs(self) -> CostsService:
        return CostsService(self.core.pool, self.core.redis)

    @property
    def settings(self) -> SettingsService:
        """Works without the pool for what needs none (the dialog's notes, the keyring)."""
        return SettingsService(self.core.pool, self.core.config, self.core.engine)

    @property
    def rollouts(self) -> RolloutService:
        """The Rollout panel's service: state, changes with their audit trail, rollback, alerts."""
        if self.core.pool is None or self.core.redis is None:
            raise ServicesStopped()  # the Rollout panel says so on the panel (ui/panels/rollout.py)
        return RolloutService(self.core.pool, self.core.redis, self.core.config,
                              alert_monitor=self.core.alert_monitor)

    async def export_diagnostics(self, target: Path) -> Path:
        """Help → Export diagnostics: the zip ``aiwebtest diagnostics`` writes, read through our pool."""
        from app.diagnostics import export

        return await export(self.core.config, target, self.core.pool)

    def api_access(self) -> tuple[str | None, str]:
        """Where the REST API answers (None when it is not served) and its bearer token."""
        url = self.core.api.url if self.core.api is not None else None
        return url, self.core.config.api_token()
