/** The admin page depends on the public queue API only, so it works on every adapter. */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { expect, it } from 'vitest'

const admin = join(import.meta.dirname, '..', '..', 'src', 'admin')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

it('src/admin imports no adapter, and from the core only the public API and pure helpers', () => {
  const allowedCore =
    /\/core\/(ports\/queue|ports\/store|domain\/job|domain\/job-definition|domain\/json|domain\/errors|domain\/storage-health|domain\/schedules\/expression|domain\/edit-distance)\.js$/
  const offenders: string[] = []
  for (const file of files(admin)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1] ?? ''
      const bad =
        spec.includes('/adapters/') ||
        (spec.includes('/core/') && !allowedCore.test(spec)) ||
        (!spec.startsWith('.') && !/^(node:|fastify$)/.test(spec))
      if (bad) offenders.push(`${relative(admin, file)} -> ${spec}`)
    }
  }
  expect(offenders).toEqual([])
})

it('keeps every file small', () => {
  const long = files(admin).filter((f) => readFileSync(f, 'utf8').split('\n').length > 300)
  expect(long).toEqual([])
})

it('the pages, the form actions and the JSON API reach the queue only through the shared operations', () => {
  const faces = ['routes/pages.ts', 'routes/actions.ts', 'api/routes-jobs.ts', 'api/routes-queues.ts']
  const direct = faces.flatMap((face) =>
    [...readFileSync(join(admin, face), 'utf8').matchAll(/ctx\.queue\.(\w+)/g)]
      .map((m) => m[1])
      .filter((member) => member !== 'clock')
      .map((member) => `${face}: ctx.queue.${member}`),
  )
  expect(direct).toEqual([])
  for (const face of faces)
    expect(readFileSync(join(admin, face), 'utf8'), face).toContain("from '../operations/")
})
