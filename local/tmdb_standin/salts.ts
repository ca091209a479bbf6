/**
 * Salts separating the stand-in catalog's independent hash streams: `hash4(seed, x, y, salt)`
 * with a different salt gives an unrelated value. Fixed numbers: changing one changes the
 * catalog every seed produces. (The variation layer's own salts are ≥ 0x5641.)
 *
 * @module
 */

/** The catalog's hash salts. */
export const SALT = {
  id: 1,
  releaseKind: 2,
  release: 3,
  pop: 4,
  adult: 5,
  change: 6,
  changeAt: 7,
  wobble: 8,
  core: 9,
  credits: 10,
  videos: 11,
  dates: 12,
  keywords: 13,
  tagCount: 14,
  tagPick: 15,
  castAdd: 16,
  castAddGen: 17,
  trendDay: 18,
  trendWeek: 19,
  person: 20,
  votes: 21,
  external: 22,
  company: 23,
  collection: 24,
  images: 25,
  credit: 26,
  addCount: 27,
  ghostCount: 28,
  ghostPlace: 29,
  ghostShuffle: 30,
  deletion: 31,
} as const;
