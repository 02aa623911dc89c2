/** Command-line options of `bench/pressure.ts`. */
import { CANDIDATE_IDS } from '../candidates/registry.js'

/**
 * The systems the pressure scenario can run: the two libraries, Conveyor with every claim from the
 * front of the claim index (`conveyor-front`: `claimCursor.fullScanIntervalMs: 0`, the claim before
 * the keyset claim) and every storage candidate.
 */
export const PRESSURE_SYSTEMS: readonly string[] = [
  'conveyor',
  'conveyor-front',
  'graphile-worker',
  ...CANDIDATE_IDS,
]

/** Parsed options of one pressure run. */
export interface PressureOptions {
  /** Jobs per second the producer inserts (one batch every 10 ms). */
  readonly rate: number
  /** Phase lengths, seconds. */
  readonly warmup: number
  readonly clean: number
  readonly hold: number
  readonly recovery: number
  /** Seconds between reports. */
  readonly interval: number
  /** Seconds between database-wide VACUUMs (autovacuum is off on these servers). */
  readonly vacuumEvery: number
  /** The handler's duration, ms. */
  readonly handlerMs: number
  /** Seconds to wait for the backlog to drain after the producer stops. */
  readonly drainTimeout: number
  readonly systems: readonly string[]
  /** EXPLAIN (ANALYZE, BUFFERS) of the claim at the end of the held phase (candidates and conveyor). */
  readonly explain: boolean
  readonly out: string
  readonly markdown: string | null
  readonly postgresUrl: string
}

const USAGE = `Usage: npm run bench:pressure -- [options]
  --rate N            jobs per second, one batch every 10 ms (default 2000)
  --warmup S          warm-up phase, seconds (default 20)
  --clean S           clean phase, seconds (default 60)
  --hold S            held phase: an idle REPEATABLE READ transaction holds the xmin horizon (default 120)
  --recovery S        recovery phase after the transaction ends, seconds (default 60)
  --interval S        seconds between reports (default 5)
  --vacuum-every S    seconds between database-wide VACUUMs (default 10)
  --handler-ms N      handler duration (default 1)
  --drain-timeout S   seconds allowed to drain the backlog at the end (default 120)
  --systems a,b       systems to run, in order (default all: ${PRESSURE_SYSTEMS.join(',')})
  --explain           EXPLAIN (ANALYZE, BUFFERS) of the claim at the end of the held phase
  --out PATH          JSON results (default bench/results/pressure.json)
  --markdown PATH     Markdown report, or "none" (default bench/results/pressure.md)
  --postgres URL      admin connection string (default $BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)`

const NUMBERS = {
  rate: 2000,
  warmup: 20,
  clean: 60,
  hold: 120,
  recovery: 60,
  interval: 5,
  'vacuum-every': 10,
  'handler-ms': 1,
  'drain-timeout': 120,
} as const

/** Parses `argv` (without node and script); throws with the usage text on a bad flag. */
export function parsePressureArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): PressureOptions {
  const values = new Map<string, string | true>()
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!
    if (arg === '--help' || arg === '-h') throw new Error(USAGE)
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`)
    const eq = arg.indexOf('=')
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1))
    else if (arg === '--explain') values.set('explain', true)
    else {
      const next = argv[k + 1]
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`)
      values.set(arg.slice(2), next)
      k++
    }
  }
  const known = new Set([...Object.keys(NUMBERS), 'systems', 'explain', 'out', 'markdown', 'postgres'])
  for (const key of values.keys()) if (!known.has(key)) throw new Error(`unknown option --${key}\n${USAGE}`)
  const str = (key: string) => {
    const v = values.get(key)
    return typeof v === 'string' ? v : undefined
  }
  const num = (key: keyof typeof NUMBERS) => {
    const v = Number(str(key) ?? NUMBERS[key])
    const zeroOk = key === 'warmup' || key === 'recovery' || key === 'handler-ms'
    if (!Number.isFinite(v) || v < 0 || (v === 0 && !zeroOk))
      throw new Error(`--${key} must be a ${zeroOk ? 'non-negative' : 'positive'} number, got ${str(key)}`)
    return v
  }
  const systems = (str('systems') ?? PRESSURE_SYSTEMS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const s of systems)
    if (!PRESSURE_SYSTEMS.includes(s))
      throw new Error(`unknown system ${s}; known: ${PRESSURE_SYSTEMS.join(', ')}`)
  const markdown = str('markdown') ?? 'bench/results/pressure.md'
  return {
    rate: num('rate'),
    warmup: num('warmup'),
    clean: num('clean'),
    hold: num('hold'),
    recovery: num('recovery'),
    interval: num('interval'),
    vacuumEvery: num('vacuum-every'),
    handlerMs: num('handler-ms'),
    drainTimeout: num('drain-timeout'),
    systems,
    explain: values.get('explain') === true,
    out: str('out') ?? 'bench/results/pressure.json',
    markdown: markdown === 'none' ? null : markdown,
    postgresUrl: str('postgres') ?? env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  }
}
