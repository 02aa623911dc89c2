/**
 * A pool of isolated runners for one handler module: it hands each attempt to an idle runner or
 * starts one, so it grows to the number of attempts running at once (the workers' concurrency) and
 * no further. A runner that dies (crash, `process.exit`, terminated at a timeout) is dropped and its
 * attempt fails with `IsolatedRunnerExitError`; the next attempt starts a fresh one.
 */
import { IsolatedRunnerExitError } from '../core/domain/errors.js'
import type { JsonValue } from '../core/domain/json.js'
import type { IsolationMode } from '../core/runtime/isolation/isolation-host.js'
import type { RunMessage, RunnerMessage } from './protocol.js'
import type { Runner } from './runner.js'

/** The end of one isolated attempt: how the handler settled and what it produced. */
export type RunEnd = Extract<RunnerMessage, { type: 'done' }>

/** What an attempt does with its runner's messages while it runs. */
export interface RunHooks {
  onLog(line: Extract<RunnerMessage, { type: 'log' }>): void
  onState(state: JsonValue): void
}

/** The runners of one handler module and mode. */
export class RunnerPool {
  readonly #mode: IsolationMode
  readonly #spawn: () => Runner
  readonly #idle: Runner[] = []
  readonly #all = new Set<Runner>()
  #closed = false

  constructor(mode: IsolationMode, spawn: () => Runner) {
    this.#mode = mode
    this.#spawn = spawn
  }

  /** Runners alive now (idle or busy). */
  get size(): number {
    return this.#all.size
  }

  /**
   * Runs one attempt on a runner. `signal` aborting (timeout, cancellation, shutdown) terminates the
   * runner and rejects with the signal's reason; a runner that ends first rejects with `IsolatedRunnerExitError`.
   */
  run(message: RunMessage, hooks: RunHooks, signal: AbortSignal): Promise<RunEnd> {
    if (signal.aborted) return Promise.reject(signal.reason)
    const runner = this.#idle.pop() ?? this.#start()
    runner.ref()
    return new Promise<RunEnd>((resolve, reject) => {
      const onAbort = () => {
        this.#drop(runner)
        runner.terminate()
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      runner.onMessage = (m) => {
        if (m.type === 'log') hooks.onLog(m)
        else if (m.type === 'state') hooks.onState(m.state)
        else if (m.type === 'done') {
          signal.removeEventListener('abort', onAbort)
          this.#release(runner)
          resolve(m)
        }
      }
      runner.onExit = (code, exitSignal, detail) => {
        signal.removeEventListener('abort', onAbort)
        this.#drop(runner)
        reject(new IsolatedRunnerExitError(this.#mode, code, exitSignal, detail))
      }
      try {
        runner.send(message)
      } catch (error) {
        signal.removeEventListener('abort', onAbort)
        this.#drop(runner)
        runner.terminate()
        reject(error)
      }
    })
  }

  /** Terminates every runner; later attempts start new ones only if the pool is used again. */
  close(): void {
    this.#closed = true
    for (const r of this.#all) r.terminate()
    this.#all.clear()
    this.#idle.length = 0
  }

  #start(): Runner {
    this.#closed = false
    const runner = this.#spawn()
    this.#all.add(runner)
    runner.onExit = () => this.#drop(runner)
    return runner
  }

  /** Back to the idle list, not keeping the host process alive. */
  #release(runner: Runner): void {
    runner.onMessage = () => {}
    runner.onExit = () => this.#drop(runner)
    runner.unref()
    if (this.#closed || !this.#all.has(runner)) runner.terminate()
    else this.#idle.push(runner)
  }

  #drop(runner: Runner): void {
    runner.onMessage = () => {}
    runner.onExit = () => {}
    this.#all.delete(runner)
    const i = this.#idle.indexOf(runner)
    if (i >= 0) this.#idle.splice(i, 1)
  }
}
