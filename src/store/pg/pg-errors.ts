// Which PostgreSQL errors mean "the database cannot be reached or written" (reported to storage
// health and retried) rather than "this statement is wrong" (a bug: thrown).

/** SQLSTATE classes: 08 connection, 53 insufficient resources, 57 operator intervention, 58 system error. */
const STORAGE_SQLSTATE = /^(08|53|57|58)/
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
/** Messages node-postgres gives to a connection it lost or could not open in time. */
const LOST = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|pool after calling end/i

export function isPgStorageError (err: unknown): boolean {
  const e = err as { code?: unknown, message?: unknown } | null
  if (e === null || typeof e !== 'object') return false
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || (e.code.length === 5 && STORAGE_SQLSTATE.test(e.code)) || e.code === '25006')) return true
  return typeof e.message === 'string' && LOST.test(e.message)
}
