/**
 * Loads one system's worker module by name, so a worker child loads only the library it measures
 * (its peak RSS would otherwise include every peer).
 */
import type { Consumer, OnJob, QueueSystem, Target } from '../lib/types.js'

/** Builds a system's worker for a configuration; `start()` begins work. */
export type ConsumerFactory = (target: Target, config: string, onJob: OnJob) => Promise<Consumer>

/** Imports the worker module of `system`. */
export async function loadConsumerFactory(system: QueueSystem): Promise<ConsumerFactory> {
  switch (system) {
    case 'conveyor':
      return (await import('./conveyor-worker.js')).createConsumer
    case 'pg-boss':
      return (await import('./pg-boss-worker.js')).createConsumer
    case 'graphile-worker':
      return (await import('./graphile-worker-worker.js')).createConsumer
    case 'bullmq':
      return (await import('./bullmq-worker.js')).createConsumer
    default:
      throw new Error(`unknown system ${String(system)}`)
  }
}
