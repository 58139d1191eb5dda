// An XAPI resource path split into OData segments: `Users(Number='O''Brien')/ForwardingProfiles` →
// [{name:'Users', args:"Number='O''Brien'"}, {name:'ForwardingProfiles'}]. Pure.
import { parseLiteral, splitTopLevel } from './odata-literal.js'

export interface PathSegment {
  name: string
  /** Text between the parentheses (key or function parameters), undefined when there are none. */
  args?: string
}

const SEGMENT = /^([A-Za-z_][\w.]*)(?:\((.*)\))?$/s

/** Splits a decoded path (without the `/xapi/v1` prefix or query). `null` when it is not well formed. */
export function parseResourcePath (path: string): PathSegment[] | null {
  const trimmed = path.replace(/^\/+|\/+$/g, '')
  if (trimmed === '') return null
  const parts = splitTopLevel(trimmed, '/')
  if (parts === null) return null
  const segments: PathSegment[] = []
  for (const part of parts) {
    const m = SEGMENT.exec(part)
    if (m === null) return null
    segments.push(m[2] === undefined ? { name: m[1] } : { name: m[1], args: m[2] })
  }
  return segments
}

export type EntityKey = { kind: 'id', id: number } | { kind: 'number', number: string }

/** `42` → by Id; `Number='101'` → alternate key. `null` for anything else. */
export function parseEntityKey (args: string): EntityKey | null {
  const byId = parseLiteral(args)
  if (byId?.type === 'int') return { kind: 'id', id: byId.value }
  const m = /^\s*Number\s*=(.*)$/s.exec(args)
  if (m === null) return null
  const literal = parseLiteral(m[1])
  return literal?.type === 'string' ? { kind: 'number', number: literal.value } : null
}
