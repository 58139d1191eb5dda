// For the memory figure: a DirectoryCache holding `count` extensions, filled through its real load
// path (fetch, single-flight, XAPI row → DirectoryUser mapping, LRU with TTLs). Only the HTTP hop is
// replaced: every `Users` lookup answers the PBX's own row for extension 101 (fetched once from the
// simulator), renumbered, so each entry has the shape and size a real PBX's would.
import { DirectoryCache } from '../../src/directory/directory-cache.js'
import type { XapiUserRow } from '../../src/directory/directory-types.js'
import type { XapiApi, XapiCollection, XapiRequestOptions } from '../../src/pbx/pbx-api.js'

const NUMBER_IN_FILTER = /'([^']+)'/

function renumberingXapi (real: XapiApi): XapiApi {
  let template: Promise<XapiUserRow> | null = null
  const templateOf = async (opts: XapiRequestOptions): Promise<XapiUserRow> => {
    template ??= real.list<XapiUserRow>('Users', { ...opts, signal: undefined, query: { ...opts.query, filter: "Number eq '101'" } })
      .then((res) => {
        const row = res.value[0]
        if (row === undefined) throw new Error('the simulator has no extension 101')
        return row
      })
    return await template
  }
  return {
    get: async (p, o) => await real.get(p, o),
    patch: async (p, b, o) => { await real.patch(p, b, o) },
    post: async (p, b, o) => await real.post(p, b, o),
    download: async (p, o) => await real.download(p, o),
    list: async <T>(set: string, opts: XapiRequestOptions = {}): Promise<XapiCollection<T>> => {
      const num = NUMBER_IN_FILTER.exec(String(opts.query?.filter ?? ''))?.[1]
      if (set !== 'Users' || num === undefined) return await real.list<T>(set, opts)
      const t = await templateOf(opts)
      const n = Number(num)
      // A copy of its own, as each PBX answer is parsed into new strings and objects.
      const row: XapiUserRow = {
        ...structuredClone(t),
        Id: n,
        Number: num,
        FirstName: `First${num}`,
        LastName: `Last${num}`,
        EmailAddress: `user${num}@example.com`,
        Mobile: `+1555${num.padStart(7, '0')}`
      }
      return { value: [row as unknown as T], count: null }
    }
  }
}

/** Loads `count` extensions (numbers 100000…) into a new cache sized for them; resolves with it. */
export async function filledDirectory (real: XapiApi, count: number): Promise<DirectoryCache> {
  const cache = new DirectoryCache(renumberingXapi(real), { max: count + 100 })
  const batch = 1000
  for (let start = 0; start < count; start += batch) {
    const loads: Array<Promise<unknown>> = []
    for (let i = start; i < Math.min(count, start + batch); i++) loads.push(cache.user(String(100_000 + i)))
    await Promise.all(loads)
  }
  return cache
}
