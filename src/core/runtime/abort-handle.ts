/**
 * A cheap abort handle for one attempt. Most handlers never read `ctx.signal`, so the
 * `AbortController` (costly to create per job) is made only when someone asks for the signal.
 */
export class AbortHandle {
  #controller: AbortController | undefined
  #reason: unknown
  #aborted = false
  #listener: ((reason: unknown) => void) | undefined

  /** True once `abort` was called. */
  get aborted(): boolean {
    return this.#aborted
  }

  /** The reason given to `abort`. */
  get reason(): unknown {
    return this.#reason
  }

  /** The signal handed to the handler, created on first use. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** Aborts once: sets the reason, aborts the signal if it exists and tells the executor. */
  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
    this.#listener?.(reason)
  }

  /** Sets the single callback run on abort (the executor's); runs it at once if already aborted. */
  onAbort(listener: (reason: unknown) => void): void {
    this.#listener = listener
    if (this.#aborted) listener(this.#reason)
  }
}
