-- When each probe check (http, tcp) is next due. A replica claims a due check by moving this
-- forward in one UPDATE, so with several replicas each check is probed once per interval.
ALTER TABLE checks ADD COLUMN next_probe_at INTEGER;
CREATE INDEX checks_next_probe ON checks(next_probe_at);
