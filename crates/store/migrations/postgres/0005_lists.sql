-- An objective's excludedDependencyIds are stored as a JSON array, no longer comma-joined
-- (a joined string cannot tell ["a,b"] from ["a", "b"]).
UPDATE objectives SET excluded_dependency_ids = CASE
    WHEN excluded_dependency_ids = '' THEN '[]'
    ELSE '["' || REPLACE(excluded_dependency_ids, ',', '","') || '"]'
END;
-- A calendar window has no windowDays of its own: 0 stands for none.
UPDATE objectives SET window_days = 0 WHERE window_kind <> 'rolling';
