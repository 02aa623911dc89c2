/** Finds the job definition of a kind, to validate payloads the admin writes (job updates, schedules). */
import type { JobDefinition } from '../../core/domain/job-definition.js'
import type { Queue } from '../../core/ports/queue.js'
import { AdminHttpError } from '../errors.js'
import type { AdminSettings } from '../options.js'

/**
 * The definition of `kind`: from the plugin's `jobs` option, else the one registered on the queue.
 * Throws 422 `UNKNOWN_JOB_KIND` when neither has it, saying how to fix that (`unknownKindAdvice`,
 * when given, says it instead).
 */
export function requireDefinition(
  settings: Pick<AdminSettings, 'queue' | 'jobs' | 'unknownKindAdvice'>,
  kind: string,
): JobDefinition<unknown> {
  const { queue } = settings
  const lookup = (queue as Partial<Pick<Queue, 'jobDefinition'>>).jobDefinition
  const definition =
    settings.jobs.get(kind) ?? (typeof lookup === 'function' ? lookup.call(queue, kind) : undefined)
  if (definition === undefined) {
    const advice =
      settings.unknownKindAdvice ??
      "add its definition to the admin plugin's `jobs` option (or register a handler for it on this queue)"
    throw new AdminHttpError(
      422,
      `The admin does not know the job kind ${JSON.stringify(kind)}, so it cannot validate its payload: ${advice}.`,
      'UNKNOWN_JOB_KIND',
      { kind },
    )
  }
  return definition
}
