import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DEFAULTS, MAX_TIMER_MS } from '../defaults.js'
import { InvalidArgumentError, LifecycleError } from '../domain/errors.js'
import { isJobDefinition, type JobDefinition } from '../domain/job-definition.js'
import {
  describe,
  describeBadItem,
  validateOptionalBoolean,
  validateOptionalInt,
  validateOptionsObject,
} from '../domain/validation.js'
import type { HandlerModule, JobHandler, RegisterOptions } from '../ports/queue.js'
import { ISOLATION_MODES, type IsolationHost, type IsolationMode } from './isolation/isolation-host.js'

/** A registered kind: its definition and handler. */
export interface Registration {
  readonly definition: JobDefinition<unknown>
  readonly handler: JobHandler<unknown>
  /** Run this kind in the job's own transaction (Postgres). */
  readonly transactional: boolean
  /** Where the kind asked its handler to run: `null` in this event loop (unless a worker says otherwise). */
  readonly isolation: IsolationMode | null
  /** The handler's module when it was registered as one (a worker's `isolation` can then apply). */
  readonly module: {
    readonly url: URL
    readonly execArgv: readonly string[]
    readonly abortGraceMs: number
  } | null
}

/** The handlers of one queue instance, by kind. */
export class HandlerRegistry {
  readonly #byKind = new Map<string, Registration>()
  readonly #isolation: IsolationHost | undefined
  /** Registrations isolated by a worker's `isolation`, by mode and kind (made once each). */
  readonly #byWorkerMode = new Map<string, Registration>()
  #kinds: string[] = []

  /** `isolation` runs the handlers registered as modules; without it, only functions can be registered. */
  constructor(isolation?: IsolationHost) {
    this.#isolation = isolation
  }

  /** Registers a handler (a function, or a module to run isolated); throws on a duplicate kind unless `replace`. */
  register<P>(
    definition: JobDefinition<P>,
    handler: JobHandler<P> | HandlerModule,
    options: RegisterOptions = {},
  ): void {
    if (!isJobDefinition(definition)) {
      throw new InvalidArgumentError(
        `register(job, handler) needs a job made by defineJob(); got ${describe(definition)}.`,
      )
    }
    const kind = JSON.stringify(definition.kind)
    const o = validateOptionsObject(options, 'register options', [
      'replace',
      'transactional',
      'isolation',
      'execArgv',
      'abortGraceMs',
    ])
    validateOptionalBoolean(o.replace, 'replace')
    validateOptionalBoolean(o.transactional, 'transactional')
    const isolation = validateIsolation(o.isolation, kind)
    const execArgv = validateExecArgv(o.execArgv, kind)
    const abortGraceMs = validateOptionalInt(
      o.abortGraceMs,
      `register(${kind}) abortGraceMs`,
      0,
      MAX_TIMER_MS,
    )
    let run: JobHandler<unknown>
    let module: Registration['module'] = null
    if (typeof handler === 'function') {
      if (isolation !== undefined || execArgv !== undefined || abortGraceMs !== undefined) {
        throw new InvalidArgumentError(
          `register(${kind}): isolation runs a handler module, not a function (so do execArgv and abortGraceMs); pass its URL: register(job, new URL('./handler.js', import.meta.url), { isolation: '${isolation ?? 'thread'}' }).`,
        )
      }
      run = handler as JobHandler<unknown>
    } else {
      const url = moduleUrlOf(handler, kind)
      if (o.transactional === true && isolation !== undefined) {
        throw new InvalidArgumentError(
          `register(${kind}): an isolated handler cannot run in the job's transaction (ctx.tx cannot cross to a thread or process); drop transactional or isolation.`,
        )
      }
      if (isolation !== undefined && !this.#isolation) {
        throw new LifecycleError(
          `register(${kind}): this queue has no isolation host to run handler modules; create it with createMemoryQueue() or createPostgresQueue(), which provide one.`,
        )
      }
      module = {
        url,
        execArgv: execArgv ?? [],
        abortGraceMs: abortGraceMs ?? DEFAULTS.isolation.abortGraceMs,
      }
      run =
        isolation === undefined
          ? importedHandler(url)
          : this.#isolation!.handlerFor({
              module: url,
              mode: isolation,
              execArgv: module.execArgv,
              abortGraceMs: module.abortGraceMs,
            })
    }
    if (this.#byKind.has(definition.kind) && !options.replace) {
      throw new LifecycleError(
        `A handler for job kind ${JSON.stringify(definition.kind)} is already registered; pass { replace: true } to replace it.`,
      )
    }
    this.#byKind.set(definition.kind, {
      definition: definition as JobDefinition<unknown>,
      handler: run,
      transactional: options.transactional === true,
      isolation: isolation ?? null,
      module,
    })
    for (const mode of ISOLATION_MODES) this.#byWorkerMode.delete(`${mode}:${definition.kind}`)
    this.#kinds = [...this.#byKind.keys()]
  }

  /** The registration of a kind, if any. */
  get(kind: string): Registration | undefined {
    return this.#byKind.get(kind)
  }

  /**
   * The registration a worker with `isolation` runs: the kind's own choice wins; a kind registered as
   * a module without one runs isolated in the worker's mode; a function stays in process (it cannot
   * cross to a thread or a process).
   */
  isolatedIn(registration: Registration, mode: IsolationMode | null): Registration {
    if (mode === null || registration.isolation !== null || registration.module === null) return registration
    if (registration.transactional || !this.#isolation) return registration
    const key = `${mode}:${registration.definition.kind}`
    let isolated = this.#byWorkerMode.get(key)
    if (!isolated) {
      const { url, execArgv, abortGraceMs } = registration.module
      isolated = {
        ...registration,
        isolation: mode,
        handler: this.#isolation.handlerFor({ module: url, mode, execArgv, abortGraceMs }),
      }
      this.#byWorkerMode.set(key, isolated)
    }
    return isolated
  }

  /** Every registered kind. */
  get kinds(): readonly string[] {
    return this.#kinds
  }

  /** Every registration. */
  all(): Registration[] {
    return [...this.#byKind.values()]
  }
}

function validateIsolation(value: unknown, kind: string): IsolationMode | undefined {
  if (value === undefined) return undefined
  if (!ISOLATION_MODES.includes(value as IsolationMode)) {
    throw new InvalidArgumentError(
      `register(${kind}): isolation must be 'thread' or 'process'; got ${describe(value)}.`,
    )
  }
  return value as IsolationMode
}

function validateExecArgv(value: unknown, kind: string): readonly string[] | undefined {
  if (value === undefined) return undefined
  const isFlag = (a: unknown) => typeof a === 'string'
  if (!Array.isArray(value) || !value.every(isFlag)) {
    throw new InvalidArgumentError(
      `register(${kind}): execArgv must be an array of Node flags (strings); ${describeBadItem(value, 'execArgv', isFlag)}.`,
    )
  }
  return Object.freeze([...value])
}

/** A handler module as a `file:` URL: a URL, a `file:` URL string or an absolute path. */
function moduleUrlOf(handler: unknown, kind: string): URL {
  const fix = `pass a function, or a module as new URL('./handler.js', import.meta.url) or an absolute path`
  if (handler instanceof URL) {
    if (handler.protocol !== 'file:')
      throw new InvalidArgumentError(
        `register(${kind}): a handler module must be a file: URL; got ${handler.href}.`,
      )
    return handler
  }
  if (typeof handler === 'string') {
    if (handler.startsWith('file:')) return new URL(handler)
    if (isAbsolute(handler)) return pathToFileURL(handler)
    throw new InvalidArgumentError(
      `register(${kind}): a handler module path must be absolute (relative paths depend on the working directory); got ${JSON.stringify(handler)}; ${fix}.`,
    )
  }
  throw new InvalidArgumentError(`register(${kind}, handler): ${fix}; got ${describe(handler)}.`)
}

/** A handler module run in this process: imported on first use, its default export (or `handler`) called. */
function importedHandler(url: URL): JobHandler<unknown> {
  let loaded: Promise<JobHandler<unknown>> | undefined
  const load = async (): Promise<JobHandler<unknown>> => {
    const exports = (await import(url.href)) as { default?: unknown; handler?: unknown }
    const candidate = typeof exports.default === 'function' ? exports.default : exports.handler
    if (typeof candidate !== 'function') {
      throw new InvalidArgumentError(
        `The handler module ${url.href} exports no handler: export default async function (payload, ctx) { ... } (or export const handler).`,
      )
    }
    return candidate as JobHandler<unknown>
  }
  return async (payload, ctx) => {
    // A module that failed to load is tried again by the next attempt.
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined
      throw error
    })
    return (await loaded)(payload, ctx)
  }
}
