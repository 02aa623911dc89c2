/**
 * The facade adapters return: the core queue's members as a plain object, plus the adapter's own.
 */
import type { CoreQueue } from './create-queue.js'

const QUEUE_METHODS = [
  'enqueue',
  'enqueueMany',
  'schedule',
  'unschedule',
  'listSchedules',
  'register',
  'start',
  'shutdown',
  'drain',
  'on',
  'getJob',
  'listJobs',
  'retryJobs',
  'cancelJobs',
  'deleteJobs',
  'updateJob',
  'jobDefinition',
  'pauseQueue',
  'resumeQueue',
  'stats',
  'prune',
  'performJob',
] as const satisfies readonly (keyof CoreQueue)[]

/**
 * Returns a plain object with every method of `core` bound to it, plus `extras`: how adapters
 * add their own members (migrate, test helpers) without subclassing.
 */
export function extendQueue<Q extends CoreQueue, X extends object>(
  core: Q,
  extras: X,
): Omit<CoreQueue, keyof X> & X {
  const out: Record<string, unknown> = { clock: core.clock, store: core.store }
  for (const name of QUEUE_METHODS) out[name] = (core[name] as (...args: unknown[]) => unknown).bind(core)
  return Object.assign(out, extras) as Omit<CoreQueue, keyof X> & X
}
