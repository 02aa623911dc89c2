/** Registers every conformance case against one adapter's harness factory. */
import cancellation from './cases/cancellation.js'
import concurrency from './cases/concurrency.js'
import controls from './cases/controls.js'
import delays from './cases/delays.js'
import dependencies from './cases/dependencies.js'
import drain from './cases/drain.js'
import enqueue from './cases/enqueue.js'
import enqueueMany from './cases/enqueue-many.js'
import enqueueValidation from './cases/enqueue-validation.js'
import events from './cases/events.js'
import failover from './cases/failover.js'
import groupKeys from './cases/group-keys.js'
import groupModes from './cases/group-modes.js'
import jobActions from './cases/job-actions.js'
import jobPause from './cases/job-pause.js'
import jobsByName from './cases/jobs-by-name.js'
import lifecycle from './cases/lifecycle.js'
import listJobs from './cases/list-jobs.js'
import maxAttempts from './cases/max-attempts.js'
import ordering from './cases/ordering.js'
import orphans from './cases/orphans.js'
import pause from './cases/pause.js'
import payloadIncludes from './cases/payload-includes.js'
import performJob from './cases/perform-job.js'
import retries from './cases/retries.js'
import scheduleSeeds from './cases/schedule-seeds.js'
import scheduleTicks from './cases/schedule-ticks.js'
import schedules from './cases/schedules.js'
import schemaValidation from './cases/schema-validation.js'
import slots from './cases/slots.js'
import statsPrune from './cases/stats-prune.js'
import timeouts from './cases/timeouts.js'
import uniqueKeys from './cases/unique-keys.js'
import updateJob from './cases/update-job.js'
import workflowState from './cases/workflow-state.js'
import type { HarnessFactory } from './harness.js'

/** Every case module, in the order they run. */
const CASES: readonly ((factory: HarnessFactory) => void)[] = [
  enqueue,
  enqueueValidation,
  schemaValidation,
  enqueueMany,
  ordering,
  delays,
  retries,
  maxAttempts,
  timeouts,
  controls,
  workflowState,
  uniqueKeys,
  groupKeys,
  groupModes,
  dependencies,
  concurrency,
  slots,
  failover,
  pause,
  jobActions,
  cancellation,
  listJobs,
  payloadIncludes,
  updateJob,
  jobsByName,
  jobPause,
  statsPrune,
  events,
  orphans,
  schedules,
  scheduleTicks,
  scheduleSeeds,
  drain,
  performJob,
  lifecycle,
]

/** Runs the whole conformance suite for `factory`. */
export function runConformance(factory: HarnessFactory): void {
  for (const register of CASES) register(factory)
}
