/**
 * A pool of isolated runners for one handler module: it hands each attempt to an idle runner or
 * starts one, so it grows to the number of attempts running at once (the workers' concurrency) and
 * no further. A runner that dies (crash, `process.exit`, terminated at a timeout) is dropped and its
 * attempt fails with `IsolatedRunnerExitError`; the next attempt starts a fresh one.
 *
 * An aborted attempt (timeout, cancellation, shutdown) rejects at once with the abort's reason, and
 * its runner is retired: the abort is forwarded to the handler's `ctx.signal`, and the runner is
 * terminated when the handler returns or `abortGraceMs` later, whichever comes first (never reused:
 * a handler that was stopped may have left work behind). `close()` waits for retiring runners.
 */
import { IsolatedRunnerExitError } from '../core/domain/errors.js'
import type { JsonValue } from '../core/domain/json.js'
import type { IsolationMode } from '../core/runtime/isolation/isolation-host.js'
import { encodeValue, type RunMessage, type RunnerMessage } from './protocol.js'
import type { Runner } from './runner.js'

/** The end of one isolated attempt: how the handler settled and what it produced. */
export type RunEnd = Extract<RunnerMessage, { type: 'done' }>

/** What an attempt does with its runner's messages while it runs. */
export interface RunHooks {
  onLog(line: Extract<RunnerMessage, { type: 'log' }>): void
  onState(state: JsonValue): void
}

/** How a pool treats its runners. */
export interface RunnerPoolOptions {
  /** How long an aborted attempt's handler may go on (seeing `ctx.signal` aborted) before its runner is terminated. */
  readonly abortGraceMs: number
}

/** The runners of one handler module and mode. */
export class RunnerPool {
  readonly #mode: IsolationMode
  readonly #spawn: () => Runner
  readonly #abortGraceMs: number
  readonly #idle: Runner[] = []
  readonly #all = new Set<Runner>()
  /** Runners of aborted attempts, until they have exited. */
  readonly #retiring = new Map<Runner, Promise<void>>()
  #closed = false

  constructor(mode: IsolationMode, spawn: () => Runner, options: RunnerPoolOptions) {
    this.#mode = mode
    this.#spawn = spawn
    this.#abortGraceMs = options.abortGraceMs
  }

  /** Runners alive now (idle, busy, or retiring after an abort). */
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
        this.#retire(runner, signal.reason)
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

  /**
   * Terminates every runner but those retiring after an abort, and resolves once those have ended
   * too (their handlers returned, or their grace ran out); later attempts start new runners only if
   * the pool is used again.
   */
  async close(): Promise<void> {
    this.#closed = true
    for (const r of this.#all) if (!this.#retiring.has(r)) r.terminate()
    this.#all.clear()
    this.#idle.length = 0
    await Promise.all(this.#retiring.values())
  }

  /**
   * Retires the runner of an aborted attempt: forwards the abort to its handler's `ctx.signal`, and
   * terminates it when the handler returns or the grace runs out; it counts in `size` until it exits.
   */
  #retire(runner: Runner, reason: unknown): void {
    let timer: ReturnType<typeof setTimeout> | undefined
    const exited = new Promise<void>((resolve) => {
      runner.onExit = () => {
        clearTimeout(timer)
        this.#all.delete(runner)
        this.#retiring.delete(runner)
        resolve()
      }
    })
    this.#retiring.set(runner, exited)
    runner.onMessage = (m) => {
      if (m.type === 'done') runner.terminate()
    }
    if (this.#abortGraceMs <= 0) {
      runner.terminate()
      return
    }
    try {
      runner.send({ type: 'abort', reason: encodeValue(reason) })
    } catch {
      runner.terminate()
      return
    }
    timer = setTimeout(() => runner.terminate(), this.#abortGraceMs)
    timer.unref?.()
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
