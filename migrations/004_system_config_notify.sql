-- Every change to system_config is announced on the 'system_config_changed'
-- channel, so each process learns of a rollback at once and can say so
-- (the Rollout panel shows how long the change took to reach every process).
CREATE OR REPLACE FUNCTION notify_system_config_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('system_config_changed',
                      json_build_object('key', NEW.key, 'value', NEW.value,
                                        'at', extract(epoch from clock_timestamp()))::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS system_config_changed ON system_config;
CREATE TRIGGER system_config_changed AFTER INSERT OR UPDATE ON system_config
    FOR EACH ROW EXECUTE FUNCTION notify_system_config_changed();
