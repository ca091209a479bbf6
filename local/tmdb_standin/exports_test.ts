import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import {
  exportFileName,
  exportFileStream,
  exportLine,
  exportRows,
  exportStatus,
  exportTextStream,
  parseExportFileName,
} from "./exports.ts";
import { DAY_MS, dayOf, HOUR_MS } from "./time.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const TODAY = dayOf(NOW);

/** Gunzips a stream and returns its lines (the last one must end with a newline). */
async function gunzipLines(stream: ReadableStream<Uint8Array<ArrayBuffer>>): Promise<string[]> {
  const text = await new Response(stream.pipeThrough(new DecompressionStream("gzip"))).text();
  assert.ok(text === "" || text.endsWith("\n"), "every line ends with a newline");
  return text === "" ? [] : text.slice(0, -1).split("\n");
}

Deno.test("file names: movie_ids_MM_DD_YYYY.json.gz and adult_movie_ids_…, round trip", () => {
  assert.equal(exportFileName("movie", TODAY), "movie_ids_03_01_2026.json.gz");
  assert.equal(exportFileName("adult_movie", TODAY - 1), "adult_movie_ids_02_28_2026.json.gz");
  for (let day = TODAY - 400; day <= TODAY + 400; day += 7) {
    for (const kind of ["movie", "adult_movie"] as const) {
      assert.deepEqual(parseExportFileName(exportFileName(kind, day)), { kind, day });
    }
  }
  for (
    const bad of [
      "movie_ids_02_30_2026.json.gz",
      "movie_ids_13_01_2026.json.gz",
      "movie_ids_03_01_2026.json",
      "tv_series_ids_03_01_2026.json.gz",
      "movie_ids_3_1_2026.json.gz",
      "../movie_ids_03_01_2026.json.gz",
    ]
  ) assert.equal(parseExportFileName(bad), null, bad);
});

Deno.test("publication rules: today's from 08:00 UTC, none from the future, 90 days kept", () => {
  const at = (day: number, hour: number) => day * DAY_MS + hour * HOUR_MS;
  assert.equal(exportStatus(TODAY, at(TODAY, 7.99)), "not_yet_published");
  assert.equal(exportStatus(TODAY - 1, at(TODAY, 7.99)), "published", "yesterday's is there");
  assert.equal(exportStatus(TODAY, at(TODAY, 8)), "published");
  assert.equal(exportStatus(TODAY + 1, at(TODAY, 23.9)), "future");
  assert.equal(exportStatus(TODAY - 90, at(TODAY, 12)), "published");
  assert.equal(exportStatus(TODAY - 91, at(TODAY, 12)), "expired");
  assert.equal(exportStatus(TODAY, at(TODAY, 1), { publishHour: 0.5 }), "published");
  assert.equal(exportStatus(TODAY - 3, NOW, { withheld: new Set([TODAY - 3]) }), "withheld");
  assert.equal(exportStatus(TODAY - 3, NOW, { keepDays: 2 }), "expired");
});

Deno.test("a line is TMDB's JSON object, keys in its order, any title escaped", () => {
  const line = exportLine({
    adult: false,
    id: 550,
    original_title: "Fight Club",
    popularity: 61.4,
    video: false,
  });
  assert.equal(
    line,
    '{"adult":false,"id":550,"original_title":"Fight Club","popularity":61.4,"video":false}',
  );
  const odd = 'He said "no" \\ <b>ü</b> 🎬\n\t';
  const parsed = JSON.parse(
    exportLine({ adult: true, id: 7, original_title: odd, popularity: 0.6, video: true }),
  );
  assert.deepEqual(parsed, {
    adult: true,
    id: 7,
    original_title: odd,
    popularity: 0.6,
    video: true,
  });
});

Deno.test("the file of day D: the movies existing at D 00:00, in id order, as /movie/{id} shows them", async () => {
  const cat = createCatalog({ size: 6000, seed: 4, anchor: NOW, additionsRate: 0.002 });
  for (const day of [TODAY - 20, TODAY, TODAY + 3]) {
    const at = day * DAY_MS;
    const lines = await gunzipLines(exportFileStream(cat, day, "movie"));
    const adultLines = await gunzipLines(exportFileStream(cat, day, "adult_movie"));
    const rows = lines.map((l) => JSON.parse(l));
    const adultRows = adultLines.map((l) => JSON.parse(l));
    for (const r of [...rows, ...adultRows]) {
      assert.deepEqual(Object.keys(r), ["adult", "id", "original_title", "popularity", "video"]);
    }
    // Exactly the movies that exist then, split by the adult flag.
    const expected: number[] = [];
    const expectedAdult: number[] = [];
    for (let i = 0; i < cat.lifecycle.countBy(day); i++) {
      if (!cat.lifecycle.existsOn(i, day)) continue;
      (cat.attributes.adult(i) ? expectedAdult : expected).push(cat.idOf(i));
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    assert.deepEqual(rows.map((r) => r.id), sorted(expected), "ids in ascending order");
    assert.deepEqual(adultRows.map((r) => r.id), sorted(expectedAdult));
    assert.ok(rows.every((r) => r.adult === false) && adultRows.every((r) => r.adult === true));
    assert.ok(adultRows.length > 20, `${adultRows.length} adult titles`);
    assert.equal(rows.length + adultRows.length, cat.countAt(at));
    // Fields as /movie/{id} shows them at D 00:00.
    for (const r of [...rows.filter((_, k) => k % 97 === 0), ...adultRows.slice(0, 5)]) {
      const d = cat.details(r.id, at)!;
      assert.deepEqual(
        [r.original_title, r.popularity, r.video, r.adult],
        [d.original_title, d.popularity, d.video, d.adult],
        `movie ${r.id}`,
      );
    }
    if (day === TODAY) {
      assert.deepEqual(rows.find((r) => r.id === 550), {
        adult: false,
        id: 550,
        original_title: "Fight Club",
        popularity: cat.details(550, at)!.popularity,
        video: false,
      });
    }
  }
});

Deno.test("consecutive files differ by that day's additions and deletions, which the feed lists", async () => {
  const cat = createCatalog({
    size: 4000,
    seed: 12,
    anchor: NOW,
    additionsRate: 0.004,
    deletionsRate: 0.002,
  });
  for (const day of [TODAY - 5, TODAY + 1, TODAY + 10]) {
    const ids = async (d: number) =>
      new Set((await gunzipLines(exportFileStream(cat, d, "movie"))).map((l) => JSON.parse(l).id));
    const before = await ids(day - 1);
    const after = await ids(day);
    const appeared = [...after].filter((id) => !before.has(id)).sort((a, b) => a - b);
    const vanished = [...before].filter((id) => !after.has(id)).sort((a, b) => a - b);
    const events = cat.lifecycle.eventsOn(day);
    const nonAdult = (idx: number[]) =>
      idx.filter((i) => !cat.attributes.adult(i)).map((i) => cat.idOf(i)).sort((a, b) => a - b);
    assert.deepEqual(appeared, nonAdult(events.added), `day ${day - TODAY}: additions`);
    assert.deepEqual(vanished, nonAdult(events.deleted), `day ${day - TODAY}: deletions`);
    assert.ok(appeared.length > 0 && vanished.length > 0);
    const feed = new Set(cat.changedIds(day * DAY_MS, (day + 1) * DAY_MS, (day + 1) * DAY_MS));
    for (const id of [...appeared, ...vanished]) assert.ok(feed.has(id), `${id} in the feed`);
    for (const id of appeared) assert.equal(cat.details(id, day * DAY_MS - 1), null);
    for (const id of vanished) assert.equal(cat.details(id, day * DAY_MS), null);
  }
});

Deno.test("the stream is generated as it is read: a reader may stop early", async () => {
  const cat = createCatalog({ size: 200_000, seed: 1, anchor: NOW });
  const reader = exportTextStream(cat, TODAY, "movie").getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length > 0 && first.value.length < 2_000_000);
  await reader.cancel();
  const rows = exportRows(cat, TODAY, "movie");
  assert.equal(rows.next().value?.id, cat.ids[0]);
  rows.return(undefined);
});

Deno.test("the same seed gives the same file, byte for byte; another seed another file", async () => {
  const bytes = async (seed: number) => {
    const cat = createCatalog({ size: 3000, seed, anchor: NOW });
    return await gunzipLines(exportFileStream(cat, TODAY - 2, "movie"));
  };
  const a = await bytes(5);
  assert.deepEqual(await bytes(5), a);
  assert.notDeepEqual(await bytes(6), a);
});
