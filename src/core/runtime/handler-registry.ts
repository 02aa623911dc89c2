import { InvalidArgumentError, LifecycleError } from '../domain/errors.js'
import { isJobDefinition, type JobDefinition } from '../domain/job-definition.js'
import { describe, validateOptionalBoolean, validateOptionsObject } from '../domain/validation.js'
import type { JobHandler, RegisterOptions } from '../ports/queue.js'

/** A registered kind: its definition and handler. */
export interface Registration {
  readonly definition: JobDefinition<unknown>
  readonly handler: JobHandler<unknown>
  /** Run this kind in the job's own transaction (Postgres). */
  readonly transactional: boolean
}

/** The handlers of one queue instance, by kind. */
export class HandlerRegistry {
  readonly #byKind = new Map<string, Registration>()
  #kinds: string[] = []

  /** Registers a handler; throws on a duplicate kind unless `replace`. */
  register<P>(definition: JobDefinition<P>, handler: JobHandler<P>, options: RegisterOptions = {}): void {
    if (!isJobDefinition(definition)) {
      throw new InvalidArgumentError(
        `register(job, handler) needs a job made by defineJob(); got ${describe(definition)}.`,
      )
    }
    if (typeof handler !== 'function') {
      throw new InvalidArgumentError(
        `register(${JSON.stringify(definition.kind)}, handler): handler must be a function; got ${describe(handler)}.`,
      )
    }
    const o = validateOptionsObject(options, 'register options', ['replace', 'transactional'])
    validateOptionalBoolean(o.replace, 'replace')
    validateOptionalBoolean(o.transactional, 'transactional')
    if (this.#byKind.has(definition.kind) && !options.replace) {
      throw new LifecycleError(
        `A handler for job kind ${JSON.stringify(definition.kind)} is already registered; pass { replace: true } to replace it.`,
      )
    }
    this.#byKind.set(definition.kind, {
      definition: definition as JobDefinition<unknown>,
      handler: handler as JobHandler<unknown>,
      transactional: options.transactional === true,
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
