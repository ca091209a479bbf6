import assert from "node:assert/strict";
import { exportFileName } from "./exports.ts";
import { control, get, NOW, spawnStandin, withStandin } from "./test_support.ts";
import { DAY_MS, dayOf, HOUR_MS } from "./time.ts";

const TODAY = dayOf(NOW.getTime());

async function download(origin: string, name: string, init: RequestInit = {}) {
  const res = await fetch(`${origin}/p/exports/${name}`, init);
  if (res.status !== 200) {
    return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
  }
  const text = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
  return { status: 200, type: res.headers.get("content-type"), text };
}

Deno.test("GET /p/exports/movie_ids_MM_DD_YYYY.json.gz: gzip'd JSON lines, no auth, not the API's limit", async () => {
  await withStandin({ rateLimitPerSecond: 1, faults: { errorRate5xx: 1 } }, async (s) => {
    const name = exportFileName("movie", TODAY - 1);
    for (let i = 0; i < 3; i++) {
      const file = await download(s.origin, name); // no token, 3 in a row, 5xx faults on
      assert.equal(file.status, 200);
      assert.equal(file.type, "application/gzip");
      const lines = file.text.trimEnd().split("\n");
      assert.ok(lines.length > 1900, `${lines.length} lines`);
      for (const line of lines) {
        const row = JSON.parse(line);
        assert.deepEqual(Object.keys(row), [
          "adult",
          "id",
          "original_title",
          "popularity",
          "video",
        ]);
        assert.equal(row.adult, false);
      }
      assert.throws(() => JSON.parse(file.text), SyntaxError, "the file as a whole is not JSON");
    }
    const adult = await download(s.origin, exportFileName("adult_movie", TODAY - 1));
    assert.equal(adult.status, 200);
    for (const line of adult.text.trimEnd().split("\n")) assert.equal(JSON.parse(line).adult, true);
    const head = await fetch(`${s.origin}/p/exports/${name}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    await head.body?.cancel();
    const post = await fetch(`${s.origin}/p/exports/${name}`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
    const stats = s.stats();
    assert.equal(stats.total, 0, "export downloads are not API requests");
    assert.deepEqual(stats.exports, { requests: 6, byStatus: { "200": 5, "405": 1 } });
  });
});

Deno.test("404 for a future day, for today before 08:00 UTC, past 90 days, for withheld days", async () => {
  await withStandin({}, async (s) => {
    const status = async (day: number, kind: "movie" | "adult_movie" = "movie") => {
      const res = await fetch(`${s.origin}/p/exports/${exportFileName(kind, day)}`);
      await res.body?.cancel();
      return res.status;
    };
    s.setNow(new Date(TODAY * DAY_MS + 7 * HOUR_MS + 59 * 60_000));
    assert.equal(await status(TODAY), 404, "not yet published at 07:59");
    assert.equal(await status(TODAY, "adult_movie"), 404);
    assert.equal(await status(TODAY - 1), 200, "yesterday's is the fallback");
    s.setNow(new Date(TODAY * DAY_MS + 8 * HOUR_MS));
    assert.equal(await status(TODAY), 200, "published at 08:00");
    assert.equal(await status(TODAY + 1), 404, "future");
    assert.equal(await status(TODAY - 90), 200);
    assert.equal(await status(TODAY - 91), 404, "older than 90 days");
    for (const bad of ["movie_ids_02_30_2026.json.gz", "movie_ids.json.gz", "other.txt", ""]) {
      const res = await fetch(`${s.origin}/p/exports/${bad}`);
      assert.equal(res.status, 404, bad);
      await res.body?.cancel();
    }
    // Withholding a day and moving the publication hour through the control API.
    const set = await control(s, "exports", {
      withheld: [new Date((TODAY - 2) * DAY_MS).toISOString().slice(0, 10)],
      publishHourUtc: 9.5,
    });
    assert.equal(set.status, 200);
    assert.deepEqual(set.withheld, ["2026-02-27"]);
    assert.equal(await status(TODAY - 2), 404, "withheld");
    assert.equal(await status(TODAY), 404, "now published at 09:30");
    const settings = await control(s, "exports");
    assert.equal(settings.publishHourUtc, 9.5);
    assert.equal(settings.available[0], exportFileName("movie", TODAY - 1));
    assert.ok(!settings.available.includes(exportFileName("movie", TODAY - 2)));
    assert.equal((await control(s, "exports", { publishHourUtc: 24 })).status, 400);
    assert.equal((await control(s, "exports", { withheld: ["2026-02-30"] })).status, 400);
    assert.equal((await control(s, "exports", { bogus: 1 })).status, 400);
  });
});

Deno.test("exports agree with /movie/{id} and /movie/changes as movies come and go", async () => {
  await withStandin({ additionsRate: 0.01, deletionsRate: 0.004, variation: false }, async (s) => {
    const day = TODAY + 4;
    s.setNow(new Date(day * DAY_MS + 9 * HOUR_MS));
    const ids = async (d: number) => {
      const file = await download(s.origin, exportFileName("movie", d));
      assert.equal(file.status, 200);
      return new Set(file.text.trimEnd().split("\n").map((l) => JSON.parse(l).id as number));
    };
    const before = await ids(day - 1);
    const after = await ids(day);
    const appeared = [...after].filter((id) => !before.has(id));
    const vanished = [...before].filter((id) => !after.has(id));
    assert.ok(
      appeared.length > 0 && vanished.length > 0,
      `${appeared.length} / ${vanished.length}`,
    );
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    const feed = new Set<number>();
    for (let page = 1;; page++) {
      const r = await get(s, `/movie/changes?start_date=${date}&end_date=${date}&page=${page}`);
      for (const x of r.body.results) feed.add(x.id);
      if (page >= r.body.total_pages) break;
    }
    for (const id of appeared) {
      assert.equal((await get(s, `/movie/${id}`)).status, 200);
      assert.ok(feed.has(id), `added ${id} in the feed`);
    }
    for (const id of vanished) {
      assert.equal((await get(s, `/movie/${id}`)).status, 404);
      assert.ok(feed.has(id), `deleted ${id} in the feed`);
    }
    // Popular lists what the day's file lists (the non-adult movies of the day).
    const popular = await get(s, "/movie/popular");
    assert.equal(popular.body.total_results, after.size);
    for (const m of popular.body.results) assert.ok(after.has(m.id));
  });
});

Deno.test("a 1.1 M-line export streams from a 1.12 M-movie stand-in (time and memory reported)", async () => {
  const p = await spawnStandin(["--size", "1120000", "--now", "2026-03-01T12:00:00Z"]);
  try {
    const rssAtStart = await p.rssMb();
    const name = exportFileName("movie", TODAY - 1);
    const t0 = performance.now();
    const res = await fetch(`${p.listening.url.replace(/\/3$/, "")}/p/exports/${name}`);
    assert.equal(res.status, 200);
    let gzBytes = 0;
    const counted = res.body!.pipeThrough(
      new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
        transform(chunk, controller) {
          gzBytes += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    ).pipeThrough(new DecompressionStream("gzip"));
    let lines = 0;
    let bytes = 0;
    let firstMs = 0;
    let tail = "";
    const decoder = new TextDecoder();
    for await (const chunk of counted) {
      if (firstMs === 0) firstMs = performance.now() - t0;
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-400);
    }
    const ms = performance.now() - t0;
    const last = JSON.parse(tail.trimEnd().split("\n").at(-1)!);
    assert.ok(lines > 1_090_000 && lines < 1_120_000, `${lines} lines`);
    assert.deepEqual(Object.keys(last), ["adult", "id", "original_title", "popularity", "video"]);
    const peak = await p.peakRssMb();
    console.log(
      `export of ${lines} lines: ${(ms / 1000).toFixed(1)} s end to end (first bytes after ${
        Math.round(firstMs)
      } ms), ${(bytes / 1e6).toFixed(0)} MB as text, ${(gzBytes / 1e6).toFixed(1)} MB gzip'd; ` +
        `stand-in RSS ${rssAtStart} MB at start, peak ${peak} MB`,
    );
  } finally {
    await p.stop();
  }
});
