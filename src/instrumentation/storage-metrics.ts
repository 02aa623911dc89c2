/**
 * The storage gauges of a queue's Prometheus metrics (see `createMetrics`): what `storageHealth()`
 * reads (dead tuples, sizes, the xmin horizon's holders), set at scrape time.
 */
import { Gauge, type Registry } from 'prom-client'
import type { StorageHealth } from '../core/domain/storage-health.js'

/**
 * The storage gauges, all set from one `storageHealth()` reading per scrape (the queue also caches
 * it for a few seconds): dead and live tuples, bytes and index bytes, and the last vacuum of each
 * table of the queue's schema; the age of the oldest transaction holding the xmin horizon, in
 * seconds and in transactions; and 1 per warning rule that fires.
 */
export function registerStorageGauges(
  prefix: string,
  registers: Registry[],
  named: <T extends { name: string }>(config: T) => T,
  read: () => Promise<StorageHealth | null>,
): void {
  let pending: Promise<StorageHealth | null> | null = null
  const health = () => {
    pending ??= read()
    const current = pending
    void current.then(() => {
      if (pending === current) pending = null
    })
    return current
  }
  const perTable = (
    name: string,
    help: string,
    value: (t: StorageHealth['tables'][number]) => number | null,
  ) =>
    new Gauge(
      named({
        name: `${prefix}${name}`,
        help,
        labelNames: ['table'] as const,
        registers,
        async collect() {
          const h = await health()
          this.reset()
          for (const t of h?.tables ?? []) {
            const v = value(t)
            if (v !== null) this.labels(t.name).set(v)
          }
        },
      }),
    )
  perTable(
    'table_dead_tuples',
    'Dead row versions of each table of the queue, read at scrape time.',
    (t) => t.deadTuples,
  )
  perTable(
    'table_live_tuples',
    'Live rows of each table of the queue (statistics estimate).',
    (t) => t.liveTuples,
  )
  perTable('table_bytes', 'Bytes of each table of the queue with its indexes and TOAST.', (t) => t.totalBytes)
  perTable('table_index_bytes', 'Bytes of the indexes of each table of the queue.', (t) => t.indexBytes)
  perTable(
    'table_last_vacuum_timestamp_seconds',
    'Last VACUUM of each table (manual or autovacuum), Unix time.',
    (t) => {
      const last = Math.max(t.lastVacuumAt ?? 0, t.lastAutovacuumAt ?? 0)
      return last === 0 ? null : last / 1000
    },
  )
  const single = (name: string, help: string, value: (h: StorageHealth) => number) =>
    new Gauge(
      named({
        name: `${prefix}${name}`,
        help,
        registers,
        async collect() {
          const h = await health()
          this.reset()
          if (h !== null) this.set(value(h))
        },
      }),
    )
  single(
    'oldest_transaction_age_seconds',
    'How long the oldest holder of the xmin horizon (session, prepared transaction, replication slot) has held it; 0 when none.',
    (h) => h.oldestTransactionAgeMs / 1000,
  )
  single(
    'xmin_horizon_age_transactions',
    'Transactions since the oldest xmin held back (age(xmin)); 0 when nothing holds the horizon.',
    (h) => h.holders.reduce((max, x) => Math.max(max, x.xminAge), 0),
  )
  new Gauge(
    named({
      name: `${prefix}storage_warning`,
      help: '1 while a storage warning fires (rule heldHorizon: a held xmin horizon with dead tuples piling up), else 0.',
      labelNames: ['rule'] as const,
      registers,
      async collect() {
        const h = await health()
        this.reset()
        if (h === null) return
        this.labels('heldHorizon').set(h.warnings.some((w) => w.rule === 'heldHorizon') ? 1 : 0)
      },
    }),
  )
}
