-- A day's bookkeeping is a function of that day and the day before: each snapshot keeps the
-- streak's best as of that day, and a streak no longer needs the base it was counted from.
ALTER TABLE snapshots ADD COLUMN best_days INTEGER NOT NULL DEFAULT 0;
UPDATE snapshots SET best_days = streak_days;
ALTER TABLE streaks DROP COLUMN base_current;
ALTER TABLE streaks DROP COLUMN base_best;
