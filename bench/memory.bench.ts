/**
 * Memory adapter benchmark: enqueue + assert and drain of N no-op jobs, against a plain-array
 * baseline doing the same bookkeeping by hand. Run: `npm run bench:memory` (N defaults to 100 000).
 */

import { createMemoryQueue } from '../src/adapters/memory/index.js'
import { defineJob } from '../src/core/domain/job-definition.js'

const N = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const job = defineJob<{ i: number }>({ kind: 'noop' })

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

async function conveyorEnqueueAssert(): Promise<number> {
  const queue = createMemoryQueue()
  return timed(async () => {
    await queue.enqueueMany(Array.from({ length: N }, (_, i) => ({ job, payload: { i } })))
    queue.assert.queuedTotal(N)
    queue.assert.queued(job, { i: N - 1 })
  })
}

async function conveyorEnqueueOneByOne(): Promise<number> {
  const queue = createMemoryQueue()
  return timed(async () => {
    for (let i = 0; i < N; i++) await queue.enqueue(job, { i })
  })
}

async function conveyorDrain(): Promise<number> {
  const queue = createMemoryQueue()
  let ran = 0
  queue.register(job, () => {
    ran++
  })
  await queue.enqueueMany(Array.from({ length: N }, (_, i) => ({ job, payload: { i } })))
  const ms = await timed(async () => {
    await queue.drain()
  })
  if (ran !== N) throw new Error(`drain ran ${ran} of ${N}`)
  return ms
}

async function arrayBaseline(): Promise<number> {
  return timed(async () => {
    const jobs: { id: number; kind: string; payload: { i: number }; state: string }[] = []
    for (let i = 0; i < N; i++)
      jobs.push({ id: i + 1, kind: 'noop', payload: structuredClone({ i }), state: 'available' })
    if (jobs.filter((j) => j.state === 'available').length !== N) throw new Error('baseline')
    let ran = 0
    for (const j of jobs) {
      await Promise.resolve(ran++)
      j.state = 'succeeded'
    }
  })
}

const results: Record<string, number[]> = {
  'enqueueMany + assert': [],
  'enqueue one by one': [],
  drain: [],
  'plain array (insert + filter + run)': [],
}
for (let r = 0; r < ROUNDS; r++) {
  results['enqueueMany + assert']!.push(await conveyorEnqueueAssert())
  results['enqueue one by one']!.push(await conveyorEnqueueOneByOne())
  results.drain!.push(await conveyorDrain())
  results['plain array (insert + filter + run)']!.push(await arrayBaseline())
}
console.log(`memory adapter, ${N} jobs, median of ${ROUNDS} rounds`)
for (const [name, xs] of Object.entries(results)) {
  const ms = median(xs)
  console.log(
    `${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${Math.round((N / ms) * 1000)
      .toLocaleString('en-US')
      .padStart(12)} jobs/s`,
  )
}
