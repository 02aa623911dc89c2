import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const core = join(root, 'src', 'core')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Every import specifier of a file, resolved to a path when relative. */
function importsOf(file: string): { spec: string; target: string | null }[] {
  const text = readFileSync(file, 'utf8')
  return [
    ...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => {
    const spec = m[1] ?? m[2]!
    return { spec, target: spec.startsWith('.') ? join(file, '..', spec) : null }
  })
}

/** The clock module: the only file of src/core that may touch the host's time and timers. */
const CLOCK_MODULE = join(core, 'ports', 'clock.ts')

/** Calls that read the wall clock or arm a host timer (method calls such as `clock.setTimeout` are fine). */
function timerUses(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    const line = () => source.getLineAndCharacterOfPosition(node.getStart()).line + 1
    if (ts.isCallExpression(node)) {
      const callee = node.expression
      if (ts.isIdentifier(callee) && /^set(Timeout|Interval)$/.test(callee.text))
        found.push(`${callee.text} (line ${line()})`)
      if (
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        (callee.expression.text === 'Date' || callee.expression.text === 'globalThis') &&
        /^(now|setTimeout|setInterval)$/.test(callee.name.text)
      )
        found.push(`${callee.expression.text}.${callee.name.text} (line ${line()})`)
    }
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'Date' &&
      (node.arguments === undefined || node.arguments.length === 0)
    )
      found.push(`new Date() (line ${line()})`)
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/**
 * Imports allowed in src/core besides relative ones inside it: Node built-ins and small pure
 * libraries. Not OpenTelemetry: tracing is middleware in src/instrumentation.
 */
const ALLOWED = [/^node:/, /^cron-parser$/, /^@standard-schema\/spec$/]

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

  it('src/core never reads the wall clock or process.env, nor arms a host timer, outside the clock module', () => {
    const offenders: string[] = []
    for (const file of files(core)) {
      if (/process\.env/.test(readFileSync(file, 'utf8')))
        offenders.push(`${relative(root, file)}: process.env`)
      if (file === CLOCK_MODULE) continue
      for (const use of timerUses(file)) offenders.push(`${relative(root, file)}: ${use}`)
    }
    expect(offenders).toEqual([])
  })

  it('the timer check finds what it must (and not method calls on a clock)', () => {
    const sample = join(root, 'test', 'architecture', 'fixtures', 'timers.ts.txt')
    expect(timerUses(sample).map((u) => u.replace(/ \(line \d+\)/, ''))).toEqual([
      'setTimeout',
      'setInterval',
      'Date.now',
      'new Date()',
      'globalThis.setTimeout',
    ])
  })

  it('src/core/domain imports nothing from runtime/, maintenance/ or config/', () => {
    const domain = join(core, 'domain')
    const offenders: string[] = []
    for (const file of files(domain)) {
      for (const { spec, target } of importsOf(file)) {
        if (target === null) continue
        const where = relative(core, target).split(/[\\/]/)[0]
        if (where === 'runtime' || where === 'maintenance' || where === 'config')
          offenders.push(`${relative(root, file)} -> ${spec}`)
      }
    }
    expect(offenders).toEqual([])
  })

  it('core/defaults.ts is a leaf: it imports nothing', () => {
    expect(importsOf(join(core, 'defaults.ts'))).toEqual([])
  })
})
