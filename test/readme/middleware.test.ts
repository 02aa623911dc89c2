import { AsyncLocalStorage } from 'node:async_hooks'
import { defineJob, type Middleware } from 'conveyor-jobs'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import { expect, test } from 'vitest'

// The tenant of the request being served, carried into the jobs it enqueues and around their runs.
const tenant = new AsyncLocalStorage<string>()

const tenantMiddleware: Middleware = {
  name: 'tenant',
  // Wraps each enqueue call: stamps the caller's tenant into every job before it is stored.
  insert: (_call, next) => {
    const current = tenant.getStore()
    if (current === undefined) return next()
    return next((row) => ({ ...row, metadata: { ...row.metadata, tenant: current } }))
  },
  // Wraps each attempt: the handler runs with the job's tenant.
  run: (job, next) => tenant.run(String(job.metadata.tenant), next),
}

const sendInvoice = defineJob<{ invoiceId: number }>({ kind: 'send-invoice' })

test('the tenant of the request reaches the handler', async () => {
  const queue = createMemoryQueue({ middleware: [tenantMiddleware] })
  const seen: (string | undefined)[] = []
  queue.register(sendInvoice, async () => {
    seen.push(tenant.getStore())
  })

  await tenant.run('acme', () => queue.enqueue(sendInvoice, { invoiceId: 1 }))
  await queue.drain()

  expect(seen).toEqual(['acme'])
  expect(queue.getFirstOf(sendInvoice)?.metadata).toEqual({ tenant: 'acme' })
})
