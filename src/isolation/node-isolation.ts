/**
 * The Node implementation of the core's `IsolationHost`: one pool of worker threads or child
 * processes per handler module and mode, and the handler that bridges an attempt's context across
 * (payload, job, attempt, state, schedule, log lines, state changes, controls, the trace context).
 */
import { context } from '@opentelemetry/api'
import { InvalidArgumentError } from '../core/domain/errors.js'
import type { JobContext, JobHandler } from '../core/ports/queue.js'
import type { IsolatedModuleSpec, IsolationHost } from '../core/runtime/isolation/isolation-host.js'
import { injectTraceContext } from '../instrumentation/tracing.js'
import { decodeValue } from './protocol.js'
import { findTsx, isTypeScript, runnerEntry, spawnRunner } from './runner.js'
import { RunnerPool } from './runner-pool.js'

/** Creates the isolation host of one queue (each queue owns its pools; nothing is shared globally). */
export function createNodeIsolation(): IsolationHost {
  const pools = new Map<string, RunnerPool>()
  const here = import.meta.url
  return {
    handlerFor(spec: IsolatedModuleSpec): JobHandler<unknown> {
      if (!(spec.module instanceof URL) || spec.module.protocol !== 'file:')
        throw new InvalidArgumentError(
          `An isolated handler module must be a file: URL; got ${String(spec.module)}.`,
        )
      const entry = runnerEntry(here)
      const tsx = isTypeScript(entry) || isTypeScript(spec.module) ? findTsx(spec.module, here) : null
      const key = JSON.stringify([spec.mode, spec.module.href, spec.execArgv, spec.abortGraceMs])
      let pool = pools.get(key)
      if (!pool) {
        pool = new RunnerPool(
          spec.mode,
          () => spawnRunner({ mode: spec.mode, entry, tsx, execArgv: spec.execArgv }),
          { abortGraceMs: spec.abortGraceMs },
        )
        pools.set(key, pool)
      }
      return isolatedHandler(pool, spec.module.href)
    },
    async close(): Promise<void> {
      await Promise.all([...pools.values()].map((pool) => pool.close()))
    },
  }
}

/** The handler the executor calls: runs the attempt in the pool and settles as the module's handler did. */
function isolatedHandler(pool: RunnerPool, module: string): JobHandler<unknown> {
  return async (payload: unknown, ctx: JobContext) => {
    // The run's span is the active context here: its W3C trace context goes with the attempt.
    const trace = injectTraceContext(context.active()) ?? {}
    const end = await pool.run(
      { type: 'run', module, payload, job: ctx.job, state: ctx.state, schedule: ctx.schedule, trace },
      {
        onLog: (line) => ctx.log[line.level](line.message, line.fields),
        onState: (state) => ctx.setState(state),
      },
      ctx.signal,
    )
    const value = decodeValue(end.value)
    if (end.kind === 'thrown') throw value
    return value
  }
}
