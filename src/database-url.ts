// DATABASE_URL: which PostgreSQL holds the gateway's state (unset: the SQLite file in DATA_DIR, the
// default). Parsed here so a bad URL is refused at start with a sentence naming what to fix, and
// written anywhere (errors, logs, describeConfig) only through redactDatabaseUrl: the password never
// leaves this module.

/** What was wrong with DATABASE_URL, or the URL to connect to. */
export type DatabaseUrlResult = { ok: true, url: string } | { ok: false, problem: string }

/** The URL with its password (if any) replaced by `***`, for messages and logs. */
export function redactDatabaseUrl (raw: string): string {
  try {
    const u = new URL(raw)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    // Not a URL: hide whatever sits between "://user:" and "@" all the same.
    return raw.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@')
  }
}

/** Checks DATABASE_URL: postgres:// or postgresql://, a host and a database name. */
export function parseDatabaseUrl (raw: string): DatabaseUrlResult {
  const shown = redactDatabaseUrl(raw)
  const fix = 'expected postgres://USER:PASSWORD@HOST:5432/DATABASE (or leave DATABASE_URL unset to keep the state in the SQLite file in DATA_DIR)'
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return { ok: false, problem: `DATABASE_URL: "${shown}" is not a URL; ${fix}` }
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    return { ok: false, problem: `DATABASE_URL: "${shown}" uses ${u.protocol.replace(/:$/, '')}://; only PostgreSQL is supported, ${fix}` }
  }
  if (u.hostname === '') return { ok: false, problem: `DATABASE_URL: "${shown}" names no host; ${fix}` }
  if (u.pathname.replace(/^\//, '') === '') return { ok: false, problem: `DATABASE_URL: "${shown}" names no database; ${fix}` }
  return { ok: true, url: raw }
}
