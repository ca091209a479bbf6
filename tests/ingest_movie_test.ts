/**
 * ingest-movie end to end: functions host → TMDB stand-in → Postgres.
 */
import assert from "node:assert/strict";
import { connect, needsStack, popularIds, stack } from "./_stack.ts";

const fnUrl = () => `${stack!.functionsUrl}/ingest-movie`;
const tmdbOrigin = () => stack!.tmdbUrl.replace(/\/3$/, "");

async function control(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${tmdbOrigin()}/__control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `control ${path}: ${res.status}`);
  return await res.json();
}

async function ingest(
  body: unknown,
  key = stack!.serviceRoleKey,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(fnUrl(), {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Child rows always match their work: a work row exists for every child, and each work with
 * a payload hash has exactly the child counts its ingest reported. */
async function assertNoHalfWrittenWorks(sql: ReturnType<typeof connect>, tmdbIds: number[]) {
  const [orphans] = await sql`
    select (select count(*) from public.work_cast c where not exists (select 1 from public.works w where w.id = c.work_id))::int
         + (select count(*) from public.work_genres g where not exists (select 1 from public.works w where w.id = g.work_id))::int as n`;
  assert.equal(orphans.n, 0);
  const rows = await sql`
    select w.tmdb_id, w.payload_hash,
           (select count(*) from public.work_cast c where c.work_id = w.id)::int as cast_rows
    from public.works w where w.tmdb_id = any(${tmdbIds})`;
  for (const r of rows) {
    assert.ok(r.payload_hash, `work ${r.tmdb_id} has its payload hash (fully written)`);
  }
}

Deno.test({
  name:
    "ingest-movie: 50 movies ingested, then all unchanged on a second run; API calls logged without the token",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await control("faults", {});
      const ids = await popularIds(50, 3);
      // at most 50 per request
      const first = await ingest({ tmdb_ids: ids });
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.equal(first.json.requested, 50);
      assert.equal(
        (first.json.inserted as number) + (first.json.updated as number) +
          (first.json.unchanged as number),
        50,
        JSON.stringify(first.json),
      );
      assert.deepEqual(first.json.failed, []);
      const [{ n }] =
        await sql`select count(*)::int as n from public.works where tmdb_id = any(${ids})`;
      assert.equal(n, 50);

      const second = await ingest({ tmdb_ids: ids });
      assert.equal(second.status, 200);
      assert.equal(second.json.unchanged, 50, JSON.stringify(second.json));
      assert.equal(second.json.ingested, 0);

      const [logs] =
        await sql`select count(*)::int as n, count(*) filter (where params::text like '%api_key%')::int as leaked
                               from public.tmdb_api_logs where function_name = 'ingest-movie' and run_id = ${second
          .json.run_id as string}`;
      assert.equal(logs.n, 50, "one API log row per TMDB call, written in batches");
      assert.equal(logs.leaked, 0);
      const [tok] =
        await sql`select count(*)::int as n from public.tmdb_api_logs where (params::text || coalesce(error, '') || endpoint) like ${
          "%" + stack!.tmdbToken + "%"
        }`;
      assert.equal(tok.n, 0, "the TMDB token appears in no log row");
      await assertNoHalfWrittenWorks(sql, ids);
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name:
    "ingest-movie under 5xx, 429 and malformed bodies: every movie ingested or reported failed, none half-written",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const ids = await popularIds(40, 8);
      await sql`delete from public.works where tmdb_id = any(${ids})`;
      await control("faults", {
        errorRate5xx: 0.2,
        rate429: 0.1,
        retryAfterSeconds: 0,
        malformedJsonRate: 0.15,
        seed: 7,
      });
      const res = await ingest({ tmdb_ids: ids });
      await control("faults", {});
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const failed = res.json.failed as { tmdb_id: number; kind: string; message: string }[];
      const ok = (res.json.inserted as number) + (res.json.updated as number) +
        (res.json.unchanged as number);
      assert.equal(
        ok + failed.length + (res.json.not_found as number[]).length,
        40,
        JSON.stringify(res.json),
      );
      assert.ok(
        failed.length > 0,
        "with 15 % malformed bodies some movies fail (malformed JSON is not retried)",
      );
      for (const f of failed) {
        assert.ok(f.kind && f.message, `failure of ${f.tmdb_id} carries its error`);
      }
      const [{ n }] =
        await sql`select count(*)::int as n from public.works where tmdb_id = any(${ids})`;
      assert.equal(n, ok, "exactly the movies reported ingested exist");
      const failedInDb = await sql`select tmdb_id from public.works where tmdb_id = any(${
        failed.map((f) => f.tmdb_id)
      })`;
      assert.deepEqual([...failedInDb], [], "no failed movie left a row behind");
      await assertNoHalfWrittenWorks(sql, ids);
    } finally {
      await control("faults", {}).catch(() => {});
      await sql.end();
    }
  },
});

Deno.test({
  name: "ingest-movie rejects bad keys with 401 and bad bodies with 400 naming the field",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const [before] = await sql`select count(*)::int as n from public.works`;
      for (const key of ["wrong-key", stack!.anonKey, stack!.publishableKey]) {
        const r = await ingest({ tmdb_id: 550 }, key);
        assert.equal(r.status, 401, `key ${key.slice(0, 12)}… → 401`);
      }
      const noKey = await fetch(fnUrl(), { method: "POST", body: "{}" });
      assert.equal(noKey.status, 401);
      await noKey.body?.cancel();
      const secret = await ingest({ tmdb_id: 550 }, stack!.secretKey);
      assert.equal(secret.status, 200, "an sb_secret_ key is accepted");

      const cases: [unknown, RegExp][] = [
        [{ tmdb_id: "550" }, /tmdb_id/],
        [{ tmdb_ids: [1, "x"] }, /tmdb_ids\[1\]/],
        [{ tmdb_ids: Array.from({ length: 51 }, (_, i) => i + 1) }, /tmdb_ids.*50/],
        [{ tmdb_id: -3 }, /tmdb_id/],
        [{}, /tmdb_id/],
        [{ tmdb_id: 550, extra: 1 }, /extra/],
        ["not json", /JSON/i],
      ];
      for (const [body, re] of cases) {
        const r = await ingest(body);
        assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)} → 400 (got ${r.status})`);
        assert.match(String(r.json.message), re, JSON.stringify(r.json));
      }
      const get = await fetch(fnUrl(), {
        headers: { authorization: `Bearer ${stack!.serviceRoleKey}` },
      });
      assert.equal(get.status, 405);
      await get.body?.cancel();
      const [after] = await sql`select count(*)::int as n from public.works`;
      assert.equal(
        after.n - before.n <= 1,
        true,
        "only the one valid request (550) may have added a movie",
      );
    } finally {
      await sql.end();
    }
  },
});
