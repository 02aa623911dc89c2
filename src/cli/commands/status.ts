/**
 * `conveyor status`: job counts by queue and state, the orphaned jobs and schedules and the storage
 * warnings (see the admin overview), as a table with lines below it, or as one JSON object.
 */
import { orphansDto, storageHealthDto } from '../../admin/api/dto.js'
import { JOB_STATES } from '../../core/domain/job.js'
import type { StorageHealth } from '../../core/domain/storage-health.js'
import type { OrphanReport, QueueStats } from '../../core/ports/store.js'
import { booleanFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS } from '../database-settings.js'
import { formatCount } from '../progress.js'
import { withQueue } from '../queue-session.js'

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show job counts by queue and state, orphans and storage warnings',
  options: {
    json: {
      type: 'boolean',
      description: 'print one JSON object: { queues, orphans, storageHealth } (see the README)',
    },
    ...DATABASE_OPTIONS,
  },
  examples: ['conveyor status', 'conveyor status --data-dir .demo-data --json'],
  run: (values, context) =>
    withQueue(values, context, 'status', async (queue, db) => {
      const [stats, orphans, health] = await Promise.all([
        queue.stats(),
        queue.findOrphans(),
        queue.storageHealth({ maxAgeMs: 0 }),
      ])
      if (booleanFlag(values, 'json')) {
        context.output.line(JSON.stringify(statusJson(stats, orphans, health)))
        return 0
      }
      context.output.line(`Database: ${db.description}, schema "${db.target.schema}"`)
      if (stats.length === 0) context.output.line('No jobs yet.')
      else for (const line of statsTable(stats)) context.output.line(line)
      for (const line of [...orphanLines(orphans), ...healthLines(health)]) context.output.line(line)
      return 0
    }),
}

/**
 * What `status --json` prints: the counts by queue (`queue`, `paused`, `counts` by state), and the
 * orphans and storage health in the shapes of the JSON API's `GET /orphans` and `GET /storage/health`.
 */
export function statusJson(
  stats: readonly QueueStats[],
  orphans: OrphanReport,
  health: StorageHealth | null,
): Record<string, unknown> {
  return {
    queues: stats.map((s) => ({ queue: s.queue, paused: s.paused, counts: s.counts })),
    orphans: orphansDto(orphans),
    storageHealth: health === null ? null : storageHealthDto(health),
  }
}

/** What no live worker will run: due jobs and schedules of a queue and kind no live process serves. */
export function orphanLines(report: OrphanReport): string[] {
  const lines: string[] = []
  if (report.jobs.length > 0) {
    const total = report.jobs.reduce((sum, g) => sum + g.count, 0)
    const groups = report.jobs.map((g) => `${g.queue} ${g.kind} ${formatCount(g.count)}`).join(', ')
    lines.push(
      `Orphaned: ${formatCount(total)} due job${total === 1 ? '' : 's'} no live worker serves (queue, kind, count): ${groups}`,
    )
  }
  if (report.schedules.length > 0) {
    const names = report.schedules.map((s) => `${s.name} (${s.kind})`).join(', ')
    lines.push(`Orphaned schedules (no live worker serves their queue and kind): ${names}`)
  }
  return lines
}

/** The storage warnings, or that there is none, with the age of the oldest horizon holder. */
export function healthLines(health: StorageHealth | null): string[] {
  if (health === null) return []
  if (health.warnings.length > 0) return health.warnings.map((w) => `Storage warning: ${w.message}`)
  const seconds = Math.round(health.oldestTransactionAgeMs / 1000)
  return [`Storage: no warning (oldest transaction holding the horizon: ${formatCount(seconds)} s)`]
}

/** Formats queue stats as a right-aligned table with a total row. */
export function statsTable(stats: readonly QueueStats[]): string[] {
  const header = ['queue', ...JOB_STATES, 'total']
  const rows = stats.map((s) => {
    const counts = JOB_STATES.map((state) => s.counts[state] ?? 0)
    const name = s.paused ? `${s.queue} (paused)` : s.queue
    return [name, ...counts.map(formatCount), formatCount(counts.reduce((a, b) => a + b, 0))]
  })
  if (stats.length > 1) {
    const totals = JOB_STATES.map((state) => stats.reduce((sum, s) => sum + (s.counts[state] ?? 0), 0))
    rows.push(['total', ...totals.map(formatCount), formatCount(totals.reduce((a, b) => a + b, 0))])
  }
  const table = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)))
  return table.map((row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
  )
}
