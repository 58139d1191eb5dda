// A small seeded PRNG (mulberry32): the simulator's "random" choices (duplicate events, traffic mix,
// recording delays) repeat for the same seed.
export type Random = () => number

export function seededRandom (seed: number): Random {
  let a = (Math.floor(seed) >>> 0) ^ 0x9e3779b9
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max]. */
export function randomInt (rnd: Random, min: number, max: number): number {
  return min + Math.floor(rnd() * (max - min + 1))
}

export function pick<T> (rnd: Random, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]
}
