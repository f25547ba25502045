-- Tier 2 self-healing: the fingerprint of each element a browser test's
-- selector matched on its last passing run (Healenium-style).
CREATE TABLE IF NOT EXISTS element_fingerprints (
    test_name    TEXT NOT NULL,
    selector     TEXT NOT NULL,
    fingerprint  JSONB NOT NULL,   -- tag, id, name, classes, text, attributes, DOM path
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (test_name, selector)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON element_fingerprints TO app_user;
