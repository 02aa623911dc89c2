/**
 * The demo's running commentary: counts of what this process's workers did (from queue events) and
 * what waits in the database, printed as one line every few seconds.
 */
import type { Queue } from '../../core/ports/queue.js'
import type { Output } from '../output.js'
import { formatCount } from '../progress.js'

/** Counts of finished attempts seen in this process. */
interface Tally {
  succeeded: number
  retried: number
  failed: number
  cancelled: number
}

/** Subscribes to the queue's events; returns `report()` (prints one line) and `stop()`. */
export function trackActivity(queue: Queue, output: Output): { report(): Promise<void>; stop(): void } {
  const tally: Tally = { succeeded: 0, retried: 0, failed: 0, cancelled: 0 }
  const unsubscribe = [
    queue.on('succeeded', () => void tally.succeeded++),
    queue.on('retried', () => void tally.retried++),
    queue.on('discarded', () => void tally.failed++),
    queue.on('cancelled', () => void tally.cancelled++),
  ]
  return {
    async report() {
      const stats = await queue.stats()
      const sum = (states: readonly ('scheduled' | 'available' | 'retryable' | 'running')[]) =>
        stats.reduce((total, s) => total + states.reduce((n, state) => n + (s.counts[state] ?? 0), 0), 0)
      const time = new Date().toTimeString().slice(0, 8)
      output.line(
        `[${time}] ${formatCount(tally.succeeded)} succeeded, ${formatCount(tally.retried)} retried, ` +
          `${formatCount(tally.failed)} failed, ${formatCount(tally.cancelled)} cancelled | ` +
          `waiting ${formatCount(sum(['scheduled', 'available', 'retryable']))}, running ${formatCount(sum(['running']))}`,
      )
    },
    stop() {
      for (const u of unsubscribe) u()
    },
  }
}
