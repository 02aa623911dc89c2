/** Facts about the machine and software a benchmark ran on, for the report. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { promisify } from 'node:util'
import pg from 'pg'
import type { RedisLocation } from './types.js'

const run = promisify(execFile)

/** What the report says about where it was measured. */
export interface MachineInfo {
  readonly date: string
  readonly cores: number
  /** 1, 5 and 15 minute load averages when the run started (other work on a shared machine). */
  readonly loadAverage: number[]
  readonly cpu: string
  readonly memoryGb: number
  readonly os: string
  readonly node: string
  readonly postgres: string
  readonly postgresSettings: Record<string, string>
  readonly redis: string | null
  readonly packages: Record<string, string>
  /** The Conveyor source measured: commit, and whether the work tree had uncommitted changes. */
  readonly conveyorRevision: string
  /** Peak RSS of an idle `node` process: the floor under every worker child's figure. */
  readonly idleNodeRssMb: number | null
}

/** Collects the machine facts (best effort: a fact that cannot be read is reported as unknown). */
export async function collectMachineInfo(
  postgresUrl: string,
  redis: RedisLocation | null,
): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: postgresUrl })
  client.on('error', () => {})
  let postgres = 'unknown'
  const postgresSettings: Record<string, string> = {}
  try {
    await client.connect()
    postgres = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version
    for (const name of ['shared_buffers', 'fsync', 'synchronous_commit', 'max_connections']) {
      postgresSettings[name] = (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name]!
    }
  } catch {
    // reported as unknown
  } finally {
    await client.end().catch(() => {})
  }
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
    postgresSettings,
    redis: redis ? await redisVersion(redis) : null,
    packages: Object.fromEntries(
      ['pg', 'pg-boss', 'graphile-worker', 'bullmq', 'ioredis', 'tsx'].map((name) => [
        name,
        packageVersion(name),
      ]),
    ),
    idleNodeRssMb: await idleRss(),
    conveyorRevision: await revision(),
  }
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

async function redisVersion(location: RedisLocation): Promise<string | null> {
  try {
    const { Redis } = await import('ioredis')
    const r = new Redis({ host: location.host, port: location.port, lazyConnect: true })
    r.on('error', () => {})
    try {
      await r.connect()
      return /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown'
    } finally {
      r.disconnect()
    }
  } catch {
    return null
  }
}

async function revision(): Promise<string> {
  try {
    const cwd = new URL('../..', import.meta.url)
    const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd })).stdout.trim()
    const dirty = (
      await run('git', ['status', '--porcelain', '--', 'src', 'migrations'], { cwd })
    ).stdout.trim()
    return dirty ? `${head} with uncommitted changes in src/ or migrations/` : head
  } catch {
    return 'unknown'
  }
}

async function idleRss(): Promise<number | null> {
  try {
    const script =
      "const s=require('fs').readFileSync('/proc/self/status','utf8');console.log(/VmHWM:\\s+(\\d+)/.exec(s)[1])"
    const { stdout } = await run(process.execPath, ['-e', script])
    return Math.round(Number(stdout.trim()) / 102.4) / 10
  } catch {
    return null
  }
}
