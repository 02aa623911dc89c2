/**
 * A large backlog in one job group (README, Groups): `--backlog` jobs of one `fifo` group wait in a
 * queue beside `--others` jobs without a group; one process, one worker of concurrency 10, defaults
 * otherwise. Reported per case: the rate of the group's first `--measure` jobs (from the first one's
 * end to the last one's), and how long the ungrouped jobs took to drain. Cases, each in a fresh
 * database of the same server, in one run: the same group with only the measured jobs in it (a
 * `fifo` group runs one job at a time, so this is the rate a group can reach here), and the group
 * with the whole backlog.
 *
 * Only the group's first job can run. Before migration 013 a claim made when the group was free read
 * on past the group's other waiting jobs, checking each against its group, so its cost grew with the
 * backlog; since, those jobs are set aside out of the claim index (docs/storage.md, "A large backlog
 * in one group"), and both cases should run at about the same rate.
 *
 *   npx tsx bench/group-backlog.ts --backlog 5000 --others 2000 --measure 100
 *
 * `--mode release` makes it a `release` group (default `fifo`); `--enqueue single` enqueues the
 * group's jobs one at a time (default `batches` of 1,000), so that claims, not the batch insert, set
 * a `fifo` backlog aside; `--kinds K` spreads the group's jobs over K job kinds in turn (default 1),
 * all handled by the one worker (a `release` group's end releases one job per queue and kind since
 * migration 016, and the next claim sets the others aside again).
 *
 * Each case's database is dropped when the case ends, and every one on any exit.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createPostgresQueue, type PostgresQueue } from '../src/adapters/postgres/index.js'
import { defineJob } from '../src/core/domain/job-definition.js'
import { choiceArg, positiveArg } from './lib/args.js'
import { benchDatabases, type DatabaseFactory } from './lib/resources.js'
import { runScript } from './lib/script.js'

const SCHEMA = 'conveyor'
const CONCURRENCY = 10
const BATCH = 1000

type BenchJob = ReturnType<typeof defineJob<{ n: number }>>

const other: BenchJob = defineJob<{ n: number }>({ kind: 'other' })

/** The group's job kinds: `grouped`, then `grouped-1` and so on. */
function groupedKinds(count: number): BenchJob[] {
  return Array.from({ length: count }, (_, i) =>
    defineJob<{ n: number }>({ kind: i === 0 ? 'grouped' : `grouped-${i}` }),
  )
}

interface CaseResult {
  readonly case: string
  /** Jobs per second of the backlog's first `measure` jobs, from the first one's end to the last one's. */
  readonly backlogJobsPerSecond: number
  /** Seconds until every ungrouped job had run. */
  readonly othersSeconds: number
}

/** How the group's jobs wait for it, and how they are enqueued. */
interface GroupShape {
  readonly mode: 'fifo' | 'release'
  readonly enqueue: 'batches' | 'single'
  /** How many job kinds the group's jobs are spread over, in turn. */
  readonly kinds: number
}

/** Enqueues `n` jobs of `jobs` in turn with these options, in batches (or one at a time with `single`). */
async function enqueueAll(
  queue: PostgresQueue,
  jobs: readonly BenchJob[],
  n: number,
  options: { groupKey?: string; groupMode?: 'fifo' | 'release' },
  single = false,
): Promise<void> {
  for (let start = 0; start < n; start += single ? 1 : BATCH) {
    const size = single ? 1 : Math.min(BATCH, n - start)
    await queue.enqueueMany(
      Array.from({ length: size }, (_, k) => ({
        job: jobs[(start + k) % jobs.length]!,
        payload: { n: start + k },
        options,
      })),
    )
  }
}

async function runCase(
  databases: DatabaseFactory,
  name: string,
  groupKey: string | undefined,
  shape: GroupShape,
  backlog: number,
  others: number,
  measure: number,
): Promise<CaseResult> {
  const { name: database, url } = await databases.create(`groups_${name.replace(/\W/g, '_')}`)
  const queue = createPostgresQueue({
    connectionString: url,
    schema: SCHEMA,
    queues: { default: { concurrency: CONCURRENCY } },
  })
  const backlogDone: number[] = []
  let othersDone = 0
  let othersAt = 0
  const kinds = groupedKinds(shape.kinds)
  for (const job of kinds) {
    queue.register(job, async () => {
      backlogDone.push(performance.now())
    })
  }
  queue.register(other, async () => {
    if (++othersDone === others) othersAt = performance.now()
  })
  try {
    await queue.migrate()
    await enqueueAll(
      queue,
      kinds,
      backlog,
      groupKey === undefined ? {} : { groupKey, groupMode: shape.mode },
      shape.enqueue === 'single',
    )
    await enqueueAll(queue, [other], others, {})
    const t0 = performance.now()
    await queue.start()
    const deadline = t0 + 10 * 60_000
    while (backlogDone.length < measure || othersAt === 0) {
      if (performance.now() > deadline)
        throw new Error(
          `${name}: ${backlogDone.length} of ${measure} backlog jobs, ${othersDone} of ${others} others`,
        )
      await sleep(20)
    }
    return {
      case: name,
      backlogJobsPerSecond: Math.round(
        (measure - 1) / ((backlogDone[measure - 1]! - backlogDone[0]!) / 1000),
      ),
      othersSeconds: Number(((othersAt - t0) / 1000).toFixed(2)),
    }
  } finally {
    await queue.shutdown({ graceMs: 0 }).catch(() => {})
    await databases.drop(database).catch(() => {})
  }
}

async function main(): Promise<number> {
  const backlog = positiveArg('backlog', 5000)
  const others = positiveArg('others', 2000)
  const measure = Math.max(2, Math.min(backlog, positiveArg('measure', 100)))
  const shape: GroupShape = {
    mode: choiceArg('mode', ['fifo', 'release'], 'fifo'),
    enqueue: choiceArg('enqueue', ['batches', 'single'], 'batches'),
    kinds: positiveArg('kinds', 1),
  }
  const databases = await benchDatabases()
  if (!databases) return 3
  try {
    const results: CaseResult[] = []
    for (const size of [measure, backlog])
      results.push(
        await runCase(
          databases,
          `one ${shape.mode} group of ${size}${shape.kinds > 1 ? ` in ${shape.kinds} kinds` : ''}`,
          'tenant-1',
          shape,
          size,
          others,
          measure,
        ),
      )
    process.stdout.write(`${JSON.stringify({ backlog, others, measure, ...shape, results }, null, 2)}\n`)
    return 0
  } finally {
    await databases.dropAll()
  }
}

runScript(main)
