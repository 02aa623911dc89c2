-- Conveyor 012: which waiting jobs wait for which, so that a dependency's completion can wake its
-- dependants' workers. A dependant sits in the claim index at its own key from the moment it is
-- enqueued; a claim loop whose keyset cursor (claim-cursor.ts) has passed that key would otherwise
-- take it only at its next scan from the front. One row per edge whose dependency was unfinished when
-- the dependant was enqueued; the completion statements delete a finished job's rows and notify the
-- keys of its dependants. A table of its own (and not a probe of the dependants' GIN index on every
-- completion) so that a completion costs nothing more where no job has dependencies: it reads an empty
-- table. Rows left behind (a dependency that finished while its dependant's insert was committing, a
-- dependant enqueued by a process of an earlier version, a TRUNCATE of `jobs`) are swept by the rescue
-- pass. Nothing here locks `jobs` beyond reading it: processes of the previous version go on meanwhile.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

CREATE TABLE :schema.job_dependants (
  dependency_id bigint NOT NULL,
  dependant_id bigint NOT NULL,
  PRIMARY KEY (dependency_id, dependant_id)
);

-- The waiting dependants of unfinished jobs already there.
INSERT INTO :schema.job_dependants (dependency_id, dependant_id)
SELECT DISTINCT d.id, j.id
FROM :schema.jobs j CROSS JOIN LATERAL unnest(j.depends_on) AS d(id)
WHERE j.depends_on IS NOT NULL
  AND j.state IN ('scheduled', 'available', 'retryable', 'paused')
  AND EXISTS (SELECT 1 FROM :schema.jobs x WHERE x.id = d.id AND x.finished_at IS NULL);

-- Statistics now, so that where the table stays empty (no job has dependencies) the completion's
-- delete is planned as a read of its no pages (about 3 us) and not as a probe of its primary key per
-- finished id (about 70 us per batch of 100), which the planner's guess for a never-analyzed table gives.
ANALYZE :schema.job_dependants;
