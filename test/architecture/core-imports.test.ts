import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const core = join(root, 'src', 'core')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Imports allowed in src/core besides relative ones inside it: Node built-ins and small pure libraries. */
const ALLOWED = [/^node:/, /^cron-parser$/, /^@standard-schema\/spec$/, /^@opentelemetry\/api$/]

describe('architecture', () => {
  it('src/core imports nothing outside src/core except allowed pure libraries', () => {
    const offenders: string[] = []
    for (const file of files(core)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(
        /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      )) {
        const spec = m[1] ?? m[2]!
        if (spec.startsWith('.')) {
          const target = join(file, '..', spec)
          if (relative(core, target).startsWith('..')) offenders.push(`${relative(root, file)} -> ${spec}`)
        } else if (!ALLOWED.some((re) => re.test(spec))) {
          offenders.push(`${relative(root, file)} -> ${spec}`)
        }
      }
    }
    expect(offenders).toEqual([])
  })

  it('src/core never reads the wall clock or process.env directly', () => {
    const offenders: string[] = []
    for (const file of files(core)) {
      if (file.endsWith('clock.ts')) continue
      const text = readFileSync(file, 'utf8')
      if (/Date\.now\(\)|new Date\(\)|process\.env/.test(text)) offenders.push(relative(root, file))
    }
    expect(offenders).toEqual([])
  })
})
