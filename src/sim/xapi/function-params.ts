// Parameters of bound OData functions (`Pbx.GetCallLogData(periodFrom=…,sourceType=0,…)`) checked the
// way the real PBX does: a missing, unknown, repeated or syntactically malformed parameter makes the
// route unknown (404); a well-formed literal of the wrong type is a server error (500).
import { ODataError, notFound } from './odata-error.js'
import { parseLiteral, splitTopLevel } from './odata-literal.js'

/** `any`: a parameter whose type the simulator does not check (decimals, enums, collections). */
export type ParamType = 'datetime' | 'int' | 'string' | 'bool' | 'any'
export type ParamSpec = Readonly<Record<string, ParamType>>
export type ParamValue = Date | number | string | boolean | null
export type ParamValues = Record<string, ParamValue>

export const wrongType = (message: string): ODataError => new ODataError(500, 'InternalServerError', message)

/** Parses the text between the function's parentheses against its parameter spec. */
export function parseFunctionParams (fn: string, inner: string, spec: ParamSpec): ParamValues {
  const values: ParamValues = {}
  const missing = (): ODataError => notFound(`No route matches ${fn}(${inner}): it takes (${Object.keys(spec).join(',')}).`)
  const parts = inner.trim() === '' ? [] : splitTopLevel(inner, ',')
  if (parts === null) throw missing()
  for (const part of parts) {
    const m = /^\s*([A-Za-z_]\w*)\s*=(.*)$/s.exec(part)
    if (m === null) throw missing()
    const [, name, raw] = m
    const type = spec[name]
    if (type === undefined || name in values) throw missing()
    const literal = parseLiteral(raw) ?? (type === 'any' ? { type: 'string' as const, value: raw.trim() } : null)
    if (literal === null) throw missing()
    const ok = type === 'any' ? true
      : literal.type === 'null' ? type === 'string'
      : literal.type === 'string' ? type === 'string'
        : literal.type === 'int' ? type === 'int'
          : literal.type === 'bool' ? type === 'bool'
            : literal.type === 'datetime' ? type === 'datetime'
              : false
    if (!ok) throw wrongType(`The parameter '${name}' of ${fn} expects a value of type ${type}, not ${raw.trim()}.`)
    if (literal.type === 'int' && (literal.value > 2_147_483_647 || literal.value < -2_147_483_648)) throw wrongType(`The parameter '${name}' of ${fn} is out of the int32 range.`)
    values[name] = literal.value
  }
  for (const name of Object.keys(spec)) {
    if (!(name in values)) throw missing()
  }
  return values
}

/** `'0:00:30'`, `'00:01:05'`, `'1:5'` (H:MM[:SS]) → milliseconds; a wrong shape is a 500 like any wrong type. */
export function parseTimeSpan (name: string, text: string): number {
  const m = /^(\d{1,3}):(\d{1,2})(?::(\d{1,2}))?$/.exec(text)
  if (m === null) throw wrongType(`The parameter '${name}' expects a time span such as '0:00:30', not '${text}'.`)
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] ?? 0)) * 1000
}
