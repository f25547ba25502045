-- Prices per model for input and output tokens (USD per 1M). The row made by
-- 002 had one price per model, which charged output tokens at the input price.
-- Only the untouched default is rewritten; a table someone edited is kept as
-- it is (a bare number still means the same price both ways).
UPDATE system_config
   SET value = '{"gpt-4o": {"input": 5.0, "output": 15.0}, "gpt-4o-mini": {"input": 0.15, "output": 0.6}}',
       description = 'USD per 1M tokens, input and output, by model',
       updated_at = now()
 WHERE key = 'llm_prices'
   AND value::jsonb = '{"gpt-4o-mini": 0.15, "gpt-4o": 5.0}'::jsonb;
