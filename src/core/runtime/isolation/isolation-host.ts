/**
 * The port through which the core runs handlers outside the event loop of the queue: a handler
 * registered as a module (a URL or an absolute path) with `isolation: 'thread' | 'process'` is run
 * by a pool the host provides. The core knows only this interface; the Node implementation
 * (worker_threads, child_process) lives in `src/isolation/` and is wired in by the adapters.
 */
import type { JobHandler } from '../../ports/queue.js'

/** Where an isolated handler runs: a pool of worker threads, or a pool of child processes. */
export type IsolationMode = 'thread' | 'process'

/** The isolation modes, for validation and messages. */
export const ISOLATION_MODES: readonly IsolationMode[] = Object.freeze(['thread', 'process'])

/** One handler module to run isolated. */
export interface IsolatedModuleSpec {
  /** The module's `file:` URL; its default export (or export `handler`) is the handler. */
  readonly module: URL
  readonly mode: IsolationMode
  /** Extra Node flags for the thread or process (e.g. `['--max-old-space-size=256']`). */
  readonly execArgv: readonly string[]
  /**
   * After an abort (timeout, cancellation, shutdown) reaches the handler's `ctx.signal`, how long
   * its runner may go on before it is terminated (0: at once).
   */
  readonly abortGraceMs: number
}

/** Runs isolated handlers: hands out a handler per module and mode, and stops every runner on close. */
export interface IsolationHost {
  /**
   * A handler the executor calls like any other, which runs the module in a pooled runner: it
   * resolves or rejects as the module's handler did. When `ctx.signal` aborts (timeout,
   * cancellation, shutdown) it rejects at once with the reason, aborts the runner's `ctx.signal`, and
   * terminates the runner when its handler returns or `abortGraceMs` later. A runner that dies
   * rejects with `IsolatedRunnerExitError`.
   */
  handlerFor(spec: IsolatedModuleSpec): JobHandler<unknown>
  /**
   * Terminates every runner (the queue's shutdown calls it once running jobs have ended), and
   * resolves once the runners of aborted attempts have ended too (at most their grace).
   */
  close(): Promise<void>
}
