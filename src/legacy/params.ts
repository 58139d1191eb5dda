// Parameter rules of legacy-api.md §2: JSON-schema patterns for the routes, the sentences that say
// what a valid value looks like, and pure parsers for the values the schemas let through.

/** Extension / queue / ring group numbers: 3CX also has a few non-digit DNs (HOL, QCB). */
export const DN_PATTERN = '^[A-Za-z0-9*#+]{1,20}$'
/** Phone numbers: +, digits, * and #, plus common separators that are stripped. */
export const PHONE_PATTERN = '^[0-9+*# ().\\/-]{1,40}$'
/** on|off|1|0|true|false, any case (JSON-schema patterns have no case-insensitive flag). */
export const ON_OFF_PATTERN = '^([Oo][Nn]|[Oo][Ff][Ff]|1|0|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$'
export const RECORDING_PATTERN = '^([Oo][Ff][Ff]|[Ee][Xx][Tt][Ee][Rr][Nn][Aa][Ll]|[Aa][Ll][Ll])$'
/** Forwarding profile names: display ("Out of office") or internal ("OutOfOffice") names. */
export const PROFILE_PATTERN = '^[A-Za-z0-9 _-]{1,40}$'

/** What a valid value of each legacy parameter looks like, for BAD_PARAMETER sentences. */
export const PARAMETER_RULES: Readonly<Record<string, string>> = {
  num: 'must be an extension, queue or ring group number: 1–20 characters of A–Z, a–z, 0–9, *, # or +',
  first: 'must be the extension that places the call: 1–20 characters of A–Z, a–z, 0–9, *, # or +',
  queue: 'must be a queue number: 1–20 characters of A–Z, a–z, 0–9, *, # or +',
  second: 'must be a phone number other than the calling extension: +, digits, * and # with at least one digit and at most 20 of them (spaces, dots, dashes, slashes and parentheses are ignored)',
  contact: 'must be a device id of the calling extension: 1–200 characters of A–Z, a–z, 0–9 and @ : . _ + ; = -, not . or ..',
  timeout: 'must be a whole number of milliseconds from 100 to 600000',
  status: 'must be a forwarding profile name: Available, Away, Out of office, Custom 1 or Custom 2',
  log: 'must be on or off (also 1/0, true/false)',
  enabled: 'must be on or off (also 1/0, true/false)',
  external: 'must be on or off (also 1/0, true/false)',
  recording: 'must be off, external or all'
}

export function parseOnOff (value: string): boolean {
  return /^(on|1|true)$/i.test(value)
}

export type RecordingMode = 'off' | 'external' | 'all'

export function parseRecording (value: string): RecordingMode {
  return value.toLowerCase() as RecordingMode
}

/**
 * An unencoded `+` in a URL query decodes to a space (`?second=+4930…` arrives as " 4930…"). In front
 * of a number or device id a space means nothing else, so it was a `+`: keep it, never drop it.
 */
export function restoreLeadingPlus (value: string): string {
  return /^ [^ ]/.test(value) ? `+${value.slice(1)}` : value
}

/** A device id for makecall's `contact`, or a sentence saying why not (a space inside was an unencoded `+`). */
export function normalizeContact (value: string): { contact: string } | { problem: string } {
  const contact = restoreLeadingPlus(value)
  if (contact.includes(' ')) {
    return { problem: 'contains a space: an unencoded "+" in a URL query means a space, so send a "+" inside a device id as %2B (e.g. contact=sip%3A%2B4930123%40pbx)' }
  }
  return { contact }
}

/**
 * Strips separators from a phone number the schema accepted; null when nothing dialable is left,
 * there is no digit (`*`, `#`), more than 20 dial characters (E.164 has 15 digits, plus room for
 * a prefix) or a `+` is not in front.
 */
export function normalizePhoneNumber (value: string): string | null {
  const n = restoreLeadingPlus(value).replace(/[\s().\\/-]/g, '')
  return /^\+?[0-9*#]{1,20}$/.test(n) && /[0-9]/.test(n) ? n : null
}

export interface ProfileLike {
  /** 3CX's internal name: Available, Away, OutOfOffice, Available2, OutOfOffice2. */
  Name: string
  /** Display name: "Out of office", "Custom 1", … (may be empty). */
  CustomName?: string | null
}

/** The English display names the legacy API documents, by 3CX internal name. */
const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  available: 'Available',
  away: 'Away',
  outofoffice: 'Out of office',
  available2: 'Custom 1',
  outofoffice2: 'Custom 2'
}
const INTERNAL_BY_DISPLAY: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(DISPLAY_NAMES).map(([internal, display]) => [squash(display), internal])
)

function squash (s: string): string {
  return s.replace(/[\s_-]/g, '').toLowerCase()
}

/**
 * Finds the profile a caller named, by internal name, the PBX's display name or the documented
 * English name, ignoring case and spaces. Null when none matches.
 */
export function findProfile<P extends ProfileLike> (input: string, profiles: readonly P[]): P | null {
  const wanted = squash(input)
  const internal = INTERNAL_BY_DISPLAY[wanted] ?? wanted
  return profiles.find((p) => squash(p.Name) === internal) ??
    profiles.find((p) => p.CustomName != null && squash(p.CustomName) === wanted) ??
    null
}

/** The name a person sees for a profile: the PBX's CustomName, else the documented English name. */
export function profileDisplayName (p: ProfileLike): string {
  if (p.CustomName != null && p.CustomName !== '') return p.CustomName
  return DISPLAY_NAMES[p.Name.toLowerCase()] ?? p.Name
}
