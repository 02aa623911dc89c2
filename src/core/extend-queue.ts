/**
 * The facade adapters return: the core queue's members as a plain object, plus the adapter's own.
 */
import type { CoreQueue } from './create-queue.js'

/**
 * Every member of `CoreQueue`, as an object keyed by them: the compiler fails when one is missing
 * (or names no member), so a member added to the interface cannot be left off the facade.
 */
const CORE_QUEUE_MEMBERS = {
  clock: true,
  store: true,
  processId: true,
  enqueue: true,
  enqueueMany: true,
  schedule: true,
  unschedule: true,
  listSchedules: true,
  register: true,
  start: true,
  shutdown: true,
  drain: true,
  on: true,
  getJob: true,
  listJobs: true,
  retryJobs: true,
  cancelJobs: true,
  deleteJobs: true,
  pauseJobs: true,
  resumeJobs: true,
  updateJob: true,
  jobDefinition: true,
  pauseQueue: true,
  resumeQueue: true,
  stats: true,
  listProcesses: true,
  storageHealth: true,
  findOrphans: true,
  prune: true,
  performJob: true,
} satisfies Record<keyof CoreQueue, true>

const MEMBER_NAMES = Object.keys(CORE_QUEUE_MEMBERS) as (keyof CoreQueue)[]

/**
 * Returns a plain object with every member of `core` (methods bound to it), plus `extras`: how
 * adapters add their own members (migrate, test helpers) without subclassing.
 */
export function extendQueue<Q extends CoreQueue, X extends object>(
  core: Q,
  extras: X,
): Omit<CoreQueue, keyof X> & X {
  const out: Record<string, unknown> = {}
  for (const name of MEMBER_NAMES) {
    const member: unknown = core[name]
    out[name] = typeof member === 'function' ? member.bind(core) : member
  }
  return Object.assign(out, extras) as Omit<CoreQueue, keyof X> & X
}
