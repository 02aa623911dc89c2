/**
 * The held-horizon pressure scenario (issue 19, PERFORMANCE.md's method):
 * `npm run bench:pressure -- --rate 2000 --hold 120 --systems conveyor,graphile-worker,A`.
 * Runs each system in turn on a fresh database (see pressure/run-system.ts), then writes the JSON
 * results and a Markdown report. Every database and worker process it creates is removed on any exit.
 */
import os from 'node:os'
import pg from 'pg'
import { checkPostgres, DatabaseFactory, killChildren } from './lib/resources.js'
import { parsePressureArgs } from './pressure/options.js'
import { runPressureSystem } from './pressure/run-system.js'
import {
  type PressureReport,
  summarize,
  writePressureJson,
  writePressureMarkdown,
} from './pressure/summary.js'

function log(message: string): void {
  process.stderr.write(`[pressure ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parsePressureArgs>
  try {
    options = parsePressureArgs(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
  const problem = await checkPostgres(options.postgresUrl)
  if (problem) {
    log(problem)
    return 3
  }
  const databases = new DatabaseFactory(options.postgresUrl)
  const cleanup = async () => {
    killChildren()
    await databases.dropAll()
  }
  process.on('exit', killChildren)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`)
      void cleanup().finally(() => process.exit(130))
    })
  }
  try {
    const stale = await databases.dropStale()
    if (stale.length) log(`dropped ${stale.length} databases left by earlier runs`)
    const runs: PressureReport['runs'] = []
    for (const system of options.systems) {
      log(`${system}: start`)
      const run = await runPressureSystem(system, options, databases, log)
      runs.push({
        system,
        failure: run.failure,
        summary: summarize(run),
        windows: run.windows,
        explain: run.explain,
      })
    }
    const report: PressureReport = {
      generatedAt: new Date().toISOString(),
      options,
      machine: {
        cores: os.cpus().length,
        postgres: await serverVersion(options.postgresUrl),
        loadAverage: os.loadavg(),
      },
      runs,
    }
    await writePressureJson(options.out, report)
    log(`wrote ${options.out}`)
    if (options.markdown) {
      await writePressureMarkdown(options.markdown, report)
      log(`wrote ${options.markdown}`)
    }
    return 0
  } finally {
    await cleanup()
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]!.server_version
  } finally {
    await client.end()
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`harness error: ${(error as Error).stack ?? String(error)}`)
    killChildren()
    process.exit(1)
  },
)
