/** `conveyor status`: job counts by queue and state, as a table or JSON. */
import { JOB_STATES } from '../../core/domain/job.js'
import type { QueueStats } from '../../core/ports/store.js'
import { booleanFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS } from '../database-settings.js'
import { formatCount } from '../progress.js'
import { withQueue } from '../queue-session.js'

/** The `status` command. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show job counts by queue and state',
  options: {
    json: { type: 'boolean', description: 'print the counts as JSON (one object per queue)' },
    ...DATABASE_OPTIONS,
  },
  examples: ['conveyor status', 'conveyor status --data-dir .demo-data --json'],
  run: (values, context) =>
    withQueue(values, context, 'status', async (queue, db) => {
      const stats = await queue.stats()
      if (booleanFlag(values, 'json')) {
        context.output.line(JSON.stringify(stats))
        return 0
      }
      context.output.line(`Database: ${db.description}, schema "${db.target.schema}"`)
      if (stats.length === 0) context.output.line('No jobs yet.')
      else for (const line of statsTable(stats)) context.output.line(line)
      return 0
    }),
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
