/** Messages between the pressure harness and its worker process, and the jobs' payload. */

/** The payload of every pressure job: a sequence number, the insert time and padding to 256 bytes. */
export interface PressurePayload {
  readonly i: number
  /** Epoch ms (`performance.timeOrigin + performance.now()`) just before the insert statement. */
  readonly t: number
  readonly pad: string
}

/** From the worker process. */
export type WorkerToParent =
  | { readonly type: 'loaded' }
  | { readonly type: 'started' }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string }
  | {
      readonly type: 'progress'
      /** Pickup latencies (ms) of the handler starts since the last report. */
      readonly latencies: readonly number[]
      /** Handler starts so far. */
      readonly started: number
      /** Jobs completed so far (candidates: completions written; libraries: handlers finished). */
      readonly completed: number
      /** Handler starts of a job that had started before. */
      readonly duplicates: number
    }

/** A payload of about 256 bytes as JSON. */
export function pressurePayload(i: number, t: number): PressurePayload {
  const head = JSON.stringify({ i, t, pad: '' })
  return { i, t, pad: 'x'.repeat(Math.max(0, 256 - head.length)) }
}
