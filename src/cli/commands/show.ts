/** `conveyor show`: one job, by id or by name (its unique key), as text or JSON. */
import { isJobId } from '../../adapters/postgres/job-id.js'
import { jobDto } from '../../admin/api/dto.js'
import type { JobRecord } from '../../core/domain/job.js'
import type { JobRef } from '../../core/domain/job-ref.js'
import { booleanFlag, stringFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS } from '../database-settings.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { withQueue } from '../queue-session.js'

/** The `show` command. */
export const showCommand: Command = {
  name: 'show',
  summary: 'show one job, by id or by name',
  details: [
    'Prints one job: by --id, or by --key, its name (the unique key it was enqueued with): the job\n' +
      'waiting, paused or running with that key, else the newest finished one; --kind when two kinds hold it.',
    'Exit codes: 0 shown, 1 no such job, 2 a usage mistake.',
  ],
  options: {
    id: { type: 'string', value: '<id>', description: 'the job id' },
    key: { type: 'string', value: '<key>', description: 'the job name: its unique key' },
    kind: { type: 'string', value: '<kind>', description: 'the kind of the named job (with --key)' },
    json: { type: 'boolean', description: 'print the job as JSON' },
    ...DATABASE_OPTIONS,
  },
  examples: ['conveyor show --id 42', 'conveyor show --key nightly-report --json'],
  run: (values, context) => {
    const ref = jobRefFlags(stringFlag(values, 'id'), stringFlag(values, 'key'), stringFlag(values, 'kind'))
    return withQueue(values, context, 'show', async (queue) => {
      const job = await queue.getJob(ref)
      if (job === null) {
        context.output.error(
          typeof ref === 'string'
            ? `conveyor: not found: job ${ref} (it may have been deleted or pruned).`
            : `conveyor: not found: no job${ref.kind !== undefined ? ` of kind ${JSON.stringify(ref.kind)}` : ''} has the unique key ${JSON.stringify(ref.key)}.`,
        )
        return 1
      }
      // The job as the JSON API answers it (times as ISO strings, as status --json prints them).
      if (booleanFlag(values, 'json')) context.output.line(JSON.stringify(jobDto(job)))
      else printJob(job, context.output)
      return 0
    })
  },
}

/** The job the flags name: exactly one of --id and --key, --kind only with --key. */
function jobRefFlags(id: string | undefined, key: string | undefined, kind: string | undefined): JobRef {
  if ((id === undefined) === (key === undefined)) {
    throw new UsageError('say which job: --id <id> or --key <name> (one of them)', 'show')
  }
  if (id !== undefined) {
    if (!isJobId(id)) throw new UsageError(`--id must be a job id (digits), got "${id}"`, 'show')
    if (kind !== undefined) throw new UsageError('--kind goes with --key, not --id', 'show')
    return BigInt(id).toString()
  }
  if (key === '')
    throw new UsageError('--key must be a job name: the unique key it was enqueued with', 'show')
  return { key: key as string, ...(kind !== undefined ? { kind } : {}) }
}

/** A few lines an operator reads. */
function printJob(job: JobRecord, output: Output): void {
  const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString())
  output.line(`Job ${job.id}: ${job.kind} in ${job.queue}, ${job.state}`)
  if (job.uniqueKey !== null) output.line(`Unique key: ${job.uniqueKey}`)
  output.line(`Attempt: ${job.attempt} of ${job.maxAttempts}`)
  output.line(
    `Created: ${time(job.createdAt)}  Run at: ${time(job.runAt)}  Finished: ${time(job.finishedAt)}`,
  )
  const last = job.errors[job.errors.length - 1]
  if (last) output.line(`Last error (attempt ${last.attempt}): ${last.name}: ${last.message}`)
  output.line(`Payload: ${JSON.stringify(job.payload)}`)
}
