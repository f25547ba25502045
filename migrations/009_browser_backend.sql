-- Which browser backend heals browser tests (tier 2) and carries out their intent (tier 3), issue 15:
-- 'auto' uses Stagehand when STAGEHAND_API_KEY is set and our own healer and agent otherwise;
-- 'ours' and 'stagehand' choose one whatever the environment says.
ALTER TABLE execution_settings ADD COLUMN IF NOT EXISTS browser_backend varchar(20) NOT NULL DEFAULT 'auto'
    CHECK (browser_backend IN ('auto', 'ours', 'stagehand'));
