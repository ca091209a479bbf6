import assert from "node:assert/strict";
import { createCatalog, DAY_MS, SUPPORTED_APPEND_PARTS } from "./catalog.ts";
import {
  ESSENTIAL_CHANGES_PAGE_PATHS,
  ESSENTIAL_LIST_PAGE_PATHS,
  keyPaths,
  missingEssentials,
} from "./mutations.ts";
import {
  pageVariationsOf,
  type VariationKind,
  VARIATIONS,
  variationsOf,
  variationSpec,
  variedDetails,
  varyChangesItem,
  varyDetails,
  varyListItem,
  varyPage,
} from "./variation.ts";

/** Parsed JSON of unknown shape (tests index into it freely). */
// deno-lint-ignore no-explicit-any
type Json = any;

const NOW = Date.parse("2026-03-01T12:00:00Z");
const N = 3000;

/** Drawn counts over the ids of `createCatalog({size: 3000, seed: 1})`, variation seed 1. */
const SEED_1_COUNTS: Record<string, number> = {
  imdb_id_null: 49,
  runtime_zero: 61,
  release_date_empty: 28,
  title_empty: 29,
  title_non_latin: 29,
  long_text: 26,
  numbers_null: 24,
  strings_null: 31,
  strings_empty: 31,
  fields_missing: 33,
  wrong_types: 36,
  empty_parts: 39,
  duplicate_credit: 29,
  person_fields_missing: 27,
  person_fields_null: 42,
  video_site_other: 21,
  video_fields_varied: 19,
  release_entry_fields_varied: 23,
  release_note_missing: 925,
  descriptors_missing: 34,
  name_missing: 29,
  external_ids_varied: 23,
  nested_fields_missing: 37,
  unknown_fields: 69,
  list_item_fields_missing: 60,
  changes_adult_null: 61,
};

const MOVIE_KINDS = VARIATIONS.filter((v) => v.per === "movie").map((v) => v.kind);

/** Every movie of a 3,000-movie catalog with all parts, as built and as varied. */
function servedCatalog(): { before: Json; after: Json; applied: VariationKind[] }[] {
  const catalog = createCatalog({ size: N, seed: 1, anchor: NOW });
  return Array.from(catalog.ids, (id) => {
    const before = catalog.details(id, NOW, SUPPORTED_APPEND_PARTS)!;
    const { body, applied } = varyDetails(before, { seed: catalog.seed });
    return { before, after: body, applied };
  });
}

function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

const SCRIPTS =
  /[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u0590-\u05ff\u0370-\u03ff\u10a0-\u10ff]/;

function people(d: Json): Json[] {
  return [...(d.credits?.cast ?? []), ...(d.credits?.crew ?? [])];
}
function releaseEntries(d: Json): Json[] {
  return (d.release_dates?.results ?? []).flatMap((c: Json) => c.release_dates ?? []);
}
/** Entries of `after` whose original (same key) lacks nothing `pred` looks for. */
function someEntry(
  before: Json[],
  after: Json[],
  key: string,
  pred: (b: Json, a: Json) => boolean,
) {
  const byKey = new Map(before.map((b) => [b[key], b]));
  return after.some((a) => byKey.has(a[key]) && pred(byKey.get(a[key]), a));
}
const lost = (b: Json, a: Json) => Object.keys(b).some((k) => !Object.hasOwn(a, k));
const nulled = (b: Json, a: Json) => Object.keys(b).some((k) => b[k] !== null && a[k] === null);

/** What each kind must visibly have done to a movie's details it reports as applied. */
const EFFECTS: Partial<Record<VariationKind, (before: Json, after: Json) => boolean>> = {
  imdb_id_null: (_, a) => a.imdb_id === null && a.external_ids.imdb_id === null,
  runtime_zero: (_, a) => a.runtime === 0,
  release_date_empty: (_, a) => a.release_date === "",
  title_empty: (_, a) => a.title === "",
  title_non_latin: (_, a) => SCRIPTS.test(a.title) && !/[A-Za-z]/.test(a.title),
  long_text: (_, a) =>
    a.overview.length >= 10_000 && a.overview.length <= 20_000 && a.overview.isWellFormed(),
  numbers_null: (b, a) =>
    ["vote_average", "vote_count", "popularity", "budget", "revenue", "runtime"]
      .some((k) => b[k] !== null && a[k] === null),
  strings_null: (b, a) =>
    ["tagline", "homepage", "overview", "status", "title"].concat(
      ["original_title", "original_language", "release_date"],
    ).some((k) => b[k] !== null && a[k] === null),
  strings_empty: (b, a) =>
    ["tagline", "homepage", "overview", "original_title", "original_language", "status"]
      .some((k) => b[k] !== "" && a[k] === ""),
  fields_missing: (b, a) => Object.keys(b).some((k) => !Object.hasOwn(a, k)),
  wrong_types: (b, a) =>
    Object.keys(b).some((k) =>
      Object.hasOwn(a, k) && a[k] !== null && typeOf(a[k]) !== typeOf(b[k])
    ) ||
    (Number.isInteger(b.vote_count) && !Number.isInteger(a.vote_count)) ||
    (b.genres !== null && a.genres === null),
  empty_parts: (b, a) =>
    [["credits", "cast"], ["credits", "crew"], ["videos", "results"], ["keywords", "keywords"], [
      "release_dates",
      "results",
    ]].some(([p, k]) => b[p][k].length > 0 && a[p][k].length === 0),
  duplicate_credit: (_, a) =>
    people(a).some((p, i, all) => i > 0 && all[i - 1].credit_id === p.credit_id),
  person_fields_missing: (b, a) => someEntry(people(b), people(a), "credit_id", lost),
  person_fields_null: (b, a) => someEntry(people(b), people(a), "credit_id", nulled),
  video_site_other: (_, a) => a.videos.results.some((v: Json) => v.site !== "YouTube"),
  video_fields_varied: (b, a) =>
    someEntry(b.videos.results, a.videos.results, "key", (x, y) => lost(x, y) || nulled(x, y)),
  release_entry_fields_varied: (_, a) =>
    releaseEntries(a).some((e) =>
      ["certification", "iso_639_1", "release_date"].some((k) => !(k in e) || e[k] === null) ||
      e.note === null || e.descriptors?.length > 0
    ),
  // A null note and filled descriptors are release_entry_fields_varied's.
  release_note_missing: (b, a) =>
    releaseEntries(b).length > 0 && releaseEntries(a).every((e) => typeof e.note !== "string"),
  descriptors_missing: (_, a) =>
    releaseEntries(a).every((e) => !Array.isArray(e.descriptors) || e.descriptors.length > 0),
  name_missing: (_, a) => [...(a.genres ?? []), ...a.keywords.keywords].some((x: Json) => !x.name),
  external_ids_varied: (b, a) =>
    Object.keys(b.external_ids).some((k) =>
      !Object.hasOwn(a.external_ids, k) || (b.external_ids[k] !== a.external_ids[k])
    ),
  nested_fields_missing: (b, a) =>
    ["production_companies", "production_countries", "spoken_languages"].some((k) =>
      Array.isArray(a[k]) && b[k].some((x: Json, i: number) => lost(x, a[k][i]))
    ) || (b.belongs_to_collection !== null && a.belongs_to_collection &&
      lost(b.belongs_to_collection, a.belongs_to_collection)),
  unknown_fields: (b, a) => {
    const known = new Set(keyPaths(b));
    const added = keyPaths(a).filter((p) => !known.has(p));
    const depths = new Set(added.map((p) => p.split(".").length));
    return depths.has(1) && depths.has(2) && depths.has(3);
  },
};

Deno.test("VARIATIONS: unique kinds with rates in (0, 1), each saying where it shows", () => {
  const kinds = VARIATIONS.map((v) => v.kind);
  assert.equal(new Set(kinds).size, kinds.length);
  for (const v of VARIATIONS) {
    assert.ok(v.rate > 0 && v.rate < 1, `${v.kind}: ${v.rate}`);
    assert.ok(v.shows.length > 0 && v.does.length > 10, v.kind);
    assert.equal(variationSpec(v.kind), v);
  }
  assert.throws(() => variationSpec("nope" as VariationKind), /unknown variation kind: "nope"/);
  // Every details kind has an effect check below, so no kind can silently stop working.
  for (const v of VARIATIONS) {
    if ((v.shows as readonly string[]).includes("details")) assert.ok(EFFECTS[v.kind], v.kind);
  }
});

Deno.test("variationsOf depends only on (seed, id); another seed draws other movies", () => {
  const ids = Array.from({ length: 500 }, (_, i) => i * 37 + 2);
  const a = ids.map((id) => variationsOf(id, { seed: 1 }).join());
  assert.deepEqual(ids.map((id) => variationsOf(id, { seed: 1 }).join()), a);
  assert.deepEqual(ids.map((id) => variationsOf(id).join()), a, "default seed is 1");
  assert.notDeepEqual(ids.map((id) => variationsOf(id, { seed: 2 }).join()), a);
  assert.throws(
    () => variationsOf(5, { seed: 1.5 }),
    /seed must be an integer: current value is 1.5/,
  );
});

Deno.test("each kind is drawn at its rate: exact counts for seed 1, within 6σ for seeds 1..5", () => {
  const ids = createCatalog({ size: N, seed: 1, anchor: NOW }).ids;
  for (let seed = 1; seed <= 5; seed++) {
    const counts = Object.fromEntries(MOVIE_KINDS.map((k) => [k, 0]));
    let ordinary = 0;
    for (const id of ids) {
      const kinds = variationsOf(id, { seed });
      if (kinds.length === 0) ordinary++;
      for (const k of kinds) counts[k]++;
    }
    if (seed === 1) assert.deepEqual(counts, SEED_1_COUNTS);
    for (const kind of MOVIE_KINDS) {
      const p = variationSpec(kind).rate;
      const sd = Math.sqrt(N * p * (1 - p));
      assert.ok(counts[kind] > 0, `seed ${seed}: ${kind} never drawn`);
      assert.ok(Math.abs(counts[kind] - N * p) <= 6 * sd, `seed ${seed}: ${kind} ${counts[kind]}`);
    }
    // About half the movies get no variation at all (expected share: product of 1 − rate).
    const expected = MOVIE_KINDS.reduce((acc, k) => acc * (1 - variationSpec(k).rate), 1);
    assert.ok(Math.abs(ordinary / N - expected) < 0.05, `seed ${seed}: ${ordinary} ordinary`);
    assert.ok(ordinary / N > 0.47, `seed ${seed}: ${ordinary} ordinary`);
  }
});

Deno.test("over a 3,000-movie catalog every kind shows, does what it says, keeps the essentials", () => {
  const applied = Object.fromEntries(MOVIE_KINDS.map((k) => [k, 0]));
  let unchanged = 0;
  for (const { before, after, applied: kinds } of servedCatalog()) {
    const drawn = variationsOf(before.id, { seed: 1 });
    for (const k of kinds) {
      assert.ok(drawn.includes(k), `${before.id}: ${k} applied but not drawn`);
      applied[k]++;
      const effect = EFFECTS[k];
      assert.ok(!effect || effect(before, after), `${before.id}: ${k} did not show`);
    }
    if (kinds.length === 0) {
      unchanged++;
      assert.equal(after, before, "an unvaried movie is served as built (same object)");
    }
    assert.deepEqual(missingEssentials(after), [], `movie ${before.id}`);
    assert.ok(Number.isSafeInteger(after.id) && after.id > 0);
    for (const g of after.genres ?? []) assert.ok(Number.isSafeInteger(g.id) && g.id > 0);
    for (const p of people(after)) {
      assert.ok(Number.isSafeInteger(p.id) && p.id > 0, `${before.id}: person id ${p.id}`);
      assert.match(p.credit_id, /^[0-9a-f]{24}$/);
    }
    for (const v of after.videos.results) {
      assert.ok(typeof v.key === "string" && v.key.length > 0, `${before.id}: key ${v.key}`);
      assert.ok(typeof v.site === "string" && v.site.length > 0, `${before.id}: site ${v.site}`);
    }
    for (const c of after.release_dates.results) {
      assert.match(c.iso_3166_1, /^[A-Z]{2}$/);
      for (const e of c.release_dates) assert.ok([1, 2, 3, 4, 5, 6].includes(e.type), e.type);
    }
  }
  for (const v of VARIATIONS) {
    if ((v.shows as readonly string[]).includes("details")) {
      assert.ok(applied[v.kind] > 0, `${v.kind} changed no movie`);
    } else assert.equal(applied[v.kind] ?? 0, 0, `${v.kind} changed details`);
  }
  // Kinds whose target every movie has apply wherever drawn.
  for (const k of ["release_date_empty", "title_empty", "title_non_latin", "long_text"] as const) {
    assert.equal(applied[k], SEED_1_COUNTS[k], k);
  }
  assert.ok(unchanged / N > 0.5 && unchanged / N < 0.6, `${unchanged} served as built`);
});

Deno.test("the same movie at the same simulated time is served identically; input untouched", () => {
  const catalog = createCatalog({ size: 2000, seed: 4, anchor: NOW });
  const varied = catalog.ids.filter((id) => variationsOf(id, { seed: 4 }).length >= 2).slice(0, 25);
  assert.equal(varied.length, 25);
  for (const id of varied) {
    const built = catalog.details(id, NOW, SUPPORTED_APPEND_PARTS)!;
    const snapshot = JSON.stringify(built);
    const a = JSON.stringify(variedDetails(catalog, id, NOW, SUPPORTED_APPEND_PARTS)!.body);
    const b = JSON.stringify(varyDetails(built, { seed: 4 }).body);
    assert.equal(a, b);
    assert.equal(JSON.stringify(built), snapshot, "varyDetails does not modify its input");
    // Between two change instants the catalog's payload is identical, and so is the varied one.
    const next = catalog.changeInstants(id, NOW + 1, NOW + 30 * DAY_MS)[0] ?? NOW + 30 * DAY_MS;
    const later = variedDetails(catalog, id, next - 1, SUPPORTED_APPEND_PARTS)!.body;
    assert.equal(JSON.stringify(later), a, `movie ${id} changed without a change instant`);
  }
  assert.equal(variedDetails(catalog, 1, NOW), null);
  assert.throws(() => varyDetails({ title: "x" }), /integer id: current value is undefined/);
});

Deno.test("list items get the same top-level edits as details, plus list-only ones", () => {
  const catalog = createCatalog({ size: N, seed: 1, anchor: NOW });
  let compared = 0;
  let listMissing = 0;
  for (let idx = 0; idx < catalog.size; idx++) {
    const id = catalog.ids[idx];
    const kinds = variationsOf(id, { seed: 1 });
    if (kinds.length === 0) continue;
    const item = varyListItem(catalog.listItem(idx, NOW), { seed: 1 });
    const details = varyDetails(catalog.details(id, NOW)!, { seed: 1 }).body as Json;
    const raw = catalog.listItem(idx, NOW) as unknown as Json;
    const body = item.body as unknown as Json;
    assert.equal(body.id, id);
    for (const key of Object.keys(raw)) {
      if (Object.hasOwn(body, key) && Object.hasOwn(details, key)) {
        assert.deepEqual(body[key], details[key], `movie ${id}: ${key}`);
        compared++;
      }
    }
    if (item.applied.includes("list_item_fields_missing")) {
      listMissing++;
      assert.ok(Object.keys(raw).some((k) => !Object.hasOwn(body, k)), `movie ${id}`);
    }
    assert.ok(!item.applied.includes("changes_adult_null"));
  }
  assert.ok(compared > 1000);
  assert.equal(listMissing, SEED_1_COUNTS.list_item_fields_missing);
});

Deno.test("changes items and page envelopes keep their essential fields", () => {
  const catalog = createCatalog({ size: N, seed: 1, anchor: NOW });
  let adultNull = 0;
  let unknown = 0;
  for (const id of catalog.ids) {
    const { body, applied } = varyChangesItem({ id, adult: false });
    assert.equal(body.id, id);
    if (applied.includes("changes_adult_null")) {
      adultNull++;
      assert.equal(body.adult, null);
    }
    if (applied.includes("unknown_fields")) {
      unknown++;
      assert.equal(Object.keys(body).length, 3);
    }
  }
  assert.equal(adultNull, SEED_1_COUNTS.changes_adult_null);
  assert.equal(unknown, SEED_1_COUNTS.unknown_fields);

  let extra = 0;
  for (let page = 1; page <= 1000; page++) {
    if (pageVariationsOf("/movie/popular", page).includes("page_unknown_fields")) extra++;
  }
  assert.ok(Math.abs(extra - 100) <= 6 * Math.sqrt(90), `${extra} of 1000 pages`);
  for (let page = 1; page <= 50; page++) {
    const list = varyPage(catalog.popular(NOW, page), "/movie/popular");
    assert.deepEqual(missingEssentials(list.body, ESSENTIAL_LIST_PAGE_PATHS), []);
    assert.equal(Object.keys(list.body).length, list.applied.length === 0 ? 4 : 5);
    const changes = varyPage(catalog.changes(NOW - DAY_MS, NOW, NOW, page), "/movie/changes");
    assert.deepEqual(missingEssentials(changes.body, ESSENTIAL_CHANGES_PAGE_PATHS), []);
  }
});
