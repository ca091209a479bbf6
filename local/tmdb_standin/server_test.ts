import assert from "node:assert/strict";
import { variationsOf, variedDetails, varyPage } from "./variation.ts";
import {
  assertTmdbError,
  AUTH,
  control,
  get,
  type Json,
  NOW,
  spawnStandin,
  withStandin,
} from "./test_support.ts";
import { startTmdbStandin } from "./server.ts";

Deno.test("serves /3/movie/{id} deterministically, with and without the /3 prefix", async () => {
  await withStandin({ seed: 9 }, async (s) => {
    const a = await get(s, "/movie/550?append_to_response=credits,videos,release_dates");
    assert.equal(a.status, 200);
    assert.equal(a.headers.get("content-type"), "application/json;charset=utf-8");
    assert.equal(a.body.id, 550);
    assert.ok(Array.isArray(a.body.credits.cast));
    const res = await fetch(
      `${s.origin}/movie/550?append_to_response=credits,videos,release_dates`,
      {
        headers: AUTH,
      },
    );
    assert.deepEqual(await res.json(), a.body);
    await withStandin({ seed: 9 }, async (t) => {
      const b = await get(t, "/movie/550?append_to_response=credits,videos,release_dates");
      assert.equal(JSON.stringify(b.body), JSON.stringify(a.body));
    });
  });
});

Deno.test("auth: missing or wrong credentials → 401/7; bearer and api_key accepted", async () => {
  await withStandin({ apiKey: "k3y" }, async (s) => {
    assertTmdbError(await get(s, "/configuration", {}), 401, 7);
    assertTmdbError(await get(s, "/configuration", { authorization: "Bearer nope" }), 401, 7);
    assertTmdbError(await get(s, "/configuration?api_key=wrong", {}), 401, 7);
    assertTmdbError(await get(s, "/configuration", { authorization: "k3y" }), 401, 7);
    assert.equal((await get(s, "/configuration")).status, 200);
    const viaKey = await get(s, "/configuration?api_key=k3y", {});
    assert.equal(viaKey.status, 200);
    assert.equal(viaKey.body.images.secure_base_url, "https://image.tmdb.org/t/p/");
    assert.ok(viaKey.body.images.poster_sizes.includes("w500"));
  });
});

Deno.test("latency option delays answers", async () => {
  await withStandin({ latencyMs: 60 }, async (s) => {
    const t0 = performance.now();
    assert.equal((await get(s, "/configuration")).status, 200);
    assert.ok(performance.now() - t0 >= 55);
    s.setFaults({ latencyMs: 0 });
    const t1 = performance.now();
    await get(s, "/configuration");
    assert.ok(performance.now() - t1 < 55);
  });
});

Deno.test("variation is on by default: details, lists and changes are served varied, identically every time", async () => {
  await withStandin({ size: 3000 }, async (s) => {
    assert.equal(s.variation, true);
    assert.equal((await control(s, "health")).variation, true);
    const parts = "credits,videos,release_dates,external_ids,keywords";
    // Movies with at least two kinds that change details.
    const ids = Array.from(s.catalog.ids).filter((id) =>
      (variedDetails(s.catalog, id, NOW.getTime(), parts.split(","))?.applied.length ?? 0) >= 2
    ).slice(0, 10);
    assert.equal(ids.length, 10);
    for (const id of ids) {
      const expected = variedDetails(s.catalog, id, NOW.getTime(), parts.split(","))!;
      const first = await fetch(`${s.url}/movie/${id}?append_to_response=${parts}`, {
        headers: AUTH,
      }).then((r) => r.text());
      const second = await fetch(`${s.url}/movie/${id}?append_to_response=${parts}`, {
        headers: AUTH,
      }).then((r) => r.text());
      assert.equal(first, JSON.stringify(expected.body), `movie ${id}`);
      assert.equal(second, first, `movie ${id} served twice differently`);
      assert.notEqual(
        first,
        JSON.stringify(s.catalog.details(id, NOW.getTime(), parts.split(","))),
        `movie ${id} (${expected.applied}) served as built`,
      );
    }
    // List items and changes items: exactly what varyPage makes of the catalog's page.
    for (let page = 1; page <= 5; page++) {
      const served = await get(s, `/movie/popular?page=${page}`);
      const expected = varyPage(s.catalog.popular(NOW.getTime(), page), "/movie/popular", {
        seed: s.catalog.seed,
      });
      assert.deepEqual(served.body, JSON.parse(JSON.stringify(expected.body)));
    }
    const window = "start_date=2026-02-20&end_date=2026-03-01";
    const changes = await get(s, `/movie/changes?${window}`);
    const nulls = changes.body.results.filter((x: Json) => x.adult === null);
    const expectNull = changes.body.results.filter((x: Json) =>
      variationsOf(x.id, { seed: s.catalog.seed }).includes("changes_adult_null")
    );
    assert.deepEqual(nulls.map((x: Json) => x.id), expectNull.map((x: Json) => x.id));
    assert.ok(nulls.length > 0, "some changes item has adult: null");
  });
});

Deno.test("variation off (option or --variation off) serves the catalog's payloads as built", async () => {
  await withStandin({ variation: false }, async (s) => {
    assert.equal((await control(s, "health")).variation, false);
    const id = Array.from(s.catalog.ids).find((x) => variationsOf(x, { seed: 1 }).length >= 3)!;
    const served = await get(s, `/movie/${id}?append_to_response=credits,release_dates`);
    assert.deepEqual(
      served.body,
      JSON.parse(
        JSON.stringify(s.catalog.details(id, NOW.getTime(), ["credits", "release_dates"])),
      ),
    );
  });
  const cli = (...flags: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./server.ts", import.meta.url).pathname, "--port", "0"]
        .concat(flags),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const bad = await cli("--variation", "maybe").output();
  assert.equal(bad.code, 2);
  assert.match(
    new TextDecoder().decode(bad.stderr),
    /--variation must be on or off, got \\"maybe\\"/,
  );
  const off = cli("--variation", "off", "--size", "200", "--quiet");
  const reader = off.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    assert.equal(JSON.parse(text.split("\n")[0]).variation, "off");
  } finally {
    off.kill("SIGTERM");
    await reader.cancel();
    await off.stderr.cancel();
    await off.status;
  }
});

Deno.test("a 1,200,000-movie stand-in starts quickly and answers at once (generous bounds)", async () => {
  const t0 = performance.now();
  const s = await startTmdbStandin({ port: 0, size: 1_200_000, now: () => NOW });
  const started = performance.now() - t0;
  try {
    assert.ok(started < 3_000, `in-process start took ${Math.round(started)} ms`);
    const id = s.catalog.ids[987_654];
    const t1 = performance.now();
    const res = await fetch(`${s.url}/movie/${id}?append_to_response=credits,videos`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).id, id);
    const first = performance.now() - t1;
    assert.ok(first < 3_000, `first /movie/{id} took ${Math.round(first)} ms`);
    let hole = id + 1;
    while (s.catalog.exists(hole, NOW.getTime())) hole++;
    const missing = await fetch(`${s.url}/movie/${hole}`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    console.log(
      `1.2 M movies: in-process start ${Math.round(started)} ms, first details ${
        Math.round(first)
      } ms`,
    );
  } finally {
    await s.close();
  }
  const p = await spawnStandin(["--size", "1200000"]);
  try {
    assert.equal(p.listening.size, 1_200_000);
    assert.ok(p.startMs < 20_000, `process start took ${Math.round(p.startMs)} ms`);
    const rss = await p.rssMb();
    console.log(`1.2 M movies: process listening after ${Math.round(p.startMs)} ms, RSS ${rss} MB`);
    if (rss !== null) assert.ok(rss < 400, `RSS at start ${rss} MB`);
  } finally {
    await p.stop();
  }
});
