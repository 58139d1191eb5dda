// The command line's vocabulary: every command with its arguments and flags, in one table. The help
// texts and the flag parsing both come from it, so a flag added here is parsed, listed in
// `3cx-gateway --help` and explained in `3cx-gateway <command> --help` at once.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { REPORT_KINDS } from './reports/report-kinds.js'
import { VERSION } from './version.js'

export interface CliOption {
  name: string
  /** The value's placeholder (`N`, `DIR`); absent = an on/off flag. */
  value?: string
  short?: string
  /** Shown without brackets in the usage line. */
  required?: boolean
  help: string
}

export interface CliCommand {
  /** `serve`, or two words for a command with a sub-command (`recordings convert`). */
  name: string
  /** Positional arguments as shown in the usage line (`<dir>`). */
  args?: string
  /** How many positional arguments the command takes at most. */
  maxPositionals: number
  summary: string
  options: CliOption[]
  /** More lines under the flags: what the values look like, what the command needs. */
  details?: string
}

export const COMMANDS: readonly CliCommand[] = [
  {
    name: 'serve',
    maxPositionals: 0,
    summary: 'start the gateway (the default command); demo mode with a built-in 3CX simulator when PBX_URL is unset',
    options: [],
    details: 'Settings come from the environment and .env: PBX_URL, PBX_CLIENT_ID, PBX_CLIENT_SECRET and GATEWAY_KEYS for a real PBX;\n' +
      'HOST, PORT, TLS_CERT/TLS_KEY, LOG_FORMAT, SIM_PORT (demo mode) and the rest in .env.example.'
  },
  {
    name: 'sim',
    maxPositionals: 0,
    summary: 'run the 3CX V20 simulator alone (a test PBX for the gateway or your own code)',
    options: [
      { name: 'port', value: 'N', help: 'port to listen on (default 5001; 0 = any free port)' },
      { name: 'host', value: 'ADDR', help: 'address to listen on (default 127.0.0.1)' },
      { name: 'recordings', value: 'DIR', help: 'folder for the simulated WAV recordings (default: a temporary folder)' },
      { name: 'seed', value: 'N', help: 'seed of the simulated traffic and ids (default 1)' },
      { name: 'tls', help: 'serve https and wss with a self-signed certificate generated at start' },
      { name: 'cert', value: 'FILE', help: 'serve https and wss with this PEM certificate (with --key)' },
      { name: 'key', value: 'FILE', help: 'the PEM private key of --cert' },
      { name: 'pbx', value: 'FILE', help: 'the PBX to simulate, a YAML definition (default: the built-in one, pbx/default.yaml; or SIM_PBX)' },
      { name: 'state', value: 'FILE', help: 'keep the PBX\'s changes (created or changed entities) in this JSON file across restarts' }
    ],
    details: 'It prints the command that starts a gateway connected to it. With TLS, see docs/simulator.md "TLS" for trusting the certificate.'
  },
  {
    name: 'sim snapshot',
    maxPositionals: 0,
    summary: 'write a PBX definition (YAML for sim --pbx) read from a PBX\'s XAPI',
    options: [
      { name: 'out', value: 'FILE', required: true, help: 'the YAML file to write' },
      { name: 'url', value: 'URL', help: 'the PBX (default PBX_URL)' },
      { name: 'client-id', value: 'ID', help: 'its API client (default PBX_CLIENT_ID)' },
      { name: 'secret', value: 'S', help: 'the API client\'s secret (default PBX_CLIENT_SECRET; prefer the variable: a flag shows in the process list)' },
      { name: 'keep-names', help: 'keep real names and numbers (default: pseudonymised)' }
    ],
    details: 'The secret is never written to the file; the definition gets the simulator\'s own API client.'
  },
  {
    name: 'doctor',
    maxPositionals: 0,
    summary: 'check the configured PBX step by step (in demo mode: the built-in simulator)',
    options: [],
    details: 'Needs PBX_URL, PBX_CLIENT_ID and PBX_CLIENT_SECRET (unset PBX_URL = demo mode); not GATEWAY_KEYS.'
  },
  {
    name: 'export',
    args: `<${REPORT_KINDS.join('|')}>`,
    maxPositionals: 1,
    summary: 'write a report into a file (json, csv or xlsx)',
    options: [
      { name: 'from', value: 'DATE', required: true, help: 'first day or moment (required)' },
      { name: 'to', value: 'DATE', required: true, help: 'last day (included) or moment (required)' },
      { name: 'ext', value: 'N', help: 'only this extension (history, calllog)' },
      { name: 'answered', value: 'on|off', help: 'only answered / unanswered calls (calllog)' },
      { name: 'queue', value: 'N[,N…]', help: 'the queues (required for abandoned and queueperf)' },
      { name: 'wait', value: 'SECONDS', help: 'only calls that waited at least this long (abandoned)' },
      { name: 'top', value: 'N', help: 'at most N rows' },
      { name: 'skip', value: 'N', help: 'leave out the first N rows' },
      { name: 'format', value: 'json|csv|xlsx', help: 'file format (default: from the --out name, else json)' },
      { name: 'out', short: 'o', value: 'FILE|-', help: 'file to write (default: named after the report and its days); - = stdout' },
      { name: 'progress', help: 'show a progress bar even when stderr is not a terminal' }
    ],
    details: 'DATE is 2026-11-01 (a whole day; --to includes it) or 2026-11-01T08:30, in PBX_TIMEZONE unless it\n' +
      'ends in Z or an offset. In demo mode the report comes from the built-in simulator. Not GATEWAY_KEYS.'
  },
  {
    name: 'recordings convert',
    args: '<dir>',
    maxPositionals: 1,
    summary: 'convert an archive of 3CX WAV recordings to MP3 (resumable)',
    options: [
      { name: 'out', value: 'DIR', help: 'where the MP3 files go, mirroring the folders (default: MP3_DIR/archive)' },
      { name: 'concurrency', value: 'N', help: 'ffmpeg processes at once, 1–64 (default FFMPEG_CONCURRENCY)' }
    ]
  },
  {
    name: 'tenants add',
    args: '<id>',
    maxPositionals: 1,
    summary: 'add a tenant (one PBX) to the tenants table in DATABASE_URL and print its first key',
    options: [
      { name: 'pbx-url', value: 'URL', required: true, help: 'the tenant\'s PBX, https://…' },
      { name: 'client-id', value: 'ID', required: true, help: 'its API client (Admin > Integrations > API)' },
      { name: 'client-secret', value: 'S', required: true, help: 'the API client\'s secret; write \'${VAR}\' to keep it in the environment, not the database' },
      { name: 'timezone', value: 'TZ', help: 'the PBX\'s time zone (default PBX_TIMEZONE)' },
      { name: 'webhook', value: 'URL', help: 'a webhook target (named crm) for the tenant\'s call events' },
      { name: 'webhook-secret', value: 'S', help: 'its signing secret, whsec_… or \'${VAR}\'' },
      { name: 'scope', value: 'read|control', help: 'the scope of the printed key (default control)' }
    ],
    details: 'The key is printed once and stored only as its SHA-256. Tenants in the table are served when\n' +
      'TENANTS_FILE is unset (docs/operating.md "Several PBXs"); a running gateway picks them up at its next start.'
  },
  {
    name: 'tenants list',
    maxPositionals: 0,
    summary: 'list the tenants table (no secrets, no keys)',
    options: []
  },
  {
    name: 'tenants remove',
    args: '<id>',
    maxPositionals: 1,
    summary: 'remove a tenant and its keys from the tenants table (its stored state is kept)',
    options: []
  },
  {
    name: 'tenants rotate-key',
    args: '<id>',
    maxPositionals: 1,
    summary: 'replace a tenant\'s keys of one scope by a new key, printed once',
    options: [{ name: 'scope', value: 'read|control', help: 'which keys (default control)' }]
  },
  {
    name: 'config check',
    maxPositionals: 0,
    summary: 'print the effective configuration (secrets masked)',
    options: []
  }
]

const HELP_FLAG: CliOption = { name: 'help', short: 'h', help: 'show this help' }

/** A mistake on the command line: a sentence saying what to fix (exit code 2, with the command's help). */
export class UsageError extends Error {
  override name = 'UsageError'
}

function flagText (o: CliOption): string {
  return `--${o.name}${o.value !== undefined ? ` ${o.value}` : ''}`
}

/** `3cx-gateway export <kinds> [--from DATE] …`, wrapped under the command name. */
function usageLine (c: CliCommand, width = 100): string {
  const words = [...(c.args !== undefined ? [c.args] : []), ...c.options.map((o) => o.required === true ? flagText(o) : `[${flagText(o)}]`)]
  const head = `3cx-gateway ${c.name}`
  const indent = ' '.repeat(head.length + 1)
  const lines: string[] = [head]
  for (const w of words) {
    if (lines[lines.length - 1].length + 1 + w.length > width) lines.push(indent + w)
    else lines[lines.length - 1] += ` ${w}`
  }
  return lines.join('\n')
}

/** `3cx-gateway --help`: every command with every flag. */
export function topLevelHelp (): string {
  const commands = COMMANDS.map((c) => `  ${usageLine(c).replace(/\n/g, '\n  ')}\n      ${c.summary}`)
  return [
    `3cx-gateway ${VERSION} — legacy 3CX WebAPI, webhooks, MP3 recordings and reports for 3CX V20`,
    '',
    'Usage:',
    ...commands,
    '  3cx-gateway --version | --help',
    '',
    'Run "3cx-gateway <command> --help" for what a command\'s flags mean.',
    'Configuration comes from the environment and a .env file in the working directory; see .env.example.'
  ].join('\n')
}

/** `3cx-gateway <command> --help`: usage line, what it does, each flag explained. */
export function commandHelp (c: CliCommand): string {
  const flags = [...c.options, HELP_FLAG]
  const width = Math.max(...flags.map((o) => flagText(o).length + (o.short !== undefined ? 4 : 0)))
  const lines = flags.map((o) => {
    const shown = `${o.short !== undefined ? `-${o.short}, ` : ''}${flagText(o)}`
    return `  ${shown.padEnd(width + 2)}${o.help}`
  })
  return [`usage: ${usageLine(c)}`, '', `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.`, '', 'Flags:', ...lines, ...(c.details !== undefined ? ['', c.details] : [])].join('\n')
}

export function findCommand (name: string): CliCommand | undefined {
  return COMMANDS.find((c) => c.name === name)
}

/** The flags of `c` in node:util parseArgs' shape (plus --help). */
export function parseArgsOptions (c: CliCommand): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const o of [...c.options, HELP_FLAG]) {
    options[o.name] = { type: o.value !== undefined ? 'string' : 'boolean', ...(o.short !== undefined ? { short: o.short } : {}) }
  }
  return options
}

export interface ParsedCommandLine {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
  help: boolean
}

/** Parses `args` against `c`'s flags; throws UsageError naming an unknown flag or a stray argument. */
export function parseCommandLine (c: CliCommand, args: string[]): ParsedCommandLine {
  // --help wins over any other mistake on the line: the newcomer asked how to use it.
  if (args.includes('--help') || args.includes('-h')) return { values: {}, positionals: [], help: true }
  let parsed
  try {
    parsed = parseArgs({ args, options: parseArgsOptions(c), allowPositionals: true, strict: true })
  } catch (err) {
    // parseArgs' own first sentence names the flag ("Unknown option '--bogus'"); its hints about `--` do not apply.
    throw new UsageError((err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, ''))
  }
  const values = parsed.values as ParsedCommandLine['values']
  if (parsed.positionals.length > c.maxPositionals) {
    const extra = parsed.positionals[c.maxPositionals]
    throw new UsageError(`unexpected argument "${extra}"${c.maxPositionals === 0 ? `; ${c.name} takes no arguments` : ''}`)
  }
  return { values, positionals: parsed.positionals, help: false }
}
