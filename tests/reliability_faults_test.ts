/**
 * Reliability, scenario 1 (docs/reliability.md): the refresh worker against a TMDB fault
 * matrix — 10 % 5xx, 5 % 429 (with Retry-After in one run, without in the other), 2 % hangs
 * past the client timeout, 1 % malformed JSON, 1 % of the ids answering 404.
 *
 * N movies (200 + 100; heavy 2,000 + 1,000) are queued; half of them are first made stale
 * on purpose (payload hash zeroed, cast rows deleted) so their refresh has to rewrite them.
 * refresh-worker runs on a second functions host with `TMDB_TIMEOUT_MS=1000` (the stack's
 * host keeps the 10 s default; the stand-in's hangs last 3 s, past that timeout), and is
 * invoked until the queue settles; between invocations `next_attempt_at` is moved to now,
 * which is what time passing does to the retry backoff. Then, exactly:
 * - every queued movie is `completed` (with a result) or `failed` (with `last_error`, after
 *   its 3 attempts), and no item is left pending or processing;
 * - no work row is half-written: a completed movie's stored hash is the hash of a payload the
 *   stand-in served and its child row counts are what `ingest_movie` stores for that payload;
 *   a failed movie is exactly as it was before the run;
 * - the 404 ids end `completed` / `not_found` with `works.tmdb_missing_at` set;
 * - TMDB requests (stand-in stats) ≤ movies × 3 queue attempts × 4 client attempts, and
 *   every one of them has its row in `tmdb_api_logs`.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import {
  appendToResponse,
  MOVIE_APPEND_PARTS,
} from "../supabase/functions/_shared/tmdb/schemas.ts";
import {
  callFunction,
  control,
  type ExtraHost,
  ingestThroughFunction,
  report,
  size,
  standinStats,
  startExtraHost,
  withIsolatedQueue,
} from "./_reliability.ts";
import { needsStack, popularIds, tmdbGet } from "./_stack.ts";

const QUEUE_ATTEMPTS = 3;
const CLIENT_ATTEMPTS = 4;
const CLIENT_TIMEOUT_MS = 1000;

type Payload = Record<string, unknown> & { id: number };

interface Children {
  cast: number;
  crew: number;
  videos: number;
  genres: number;
  release_dates: number;
}

/** The movie as the refresh worker would fetch it (same URL), faults off. */
async function fetchPayloads(ids: number[]): Promise<Map<number, Payload>> {
  const out = new Map<number, Payload>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const { status, body } = await tmdbGet(
        `/movie/${id}?append_to_response=${appendToResponse(MOVIE_APPEND_PARTS)}`,
      );
      assert.equal(status, 200, `movie ${id}: ${JSON.stringify(body)}`);
      out.set(id, body as unknown as Payload);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

/** sha256 of each payload's canonical jsonb text: what `ingest_movie` stores as payload_hash. */
async function hashes(
  sql: postgres.Sql,
  payloads: Map<number, Payload>,
): Promise<Map<number, string>> {
  const list = [...payloads.values()];
  const rows = await sql`
    select (p ->> 'id')::int as id, encode(sha256(convert_to(p::text, 'UTF8')), 'hex') as hash
      from jsonb_array_elements(${sql.json(list as unknown as postgres.JSONValue)}) as p`;
  return new Map(rows.map((r) => [r.id as number, r.hash as string]));
}

const ROLLBACK = new Error("rollback");

/** The child rows `ingest_movie` stores for `payload` (computed in a rolled-back transaction). */
async function childrenFor(sql: postgres.Sql, payload: Payload): Promise<Children> {
  let out: Children | undefined;
  try {
    await sql.begin(async (tx) => {
      await tx`delete from public.works where tmdb_id = ${payload.id}`;
      const [{ r }] = await tx`
        select public.ingest_movie(${tx.json(payload as unknown as postgres.JSONValue)}) as r`;
      out = {
        cast: r.cast,
        crew: r.crew,
        videos: r.videos,
        genres: r.genres,
        release_dates: r.release_dates,
      };
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  return out!;
}

interface WorkState extends Children {
  tmdb_id: number;
  work_id: number;
  payload_hash: string;
  tmdb_missing_at: Date | null;
}

async function workStates(sql: postgres.Sql, ids: number[]): Promise<Map<number, WorkState>> {
  const rows = await sql<WorkState[]>`
    select w.tmdb_id, w.id::int as work_id, w.payload_hash, w.tmdb_missing_at,
           (select count(*) from public.work_cast x where x.work_id = w.id)::int as cast,
           (select count(*) from public.work_crew x where x.work_id = w.id)::int as crew,
           (select count(*) from public.work_videos x where x.work_id = w.id)::int as videos,
           (select count(*) from public.work_genres x where x.work_id = w.id)::int as genres,
           (select count(*) from public.work_release_dates x where x.work_id = w.id)::int
             as release_dates
      from public.works w where w.tmdb_id = any(${ids})`;
  return new Map(rows.map((r) => [r.tmdb_id, r]));
}

const childrenOf = (s: Children): Children => ({
  cast: s.cast,
  crew: s.crew,
  videos: s.videos,
  genres: s.genres,
  release_dates: s.release_dates,
});

async function runMatrix(
  label: string,
  n: number,
  faults: Record<string, unknown>,
): Promise<void> {
  let host: ExtraHost | undefined;
  const started = performance.now();
  await withIsolatedQueue(async ({ sql, park }) => {
    await control("faults", {});
    const ids = await popularIds(n);
    await ingestThroughFunction(ids);
    const notFound = ids.filter((_, i) => i % 100 === 50);
    const mutated = new Set(ids.filter((_, i) => i % 2 === 0 && i % 100 !== 50));
    const works = await sql`select id, tmdb_id from public.works where tmdb_id = any(${ids})`;
    assert.equal(works.length, n);
    const workIds = works.map((w) => Number(w.id));

    // Make half of them stale for real: the refresh has to rewrite the work and its cast.
    await sql`update public.works set payload_hash = repeat('0', 64), tmdb_missing_at = null
               where tmdb_id = any(${[...mutated]})`;
    await sql`delete from public.work_cast
               where work_id in (select id from public.works where tmdb_id = any(${[...mutated]}))`;
    await sql`update public.works set tmdb_missing_at = null where tmdb_id = any(${notFound})`;
    await sql`delete from public.refresh_queue where work_id = any(${workIds})`;
    await park(workIds);
    const beforeRun = await workStates(sql, ids);
    const payloadsBefore = await fetchPayloads(ids);

    host = await startExtraHost(`faults_${label}`, { TMDB_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS) });
    const [{ n: queued }] = await sql`
      select public.enqueue_refresh(${workIds}::bigint[], 'manual', 100::smallint) as n`;
    assert.equal(queued, n);
    await control("faults", { ...faults, notFoundIds: notFound });
    await control("reset", {});

    const runIds: string[] = [];
    const totals = { claimed: 0, refreshed: 0, unchanged: 0, not_found: 0, retried: 0, failed: 0 };
    let invocations = 0;
    for (; invocations < 12; invocations++) {
      const [open] = await sql`
        select count(*) filter (where status in ('pending', 'processing'))::int as open,
               count(*) filter (where status = 'processing')::int as processing
          from public.refresh_queue where work_id = any(${workIds})`;
      assert.equal(open.processing, 0, "no item is left processing between runs");
      if (open.open === 0) break;
      // Time passes: the retry backoff is over.
      await sql`update public.refresh_queue set next_attempt_at = now()
                 where work_id = any(${workIds}) and status = 'pending'`;
      const r = await callFunction("refresh-worker", { batch_size: 20, budget_ms: 120_000 }, {
        baseUrl: host.functionsUrl,
      });
      assert.equal(r.status, 200, r.text.slice(0, 1000));
      runIds.push(r.json.run_id);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.json[k];
    }
    const stats = await standinStats();
    await control("faults", {});

    // --- every item final, with its result or its error ---
    const rows = await sql`
      select w.tmdb_id, q.status, q.result, q.last_error, q.retry_count, q.max_retries
        from public.refresh_queue q join public.works w on w.id = q.work_id
       where q.work_id = any(${workIds})`;
    assert.equal(rows.length, n);
    const badFinal = rows.filter((r) =>
      !((r.status === "completed" && r.result !== null) ||
        (r.status === "failed" && typeof r.last_error === "string" && r.last_error !== "" &&
          r.retry_count === r.max_retries)) || r.retry_count > r.max_retries
    );
    assert.deepEqual(badFinal, [], "every item completed with a result or failed with its error");
    const byTmdb = new Map(rows.map((r) => [r.tmdb_id as number, r]));

    // --- 404s ---
    const after = await workStates(sql, ids);
    for (const id of notFound) {
      const q = byTmdb.get(id)!;
      assert.equal(q.status, "completed", `404 movie ${id}: ${JSON.stringify(q)}`);
      assert.equal(q.result, "not_found");
      assert.ok(after.get(id)!.tmdb_missing_at instanceof Date, `tmdb_missing_at of ${id}`);
      assert.deepEqual(childrenOf(after.get(id)!), childrenOf(beforeRun.get(id)!));
    }

    // --- nothing half-written ---
    const payloadsAfter = await fetchPayloads(ids.filter((id) => !notFound.includes(id)));
    const hashBefore = await hashes(sql, payloadsBefore);
    const hashAfter = await hashes(sql, payloadsAfter);
    const halfWritten: string[] = [];
    let changedDuringRun = 0;
    for (const id of ids) {
      if (notFound.includes(id)) continue;
      const q = byTmdb.get(id)!;
      const now = after.get(id)!;
      const was = beforeRun.get(id)!;
      if (hashBefore.get(id) !== hashAfter.get(id)) changedDuringRun++;
      if (q.status === "failed") {
        if (now.payload_hash !== was.payload_hash) {
          halfWritten.push(`${id}: failed but hash changed`);
        }
        if (JSON.stringify(childrenOf(now)) !== JSON.stringify(childrenOf(was))) {
          halfWritten.push(`${id}: failed but child rows changed`);
        }
        continue;
      }
      const payload = now.payload_hash === hashAfter.get(id)
        ? payloadsAfter.get(id)
        : now.payload_hash === hashBefore.get(id)
        ? payloadsBefore.get(id)
        : undefined;
      if (!payload) {
        halfWritten.push(`${id}: stored hash matches no payload the stand-in served`);
        continue;
      }
      const expected = await childrenFor(sql, payload);
      if (JSON.stringify(childrenOf(now)) !== JSON.stringify(expected)) {
        halfWritten.push(
          `${id}: children ${JSON.stringify(childrenOf(now))} != ${JSON.stringify(expected)}`,
        );
      }
      if (mutated.has(id) && q.result !== "refreshed") {
        halfWritten.push(`${id}: was stale, completed as ${q.result}`);
      }
    }
    assert.deepEqual(halfWritten, [], "no work row is half-written");

    // --- the TMDB budget, and every request logged ---
    const budget = n * QUEUE_ATTEMPTS * CLIENT_ATTEMPTS;
    assert.ok(stats.total <= budget, `TMDB requests ${stats.total} > budget ${budget}`);
    const [{ logged }] = await sql`
      select count(*)::int as logged from public.tmdb_api_logs where run_id = any(${runIds}::uuid[])`;
    assert.equal(logged, stats.total, "every TMDB request has its tmdb_api_logs row");
    assert.ok(
      stats.injected.error5xx > 0 && stats.injected.rate429 > 0,
      JSON.stringify(stats.injected),
    );
    assert.ok(
      stats.injected.hang > 0 && stats.injected.notFound > 0,
      JSON.stringify(stats.injected),
    );
    assert.ok(stats.injected.malformedJson > 0, JSON.stringify(stats.injected));

    const completed = rows.filter((r) => r.status === "completed");
    report(`faults ${label}`, {
      movies: n,
      faults: { ...faults, notFoundIds: notFound.length },
      client_timeout_ms: CLIENT_TIMEOUT_MS,
      invocations,
      completed: completed.length,
      refreshed: completed.filter((r) => r.result === "refreshed").length,
      unchanged: completed.filter((r) => r.result === "unchanged").length,
      not_found: completed.filter((r) => r.result === "not_found").length,
      failed: rows.length - completed.length,
      failed_errors: rows.filter((r) => r.status === "failed").map((r) =>
        r.last_error.slice(0, 80)
      ),
      attempts_histogram: [1, 2, 3].map((a) => rows.filter((r) => r.retry_count === a).length),
      tmdb_requests: stats.total,
      tmdb_budget: budget,
      by_status: stats.byStatus,
      injected: stats.injected,
      changed_on_tmdb_during_run: changedDuringRun,
      half_written: halfWritten.length,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    });
    // Leave the catalog whole again (the failed ones are still stale on purpose).
    await ingestThroughFunction(ids);
  }, {
    cleanup: async () => {
      await control("faults", {}).catch(() => {});
      await host?.close();
    },
  });
}

const MATRIX = {
  errorRate5xx: 0.10,
  rate429: 0.05,
  hangRate: 0.02,
  hangMs: 3 * CLIENT_TIMEOUT_MS,
  malformedJsonRate: 0.01,
};

Deno.test({
  name:
    "reliability: refresh-worker under 10 % 5xx, 5 % 429 with Retry-After, 2 % hangs, 1 % malformed JSON, 1 % 404: every item final, nothing half-written, TMDB calls within the retry budget",
  ...needsStack(),
  async fn() {
    await runMatrix("retry_after", size(200, 2000), {
      ...MATRIX,
      retryAfterSeconds: 1,
      seed: 22,
    });
  },
});

Deno.test({
  name:
    "reliability: refresh-worker under the same faults with 429s that carry no Retry-After: every item final, nothing half-written, within budget",
  ...needsStack(),
  async fn() {
    await runMatrix("no_retry_after", size(100, 1000), {
      ...MATRIX,
      retryAfterSeconds: null,
      seed: 7,
    });
  },
});
