import type { JsonValue } from './json.js'

/**
 * Explicit handler outcomes. A handler either `return`s one (from `ctx.snooze`, `ctx.fail`,
 * `ctx.cancel`) or throws it; both are understood the same way.
 */

/** Base class of the explicit outcomes. */
export abstract class JobControl {
  /** New workflow state to store with the job, if any. */
  readonly state: JsonValue | undefined
  constructor(state: JsonValue | undefined) {
    this.state = state
  }
}

/** Run the job again after `delayMs` without counting an attempt (workflow step, waiting on something). */
export class SnoozeJob extends JobControl {
  readonly delayMs: number
  constructor(delayMs: number, state?: JsonValue) {
    super(state)
    this.delayMs = delayMs
  }
}

/** Fail the job permanently now, without further retries. */
export class FailJob extends JobControl {
  readonly reason: string
  constructor(reason: string, state?: JsonValue) {
    super(state)
    this.reason = reason
  }
}

/** Cancel the job now (final state `cancelled`). */
export class CancelJob extends JobControl {
  readonly reason: string
  constructor(reason: string, state?: JsonValue) {
    super(state)
    this.reason = reason
  }
}
