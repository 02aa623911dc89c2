/** The JSON API's storage health route. */
import type { FastifyInstance } from 'fastify'
import type { AgedHorizonHolder, StorageHealth, TableHealth } from '../../core/domain/storage-health.js'
import type { AdminContext } from '../context.js'
import { readStorageHealth } from '../operations/storage.js'
import { isoTime } from './dto.js'
import { documented, errorResponses } from './schemas.js'
import { storageHealthSchema } from './schemas-storage.js'

/** Registers `GET /storage/health` on the API scope. */
export function registerStorageRoutes(api: FastifyInstance, ctx: AdminContext): void {
  api.get(
    '/storage/health',
    {
      schema: documented({
        summary:
          'Storage health: dead tuples and sizes of the queue’s tables, what holds the xmin horizon, and warnings (null on a store that cannot read it, such as the memory store)',
        tags: ['queues'],
        response: {
          200: {
            type: 'object',
            required: ['storageHealth'],
            properties: { storageHealth: { ...storageHealthSchema, type: ['object', 'null'] } },
          },
          ...errorResponses(),
        },
      }),
    },
    async () => {
      const health = await readStorageHealth(ctx.queue)
      return { storageHealth: health === null ? null : storageHealthDto(health) }
    },
  )
}

const isoOrNull = (ms: number | null) => (ms === null ? null : isoTime(ms))

/** The health for the API, times as ISO strings. */
export function storageHealthDto(health: StorageHealth): Record<string, unknown> {
  const holder = (h: AgedHorizonHolder) => ({
    kind: h.kind,
    pid: h.pid,
    name: h.name,
    state: h.state,
    user: h.user,
    database: h.database,
    xmin: h.xmin,
    xminAge: h.xminAge,
    heldMs: h.heldMs,
    transactionStartedAt: isoOrNull(h.transactionStartedAt),
    queryStartedAt: isoOrNull(h.queryStartedAt),
    query: h.query,
  })
  const table = (t: TableHealth) => ({
    name: t.name,
    liveTuples: t.liveTuples,
    deadTuples: t.deadTuples,
    totalBytes: t.totalBytes,
    indexBytes: t.indexBytes,
    lastVacuumAt: isoOrNull(t.lastVacuumAt),
    lastAutovacuumAt: isoOrNull(t.lastAutovacuumAt),
  })
  return {
    checkedAt: isoTime(health.checkedAt),
    database: health.database,
    schema: health.schema,
    tables: health.tables.map(table),
    holders: health.holders.map(holder),
    oldestTransactionAgeMs: health.oldestTransactionAgeMs,
    thresholds: health.thresholds,
    warnings: health.warnings.map((w) => ({
      rule: w.rule,
      message: w.message,
      table: w.table,
      holder: holder(w.holder),
    })),
  }
}
