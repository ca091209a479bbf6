import assert from "node:assert/strict";
import { DAY_MS } from "./catalog.ts";
import { startTmdbStandin, type TmdbStandin, type TmdbStandinOptions } from "./server.ts";
import { variationsOf, variedDetails, varyPage } from "./variation.ts";

/** Parsed JSON of unknown shape (tests index into it freely). */
// deno-lint-ignore no-explicit-any
type Json = any;

const NOW = new Date("2026-03-01T12:00:00Z");
const TOKEN = "test-read-access-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function withStandin(
  options: TmdbStandinOptions,
  fn: (s: TmdbStandin) => Promise<void>,
): Promise<void> {
  const standin = await startTmdbStandin({
    port: 0,
    size: 2000,
    token: TOKEN,
    now: () => NOW,
    ...options,
  });
  try {
    await fn(standin);
  } finally {
    await standin.close();
  }
}

async function get(
  s: TmdbStandin,
  path: string,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), headers: res.headers };
}

async function control(s: TmdbStandin, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${s.origin}/__control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  return { status: res.status, ...json };
}

function assertTmdbError(r: { status: number; body: Json }, http: number, code: number) {
  assert.equal(r.status, http, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(r.body.status_code, code);
  assert.equal(typeof r.body.status_message, "string");
}

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

Deno.test("lists: TMDB shape; page must be an integer 1..500 (else 400/22)", async () => {
  // The shape as built: variation would add unknown fields to some envelopes.
  await withStandin({ size: 30_000, variation: false }, async (s) => {
    const popular = await get(s, "/movie/popular?page=2&language=en-US");
    assert.equal(popular.status, 200);
    assert.deepEqual(Object.keys(popular.body), [
      "page",
      "results",
      "total_pages",
      "total_results",
    ]);
    assert.equal(popular.body.page, 2);
    assert.equal(popular.body.results.length, 20);
    assert.ok(popular.body.total_pages > 500, "total_pages may exceed 500 like TMDB's");
    const last = await get(s, "/movie/popular?page=500");
    assert.equal(last.body.results.length, 20);
    for (const bad of ["501", "0", "-1", "abc", "1.5", ""]) {
      assertTmdbError(await get(s, `/movie/popular?page=${bad}`), 400, 22);
    }
    const np = await get(s, "/movie/now_playing");
    assert.deepEqual(Object.keys(np.body.dates), ["maximum", "minimum"]);
    for (const path of ["/trending/movie/day", "/trending/movie/week", "/movie/upcoming"]) {
      assert.equal((await get(s, path)).status, 200, path);
    }
    assertTmdbError(await get(s, "/trending/movie/day?page=501"), 400, 22);
    assertTmdbError(await get(s, "/tv/popular"), 404, 34);
    assertTmdbError(await get(s, "/movie/1"), 404, 34);
    assertTmdbError(await get(s, "/movie/abc"), 404, 34);
  });
});

Deno.test("append_to_response: more than 20 parts → 400/27; unknown parts ignored", async () => {
  await withStandin({}, async (s) => {
    const parts = (n: number) => Array.from({ length: n }, (_, i) => `part${i}`).join(",");
    assertTmdbError(await get(s, `/movie/550?append_to_response=${parts(21)}`), 400, 27);
    const ok = await get(s, `/movie/550?append_to_response=credits,${parts(19)}`);
    assert.equal(ok.status, 200);
    assert.ok(ok.body.credits);
    assert.equal(ok.body.part0, undefined);
  });
});

Deno.test("changes: window > 14 days → 422/20; default window is the last 24 h", async () => {
  // Item keys as built: variation would null some `adult`s and add unknown fields.
  await withStandin({ variation: false }, async (s) => {
    assertTmdbError(
      await get(s, "/movie/changes?start_date=2026-02-01&end_date=2026-02-16"),
      422,
      20,
    );
    const r = await get(s, "/movie/changes?start_date=2026-02-01&end_date=2026-02-15");
    assert.equal(r.status, 200);
    assert.ok(r.body.total_results > 100);
    assert.equal(r.body.results.length, 100);
    assert.deepEqual(Object.keys(r.body.results[0]), ["id", "adult"]);
    assert.equal(r.body.total_pages, Math.ceil(r.body.total_results / 100));
    const expected = s.catalog.changedIds(NOW.getTime() - DAY_MS, NOW.getTime() + 1, NOW.getTime());
    const def = await get(s, "/movie/changes");
    assert.deepEqual(def.body.results.map((x: { id: number }) => x.id), expected.slice(0, 100));
    assertTmdbError(await get(s, "/movie/changes?start_date=yesterday"), 422, 5);
  });
});

Deno.test("changes are listed after advancing the clock (control API and in-process)", async () => {
  await withStandin({}, async (s) => {
    const now = NOW.getTime();
    const next = s.catalog.changedIds(now + 1, now + DAY_MS, now + DAY_MS);
    assert.ok(next.length > 0);
    const id = next[0];
    const window = "start_date=2026-03-01T12:00:00Z&end_date=2026-03-02T12:00:00Z";
    const before = await get(s, `/movie/changes?${window}`);
    assert.ok(!before.body.results.some((x: { id: number }) => x.id === id));
    const detailsBefore = await get(s, `/movie/${id}`);

    const clock = await control(s, "clock", { advanceMs: DAY_MS });
    assert.equal(clock.now, "2026-03-02T12:00:00.000Z");
    const after = await get(s, `/movie/changes?${window}`);
    assert.ok(after.body.results.some((x: { id: number }) => x.id === id));
    const detailsAfter = await get(s, `/movie/${id}`);
    assert.notDeepEqual(detailsAfter.body, detailsBefore.body);

    const def = await get(s, "/movie/changes");
    assert.ok(def.body.results.some((x: { id: number }) => x.id === id));
    s.setNow(NOW);
    assert.equal(s.now().toISOString(), NOW.toISOString());
    assert.equal(
      (await control(s, "clock", { now: "2026-03-05T00:00:00Z" })).now,
      "2026-03-05T00:00:00.000Z",
    );
    s.advance(-DAY_MS);
    assert.equal((await control(s, "clock")).now, "2026-03-04T00:00:00.000Z");
    assert.equal((await control(s, "clock", { advanceMs: "x" })).status, 400);
  });
});

Deno.test("rate limit: requests over the bucket get 429/25 with Retry-After", async () => {
  await withStandin({ rateLimitPerSecond: 5 }, async (s) => {
    const statuses: number[] = [];
    let limited: { status: number; body: Json; headers: Headers } | undefined;
    for (let i = 0; i < 15; i++) {
      const r = await get(s, "/configuration");
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    assert.ok(statuses.slice(0, 5).every((x) => x === 200), statuses.join(","));
    const n429 = statuses.filter((x) => x === 429).length;
    assert.ok(n429 >= 8, statuses.join(","));
    assertTmdbError(limited!, 429, 25);
    assert.match(limited!.body.status_message, /over the allowed limit of \(5\)/);
    assert.ok(Number(limited!.headers.get("retry-after")) >= 1);
    const stats = s.stats();
    assert.equal(stats.rateLimited, n429);
    assert.equal(stats.byStatus["429"], n429);
    assert.equal(stats.total, 15);
    // All 15 arrived within a second (rate-limited requests count: they reached TMDB).
    assert.equal(stats.busiestSecond, 15);
  });
});

Deno.test("busiestSecond: the most requests in any sliding second, reset with the stats", async () => {
  await withStandin({}, async (s) => {
    for (let i = 0; i < 4; i++) await get(s, "/configuration");
    await new Promise((r) => setTimeout(r, 1_100));
    for (let i = 0; i < 3; i++) await get(s, "/configuration");
    assert.equal(s.stats().busiestSecond, 4);
    s.resetStats();
    assert.equal(s.stats().busiestSecond, 0);
    await get(s, "/configuration");
    assert.equal(s.stats().busiestSecond, 1);
  });
});

Deno.test("5xx / 429 faults: rates honoured, counted, deterministic per seed", async () => {
  const run = async () => {
    let counts = { e5xx: 0, e429: 0, noRetryAfter: 0, html: 0 };
    await withStandin({}, async (s) => {
      const set = await control(s, "faults", {
        errorRate5xx: 0.2,
        rate429: 0.1,
        retryAfterSeconds: null,
        seed: 42,
      });
      assert.equal(set.ok, true);
      for (let i = 0; i < 300; i++) {
        const res = await fetch(`${s.url}/configuration`, { headers: AUTH });
        const text = await res.text();
        if (res.status >= 500) {
          counts.e5xx++;
          if (res.status === 502) {
            counts.html++;
            assert.match(text, /<html>/);
          } else assert.equal(typeof JSON.parse(text).status_code, "number");
        } else if (res.status === 429) {
          counts.e429++;
          if (res.headers.get("retry-after") === null) counts.noRetryAfter++;
          assert.equal(JSON.parse(text).status_code, 25);
        } else assert.equal(res.status, 200);
      }
      const stats = await control(s, "stats");
      assert.equal(stats.injected.error5xx, counts.e5xx);
      assert.equal(stats.injected.rate429, counts.e429);
      assert.equal(stats.rateLimited, 0);
      assert.equal(stats.total, 300);
      assert.equal(stats.byEndpoint["/configuration"], 300);
      await control(s, "reset", {});
      assert.equal((await control(s, "stats")).total, 0);
    });
    counts = { ...counts };
    return counts;
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(first, second, "same fault seed → same fault sequence");
  assert.ok(first.e5xx >= 40 && first.e5xx <= 80, `5xx count ${first.e5xx}`);
  assert.ok(first.e429 >= 15 && first.e429 <= 45, `429 count ${first.e429}`);
  assert.equal(first.noRetryAfter, first.e429);
  assert.ok(first.html > 0);
});

Deno.test("control API validates fault settings (400 on bad values)", async () => {
  await withStandin({}, async (s) => {
    assert.equal((await control(s, "faults", { errorRate5xx: 1.5 })).status, 400);
    assert.equal((await control(s, "faults", { hangRate: 0.6, rate429: 0.6 })).status, 400);
    assert.equal((await control(s, "faults", { bogus: 1 })).status, 400);
    assert.equal((await control(s, "faults", { notFoundIds: ["x"] })).status, 400);
    const res = await fetch(`${s.origin}/__control/faults`, { method: "POST", body: "{oops" });
    assert.equal(res.status, 400);
    await res.body?.cancel();
    assert.throws(() => s.setFaults({ malformedJsonRate: -1 }));
    assert.deepEqual((await control(s, "faults")).status, 200);
    const health = await control(s, "health");
    assert.equal(health.ok, true);
    assert.equal(health.size, 2000);
  });
});

Deno.test("malformed JSON fault: 200 with a body that does not parse", async () => {
  await withStandin({ faults: { malformedJsonRate: 1 } }, async (s) => {
    for (const path of ["/movie/550", "/movie/popular", "/configuration"]) {
      const res = await fetch(`${s.url}${path}`, { headers: AUTH });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.length > 0);
      assert.throws(() => JSON.parse(text), SyntaxError);
    }
    // Errors are not mangled.
    assertTmdbError(await get(s, "/movie/1"), 404, 34);
    assert.equal(s.stats().injected.malformedJson, 3);
  });
});

Deno.test("hang fault: no answer within a short client timeout; close() still returns", async () => {
  await withStandin({ faults: { hangRate: 1 } }, async (s) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    await assert.rejects(
      fetch(`${s.url}/movie/550`, { headers: AUTH, signal: controller.signal }),
      (e: Error) => e.name === "AbortError",
    );
    clearTimeout(timer);
    assert.ok(performance.now() - started >= 140);
    assert.equal(s.stats().injected.hang, 1);
    // A hang bounded by hangMs answers normally afterwards.
    s.setFaults({ hangRate: 1, hangMs: 50 });
    const t0 = performance.now();
    assert.equal((await get(s, "/movie/550")).status, 200);
    assert.ok(performance.now() - t0 >= 45);
    // A hang still pending when the server closes does not keep close() waiting.
    s.setFaults({ hangRate: 1 });
    const pending = fetch(`${s.url}/movie/550`, { headers: AUTH }).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    }, () => 0);
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    assert.ok([0, 503].includes(await pending));
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

Deno.test("not-found faults: listed ids and a deterministic share of ids → 404/34", async () => {
  await withStandin({}, async (s) => {
    await control(s, "faults", { notFoundIds: [550] });
    assertTmdbError(await get(s, "/movie/550"), 404, 34);
    const other = s.catalog.ids[10];
    assert.equal((await get(s, `/movie/${other}`)).status, 200);

    await control(s, "faults", { notFoundRate: 0.3, seed: 7 });
    const ids = Array.from(s.catalog.ids.slice(0, 100));
    const pass1: number[] = [];
    for (const id of ids) pass1.push((await get(s, `/movie/${id}`)).status);
    const pass2: number[] = [];
    for (const id of ids) pass2.push((await get(s, `/movie/${id}`)).status);
    assert.deepEqual(pass1, pass2, "same ids 404 every time");
    const n404 = pass1.filter((x) => x === 404).length;
    assert.ok(n404 >= 15 && n404 <= 45, `404 count ${n404}`);
    const stats = s.stats();
    assert.equal(stats.injected.notFound, 1 + 2 * n404);
    assert.equal(stats.byMovieId[String(ids[1])], 2);
    assert.equal(stats.byEndpoint["/movie/{id}"], 202);
  });
});

Deno.test("CLI: prints a listening line, logs requests without secrets, exits on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./server.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--size",
      "500",
      "--token",
      "cli-secret",
      "--rate-limit",
      "100",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const nextLine = async (): Promise<string> => {
    while (!buffer.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stdout ended: ${buffer}`);
      buffer += value;
    }
    const i = buffer.indexOf("\n");
    const line = buffer.slice(0, i);
    buffer = buffer.slice(i + 1);
    return line;
  };
  try {
    const listening = JSON.parse(await nextLine());
    assert.equal(listening.event, "listening");
    assert.equal(listening.variation, "on", "variation is on unless --variation off");
    assert.match(listening.url, /^http:\/\/127\.0\.0\.1:\d+\/3$/);
    const res = await fetch(`${listening.url}/movie/550?api_key=cli-secret`, {
      headers: { authorization: "Bearer cli-secret" },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const line = await nextLine();
    const log = JSON.parse(line);
    assert.deepEqual(
      { event: log.event, method: log.method, path: log.path, status: log.status },
      { event: "request", method: "GET", path: "/3/movie/550", status: 200 },
    );
    assert.equal(typeof log.ms, "number");
    assert.ok(!line.includes("cli-secret"));
    child.kill("SIGTERM");
    let rest = buffer;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
    assert.match(rest, /"event":"stopped"/);
    const status = await child.status;
    assert.equal(status.code, 0);
  } finally {
    reader.releaseLock();
    await child.stderr.cancel();
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
  }
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
