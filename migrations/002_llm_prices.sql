-- Per-model prices (USD per million tokens) the LLM gateway uses; editable at run time.
INSERT INTO system_config (key, value, description) VALUES
    ('llm_prices', '{"gpt-4o-mini": 0.15, "gpt-4o": 5.0}', 'USD per 1M tokens, by model')
ON CONFLICT (key) DO NOTHING;
