import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidArgumentError, LifecycleError } from '../domain/errors.js'
import { isJobDefinition, type JobDefinition } from '../domain/job-definition.js'
import { describe, validateOptionalBoolean, validateOptionsObject } from '../domain/validation.js'
import type { HandlerModule, JobHandler, RegisterOptions } from '../ports/queue.js'
import { ISOLATION_MODES, type IsolationHost, type IsolationMode } from './isolation/isolation-host.js'

/** A registered kind: its definition and handler. */
export interface Registration {
  readonly definition: JobDefinition<unknown>
  readonly handler: JobHandler<unknown>
  /** Run this kind in the job's own transaction (Postgres). */
  readonly transactional: boolean
  /** Where the handler runs: `null` in this event loop, else a pooled thread or process. */
  readonly isolation: IsolationMode | null
}

/** The handlers of one queue instance, by kind. */
export class HandlerRegistry {
  readonly #byKind = new Map<string, Registration>()
  readonly #isolation: IsolationHost | undefined
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
    ])
    validateOptionalBoolean(o.replace, 'replace')
    validateOptionalBoolean(o.transactional, 'transactional')
    const isolation = validateIsolation(o.isolation, kind)
    const execArgv = validateExecArgv(o.execArgv, kind)
    let run: JobHandler<unknown>
    let mode: IsolationMode | null = null
    if (typeof handler === 'function') {
      if (isolation !== undefined || execArgv !== undefined) {
        throw new InvalidArgumentError(
          `register(${kind}): isolation runs a handler module, not a function; pass its URL: register(job, new URL('./handler.js', import.meta.url), { isolation: '${isolation ?? 'thread'}' }).`,
        )
      }
      run = handler as JobHandler<unknown>
    } else {
      const module = moduleUrlOf(handler, kind)
      if (o.transactional === true) {
        throw new InvalidArgumentError(
          `register(${kind}): an isolated handler cannot run in the job's transaction (ctx.tx cannot cross to a thread or process); drop transactional or register a function.`,
        )
      }
      if (!this.#isolation) {
        throw new LifecycleError(
          `register(${kind}): this queue has no isolation host to run handler modules; create it with createMemoryQueue() or createPostgresQueue(), which provide one.`,
        )
      }
      mode = isolation ?? 'thread'
      run = this.#isolation.handlerFor({ module, mode, execArgv: execArgv ?? [] })
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
      isolation: mode,
    })
    this.#kinds = [...this.#byKind.keys()]
  }

  /** The registration of a kind, if any. */
  get(kind: string): Registration | undefined {
    return this.#byKind.get(kind)
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
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string')) {
    throw new InvalidArgumentError(
      `register(${kind}): execArgv must be an array of Node flags (strings); got ${describe(value)}.`,
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
