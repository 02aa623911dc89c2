/**
 * The grace period of shutdown, shared by workers and drains: wait for running work up to `graceMs`
 * on the queue's clock, then abort what is left and wait for it to end.
 */
import type { Clock, TimerHandle } from '../ports/clock.js'

/**
 * Waits for `running()` up to `graceMs` (on `clock`); if it has not settled by then, calls
 * `abortRest()` and waits for `running()` again. `running` must not reject. With no grace
 * (`graceMs` 0) it aborts at once: a zero-ms timer of a manual clock would wait for the clock to move.
 */
export async function awaitWithGrace(
  clock: Clock,
  graceMs: number,
  running: () => Promise<unknown>,
  abortRest: () => void,
): Promise<void> {
  let timer: TimerHandle | undefined
  const expired = new Promise<'expired'>((resolve) => {
    if (graceMs === 0) resolve('expired')
    else timer = clock.setTimeout(() => resolve('expired'), graceMs)
  })
  const result = await Promise.race([running().then(() => 'done' as const), expired])
  timer?.cancel()
  if (result === 'expired') {
    abortRest()
    await running()
  }
}
