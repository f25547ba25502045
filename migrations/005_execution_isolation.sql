-- Running a repository's code without bubblewrap is the user's explicit choice, remembered here
-- and shown while on (issue 10). Off by default: without isolation the engine refuses.
ALTER TABLE execution_settings ADD COLUMN IF NOT EXISTS allow_unisolated boolean NOT NULL DEFAULT false;
