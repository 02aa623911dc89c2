/** Command-line options of `bench/run.ts`. */
import { QUEUE_SYSTEMS, type QueueSystem, WORKLOADS, type WorkloadId } from './types.js'

/** Parsed options of one harness run. */
export interface BenchOptions {
  /** Rounds per workload (each round runs every system once, interleaved). */
  readonly rounds: number
  readonly workloads: readonly WorkloadId[]
  readonly systems: readonly QueueSystem[]
  /** W0's storage candidates (issue 19) by id, or null for all of them. */
  readonly candidates: readonly string[] | null
  /** Multiplies every job count. */
  readonly scale: number
  /** Finished rows W6 keeps in the table, before `scale` (default 1,000,000). */
  readonly retained: number
  /** Where the JSON results go. */
  readonly out: string
  /** Where the Markdown report goes, or null for none. */
  readonly markdown: string | null
  /** Short idle times and drain budgets, for the smoke test. */
  readonly quick: boolean
  /** Admin connection string of the PostgreSQL server (databases are created from it). */
  readonly postgresUrl: string
  readonly redisHost: string
  readonly redisPort: number
  /** Redis logical db the harness flushes and uses. */
  readonly redisDb: number
}

const USAGE = `Usage: npm run bench -- [options]
  --rounds N          rounds per workload (default 3)
  --only W1,W3,...    workloads to run (default all: ${WORKLOADS.join(',')})
  --systems a,b       queue systems (default all: ${QUEUE_SYSTEMS.join(',')})
  --candidates a,b    W0's storage candidates by id (default all; e.g. baseline,G,H)
  --scale F           multiply job counts by F (default 1)
  --retained N        finished rows W6 retains (default 1000000; scaled by --scale)
  --out PATH          JSON results (default bench/results/latest.json)
  --markdown PATH     Markdown report, or "none" (default BENCHMARKS.md)
  --quick             short idle times and drain budgets (smoke test)
  --postgres URL      admin connection string (default $BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --redis HOST:PORT   Redis (default 127.0.0.1:6379)
  --redis-db N        Redis db to flush and use (default 9)`

/** Parses `argv` (without node and script); throws with the usage text on a bad flag. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const values = new Map<string, string | true>()
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!
    if (arg === '--help' || arg === '-h') throw new Error(USAGE)
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`)
    const eq = arg.indexOf('=')
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1))
    else if (arg === '--quick') values.set('quick', true)
    else {
      const next = argv[k + 1]
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`)
      values.set(arg.slice(2), next)
      k++
    }
  }
  const known = new Set([
    'rounds',
    'only',
    'systems',
    'candidates',
    'scale',
    'retained',
    'out',
    'markdown',
    'quick',
    'postgres',
    'redis',
    'redis-db',
  ])
  for (const key of values.keys()) if (!known.has(key)) throw new Error(`unknown option --${key}\n${USAGE}`)
  const str = (key: string): string | undefined => {
    const v = values.get(key)
    return typeof v === 'string' ? v : undefined
  }

  const rounds = Number(str('rounds') ?? 3)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer')
  const scale = Number(str('scale') ?? 1)
  if (!(scale > 0)) throw new Error('--scale must be a positive number')
  const retained = Number(str('retained') ?? 1_000_000)
  if (!Number.isInteger(retained) || retained < 1) throw new Error('--retained must be a positive integer')

  const workloads = list(str('only')).map((w) => w.toUpperCase())
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w))
      throw new Error(`unknown workload ${w}; known: ${WORKLOADS.join(', ')}`)
  }
  const systems = list(str('systems'))
  for (const s of systems) {
    if (!(QUEUE_SYSTEMS as readonly string[]).includes(s))
      throw new Error(`unknown system ${s}; known: ${QUEUE_SYSTEMS.join(', ')}`)
  }
  const [redisHost, redisPort] = (str('redis') ?? '127.0.0.1:6379').split(':')
  const markdown = str('markdown') ?? 'BENCHMARKS.md'
  return {
    rounds,
    workloads: workloads.length ? (workloads as WorkloadId[]) : [...WORKLOADS],
    systems: systems.length ? (systems as QueueSystem[]) : [...QUEUE_SYSTEMS],
    candidates: str('candidates') === undefined ? null : list(str('candidates')),
    scale,
    retained,
    out: str('out') ?? 'bench/results/latest.json',
    markdown: markdown === 'none' ? null : markdown,
    quick: values.get('quick') === true,
    postgresUrl: str('postgres') ?? env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisHost: redisHost || '127.0.0.1',
    redisPort: Number(redisPort ?? 6379),
    redisDb: Number(str('redis-db') ?? 9),
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** A positive number given as `--name N` to a stand-alone bench script, or `fallback` when absent. */
export function positiveArg(name: string, fallback: number, argv: readonly string[] = process.argv): number {
  const at = argv.indexOf(`--${name}`)
  if (at < 0) return fallback
  const value = Number(argv[at + 1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`)
  return value
}

/** A string given as `--name value` to a stand-alone bench script, or `fallback` when absent. */
export function stringArg(name: string, fallback: string, argv: readonly string[] = process.argv): string {
  const at = argv.indexOf(`--${name}`)
  if (at < 0) return fallback
  const value = argv[at + 1]
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`)
  return value
}

/** One of `choices` given as `--name value` to a stand-alone bench script, or `fallback` when absent. */
export function choiceArg<const C extends string>(
  name: string,
  choices: readonly C[],
  fallback: C,
  argv: readonly string[] = process.argv,
): C {
  const at = argv.indexOf(`--${name}`)
  if (at < 0) return fallback
  const value = argv[at + 1]
  const choice = choices.find((c) => c === value)
  if (choice === undefined)
    throw new Error(`--${name} needs one of ${choices.join(', ')}; got ${String(value)}`)
  return choice
}
