// OData literals as they appear in key segments and function parameters (`Users(Number='O''Brien')`,
// `GetCallLogData(periodFrom=2025-01-01T00:00:00Z,sourceType=0,hidePcalls=true)`), and the
// quote-aware splitting those need. Pure; the parser package covers $filter but not these paths.

export type ODataLiteral =
  | { type: 'string', value: string }
  | { type: 'int', value: number }
  | { type: 'decimal', value: number }
  | { type: 'bool', value: boolean }
  | { type: 'datetime', value: Date }
  | { type: 'null', value: null }

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})$/

/** Parses one literal; `null` when it is not a well-formed literal at all. */
export function parseLiteral (raw: string): ODataLiteral | null {
  const text = raw.trim()
  if (text.startsWith("'")) {
    const value = unquote(text)
    return value === null ? null : { type: 'string', value }
  }
  if (text === 'true' || text === 'false') return { type: 'bool', value: text === 'true' }
  if (text === 'null') return { type: 'null', value: null }
  if (/^-?\d+$/.test(text)) return { type: 'int', value: Number(text) }
  if (/^-?\d+\.\d+$/.test(text)) return { type: 'decimal', value: Number(text) }
  if (DATE_TIME.test(text)) {
    const value = new Date(text)
    return Number.isNaN(value.getTime()) ? null : { type: 'datetime', value }
  }
  return null
}

/** `'O''Brien'` → `O'Brien`; `null` when the quotes are unbalanced. */
export function unquote (text: string): string | null {
  if (text.length < 2 || !text.startsWith("'") || !text.endsWith("'")) return null
  const inner = text.slice(1, -1)
  if (inner.replace(/''/g, '').includes("'")) return null
  return inner.replace(/''/g, "'")
}

/**
 * Splits on `separator` outside single-quoted strings and parentheses. Returns `null` on an unclosed
 * quote or unbalanced parentheses.
 */
export function splitTopLevel (text: string, separator: string): string[] | null {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === "'") {
        if (text[i + 1] === "'") i++
        else quoted = false
      }
      continue
    }
    if (ch === "'") quoted = true
    else if (ch === '(') depth++
    else if (ch === ')') {
      depth--
      if (depth < 0) return null
    } else if (ch === separator && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  if (quoted || depth !== 0) return null
  parts.push(text.slice(start))
  return parts
}
