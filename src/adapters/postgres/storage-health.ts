/**
 * The storage health reading on PostgreSQL: one statement over catalog views and functions only
 * (`pg_stat_user_tables`, file sizes, `pg_stat_activity`, `pg_replication_slots`,
 * `pg_prepared_xacts`), never a scan of Conveyor's tables, so it is cheap enough to run on every
 * admin page refresh and metrics scrape.
 *
 * The holders are those of this database's data horizon: sessions connected to it (or to none, such
 * as a physical walsender) with a snapshot (`backend_xmin`) or a transaction id (`backend_xid`),
 * replication slots with an `xmin` (a standby's `hot_standby_feedback`; a logical slot's
 * `catalog_xmin` holds only the system catalogs, so it is left out), and prepared transactions of
 * this database. Sessions of other databases do not hold back VACUUM of this one's tables.
 */
import type { StorageHealthReading } from '../../core/domain/storage-health.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type SqlNames, toMs } from './sql-names.js'

/** At most this many holders are returned, the oldest xmin first. */
const HOLDERS_LIMIT = 10

/** Reads the health of the schema's tables and of the database's xmin horizon. */
export async function readStorageHealth(target: SqlTarget, names: SqlNames): Promise<StorageHealthReading> {
  const [row] = await queryRows<{ health: Omit<StorageHealthReading, 'schema'> }>(target, {
    name: `${names.statementPrefix}storage_health`,
    text: STORAGE_HEALTH_SQL,
    values: [names.schema, HOLDERS_LIMIT],
  })
  if (!row) throw new Error('the storage health statement returned no row')
  return { ...row.health, schema: names.schema }
}

const STORAGE_HEALTH_SQL = `SELECT json_build_object(
  'checkedAt', ${toMs('clock_timestamp()')},
  'database', current_database(),
  'tables', (
    -- The partitions of job_history count as one table (under its name); the partitioned parent has
    -- no storage of its own and is left out.
    SELECT coalesce(json_agg(json_build_object(
      'name', t.name,
      'liveTuples', t.live,
      'deadTuples', t.dead,
      'totalBytes', t.total,
      'indexBytes', t.indexes,
      'lastVacuumAt', ${toMs('t.vacuumed')},
      'lastAutovacuumAt', ${toMs('t.autovacuumed')}
    ) ORDER BY t.name), '[]'::json)
    FROM (
      SELECT coalesce(p.relname, s.relname) AS name, sum(s.n_live_tup)::bigint AS live,
             sum(s.n_dead_tup)::bigint AS dead, sum(pg_total_relation_size(s.relid))::bigint AS total,
             sum(pg_indexes_size(s.relid))::bigint AS indexes, max(s.last_vacuum) AS vacuumed,
             max(s.last_autovacuum) AS autovacuumed
        FROM pg_stat_user_tables s
        JOIN pg_class c ON c.oid = s.relid
        LEFT JOIN pg_inherits i ON i.inhrelid = s.relid
        LEFT JOIN pg_class p ON p.oid = i.inhparent
       WHERE s.schemaname = $1::text AND c.relkind <> 'p'
       GROUP BY coalesce(p.relname, s.relname)
    ) t
  ),
  'holders', (
    SELECT coalesce(json_agg(h ORDER BY h."xminAge" DESC, h.pid), '[]'::json) FROM (
      SELECT 'session' AS kind, a.pid, coalesce(a.application_name, '') AS name, a.state,
             a.usename::text AS "user", a.datname::text AS database,
             coalesce(a.backend_xmin, a.backend_xid)::text AS xmin,
             greatest(age(a.backend_xmin), age(a.backend_xid)) AS "xminAge",
             ${toMs('a.xact_start')} AS "transactionStartedAt",
             ${toMs('a.query_start')} AS "queryStartedAt",
             left(a.query, 200) AS query
        FROM pg_stat_activity a
       WHERE a.pid <> pg_backend_pid()
         AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
         AND (a.datid IS NULL OR a.datname = current_database())
      UNION ALL
      SELECT 'replicationSlot', r.active_pid, r.slot_name::text,
             CASE WHEN r.active THEN 'active' ELSE 'inactive' END,
             NULL, r.database::text, r.xmin::text, age(r.xmin), NULL, NULL, NULL
        FROM pg_replication_slots r
       WHERE r.xmin IS NOT NULL AND (r.database IS NULL OR r.database = current_database())
      UNION ALL
      SELECT 'preparedTransaction', NULL, p.gid, 'prepared', p.owner::text, p.database::text,
             p.transaction::text, age(p.transaction), ${toMs('p.prepared')}, NULL, NULL
        FROM pg_prepared_xacts p
       WHERE p.database = current_database()
      ORDER BY 8 DESC, 2
      LIMIT $2::int
    ) h
  )
) AS health`
