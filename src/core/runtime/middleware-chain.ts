/**
 * A queue's middleware, split once (when the queue is created) into its insert hooks and its run
 * hooks, outermost first. With no run hooks a run costs nothing extra; with one, only the `next`
 * the runner already makes; each further hook adds one closure per run.
 */
import { InvalidArgumentError } from '../domain/errors.js'
import type { JobRecord } from '../domain/job.js'
import type { InsertCall, Middleware, RowEdit, RunReport } from '../ports/middleware.js'
import type { InsertOutcome, NewJob } from '../ports/store.js'

/** Runs inserts and runs through a queue's middleware. */
export class MiddlewareChain {
  /** Middleware with an insert hook, outermost first. */
  readonly #inserts: readonly Middleware[]
  /** Middleware with a run hook, outermost first. */
  readonly #runs: readonly Middleware[]

  /** `middleware` is validated already (`validateQueueOptions`). */
  constructor(middleware: readonly Middleware[]) {
    this.#inserts = middleware.filter((m) => m.insert !== undefined)
    this.#runs = middleware.filter((m) => m.run !== undefined)
  }

  /** True when some middleware wraps inserts (callers then describe the call for it). */
  get wrapsInserts(): boolean {
    return this.#inserts.length > 0
  }

  /** Runs `store` (validate, edit, store) through the insert hooks; `store` gets their edits, chained. */
  insert(
    call: InsertCall,
    store: (edit: RowEdit | undefined) => Promise<readonly InsertOutcome[]>,
  ): Promise<readonly InsertOutcome[]> {
    if (this.#inserts.length === 0) return store(undefined)
    return this.#insertFrom(0, call, undefined, store)
  }

  #insertFrom(
    i: number,
    call: InsertCall,
    edit: RowEdit | undefined,
    store: (edit: RowEdit | undefined) => Promise<readonly InsertOutcome[]>,
  ): Promise<readonly InsertOutcome[]> {
    const m = this.#inserts[i]
    if (m === undefined) return store(edit)
    return m.insert!(call, (inner) => this.#insertFrom(i + 1, call, chainEdits(edit, inner, m), store))
  }

  /** Runs `attempt` through the run hooks around `job`. */
  run<R extends RunReport>(job: JobRecord, attempt: () => Promise<R>): Promise<R> {
    const runs = this.#runs
    if (runs.length === 0) return attempt()
    if (runs.length === 1) return runs[0]!.run!(job, attempt)
    return this.#runFrom(0, job, attempt)
  }

  #runFrom<R extends RunReport>(i: number, job: JobRecord, attempt: () => Promise<R>): Promise<R> {
    const m = this.#runs[i]
    if (m === undefined) return attempt()
    return m.run!(job, () => this.#runFrom(i + 1, job, attempt))
  }
}

/** The outer edit, then the inner one; each checked to return a row. */
function chainEdits(outer: RowEdit | undefined, inner: unknown, by: Middleware): RowEdit | undefined {
  if (inner === undefined) return outer
  if (typeof inner !== 'function')
    throw new InvalidArgumentError(
      `Insert middleware ${nameOf(by)} passed next() a ${typeof inner}; pass nothing or a function (row) => row.`,
    )
  const checked = (row: NewJob): NewJob => {
    const edited = (inner as RowEdit)(row)
    if (typeof edited !== 'object' || edited === null)
      throw new InvalidArgumentError(
        `Insert middleware ${nameOf(by)}: its edit returned ${String(edited)}; return the row (changed or not).`,
      )
    return edited
  }
  return outer === undefined ? checked : (row) => checked(outer(row))
}

function nameOf(m: Middleware): string {
  return m.name === undefined ? '(unnamed)' : JSON.stringify(m.name)
}
