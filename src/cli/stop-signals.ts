/**
 * What SIGINT and SIGTERM do to a long-running command (`demo`, `admin`): the first starts a
 * graceful stop; a second one within a second of the first is the same keypress relayed again (a
 * terminal's Ctrl-C reaches npm, tsx and the command, and npm and tsx each pass it on), so it is
 * ignored; a later one stops the process at once.
 */
import type { Output } from './output.js'

/** How long after the first signal another one still counts as the same keypress. */
export const SAME_KEYPRESS_MS = 1000

/** What to do with one signal. */
export type StopDecision = 'graceful' | 'ignored' | 'immediate'

/** The policy alone, on a clock `now()` in milliseconds: decides each signal in turn. */
export function stopPolicy(now: () => number): (signal: string) => StopDecision {
  let first: number | undefined
  return () => {
    const at = now()
    if (first === undefined) {
      first = at
      return 'graceful'
    }
    return at - first < SAME_KEYPRESS_MS ? 'ignored' : 'immediate'
  }
}

/**
 * Installs SIGINT and SIGTERM handlers on this process; resolves with the first signal's name.
 * Says on standard error what each signal did and what another Ctrl-C would do.
 */
export function untilStopSignal(output: Output): Promise<string> {
  const decide = stopPolicy(() => performance.now())
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      const decision = decide(signal)
      if (decision === 'graceful') {
        output.error(
          `conveyor: ${signal} received, stopping gracefully; press Ctrl-C again (a second or more later) to stop at once.`,
        )
        resolve(signal)
      } else if (decision === 'ignored') {
        output.error(
          `conveyor: a second ${signal} within ${SAME_KEYPRESS_MS / 1000} s of the first is taken as the same Ctrl-C (npm relays it): still stopping gracefully.`,
        )
      } else {
        output.error(
          'conveyor: stopping at once; jobs still running stay "running" until a worker rescues them (see maintenance.rescueAfterMs).',
        )
        process.exit(signal === 'SIGTERM' ? 143 : 130)
      }
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
