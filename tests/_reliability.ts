/**
 * Shared helpers of the reliability suite (`tests/reliability_*_test.ts`, docs/reliability.md):
 * the heavy/default switch, the TMDB stand-in's control API, calling functions over HTTP,
 * a second functions host with different env, pausing pg_cron and parking other tests' queue
 * rows (so counts are exact), database fingerprints, and the files the suite leaves behind
 * in `.stack/<name>/reliability/` (error bodies for the secrets scan, last results).
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import postgres from "postgres";
import { type EdgeLimits, edgeLimitsFromEnv } from "../local/functions_host/edge_limits.ts";
import { type FunctionsHost, startFunctionsHost } from "../local/functions_host/host.ts";
import { type StackConfig, stackConfig } from "../local/lib/stack_config.ts";
import { connect, stack } from "./_stack.ts";

/** `RELIABILITY_HEAVY=1` selects the heavy variants (docs/reliability.md). */
export const HEAVY = Deno.env.get("RELIABILITY_HEAVY") === "1";

/** `light` normally, `heavy` with `RELIABILITY_HEAVY=1`. */
export function size(light: number, heavy: number): number {
  return HEAVY ? heavy : light;
}

/** The running stack's config (ports, pid and log folders). */
export function cfg(): StackConfig {
  return stackConfig(stack!.name);
}

/** Where the suite writes what it leaves behind: `.stack/<name>/reliability/`. */
export function outDir(): string {
  const info = Deno.env.get("STACK_INFO");
  const dir = `${info ? dirname(info) : cfg().dir}/reliability`;
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Appends one JSON line to a file of {@link outDir}. */
export function appendJsonLine(file: string, value: unknown): void {
  Deno.writeTextFileSync(`${outDir()}/${file}`, JSON.stringify(value) + "\n", { append: true });
}

/** Prints a scenario's numbers and keeps them in `results.jsonl` (docs/reliability.md). */
export function report(scenario: string, numbers: Record<string, unknown>): void {
  const entry = { scenario, heavy: HEAVY, at: new Date().toISOString(), ...numbers };
  console.log(`[reliability] ${JSON.stringify(entry)}`);
  appendJsonLine("results.jsonl", entry);
}

/** Waits `ms` of real time (only where real I/O must happen, e.g. a process to die). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------
// TMDB stand-in
// ---------------------------------------------------------------------------------------

/** The stand-in's origin (without `/3`). */
export function tmdbOrigin(): string {
  return stack!.tmdbUrl.replace(/\/3$/, "");
}

/** Calls the stand-in's control API (`GET` without body, `POST` with). */
export async function control(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${tmdbOrigin()}/__control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `control ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The stand-in's request statistics. */
export interface StandinStats {
  total: number;
  byStatus: Record<string, number>;
  byMovieId: Record<string, number>;
  injected: {
    error5xx: number;
    rate429: number;
    hang: number;
    malformedJson: number;
    notFound: number;
  };
}

/** Reads the stand-in's statistics. */
export async function standinStats(): Promise<StandinStats> {
  return await control("stats") as unknown as StandinStats;
}

// ---------------------------------------------------------------------------------------
// Functions over HTTP
// ---------------------------------------------------------------------------------------

/** The answer of one function call. */
export interface FnAnswer {
  status: number;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
  headers: Headers;
}

/** Calls `<base>/<name>` (default: the stack's functions host) and reads the whole answer. */
export async function callFunction(
  name: string,
  body: unknown,
  opts: {
    key?: string | null;
    method?: string;
    headers?: Record<string, string>;
    baseUrl?: string;
    raw?: BodyInit;
    signal?: AbortSignal;
  } = {},
): Promise<FnAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const key = opts.key === undefined ? stack!.serviceRoleKey : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  Object.assign(headers, opts.headers ?? {});
  for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
  const method = opts.method ?? "POST";
  const res = await fetch(`${opts.baseUrl ?? stack!.functionsUrl}/${name}`, {
    method,
    headers,
    body: method === "GET" || method === "HEAD"
      ? undefined
      : opts.raw ?? (typeof body === "string" ? body : JSON.stringify(body)),
    signal: opts.signal,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON: the caller asserts on text */ }
  return { status: res.status, text, json, headers: res.headers };
}

/** Ingests `ids` through the stack's ingest-movie (50 per request, 4 requests at a time). */
export async function ingestThroughFunction(ids: number[]): Promise<void> {
  const chunks: number[][] = [];
  for (let i = 0; i < ids.length; i += 50) chunks.push(ids.slice(i, i + 50));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      const r = await callFunction("ingest-movie", { tmdb_ids: chunk });
      assert.equal(r.status, 200, `ingest-movie: ${r.text.slice(0, 500)}`);
      assert.deepEqual(
        r.json.failed,
        [],
        `ingest-movie failures: ${JSON.stringify(r.json.failed)}`,
      );
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** The env the stack gives its functions (`.stack/<name>/functions_env.json`). */
export function stackFunctionEnv(): Record<string, string> {
  return JSON.parse(Deno.readTextFileSync(`${cfg().dir}/functions_env.json`));
}

/** A second functions host serving the repo's functions with `overrides` on the stack's env. */
export interface ExtraHost extends FunctionsHost {
  /** `<url>/functions/v1`. */
  functionsUrl: string;
  /** The host's log file (one JSON line per entry), scanned by the secrets test. */
  logFile: string;
}

/**
 * Starts a second functions host on a free port, pointing at the same database, with the
 * stack's function env plus `overrides` (e.g. a low `TMDB_TIMEOUT_MS`, a wrong token), under
 * the same limits as the stack's host (`EDGE_*`). Its log goes to
 * `.stack/<name>/reliability/<label>.log`.
 */
export async function startExtraHost(
  label: string,
  overrides: Record<string, string>,
  limits: Partial<EdgeLimits> = {},
): Promise<ExtraHost> {
  const logFile = `${outDir()}/extra_host_${label}.log`;
  const file = await Deno.open(logFile, { create: true, append: true });
  const enc = new TextEncoder();
  const host = await startFunctionsHost({
    ...edgeLimitsFromEnv(Deno.env),
    ...limits,
    port: 0,
    functionsDir: `${cfg().root}/supabase/functions`,
    env: { ...stackFunctionEnv(), ...overrides },
    envFile: `${cfg().dir}/no-user-secrets.env`,
    log: (entry) => {
      try {
        file.writeSync(enc.encode(JSON.stringify(entry) + "\n"));
      } catch { /* closed */ }
    },
  });
  return {
    ...host,
    functionsUrl: `${host.url}/functions/v1`,
    logFile,
    close: async () => {
      await host.close();
      file.close();
    },
  };
}

/** A port nothing listens on (bound once, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

// ---------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------

/**
 * Pauses every active pg_cron job (as the superuser) so no scheduled call touches the queue
 * or the logs during a test; returns the function that resumes exactly those jobs.
 */
export async function pauseCron(admin: postgres.Sql): Promise<() => Promise<void>> {
  const rows = await admin`update cron.job set active = false where active returning jobid`;
  const ids = rows.map((r) => Number(r.jobid));
  // A fresh connection: the test's own may have died with a PostgreSQL restart.
  return async () => {
    if (ids.length === 0) return;
    const fresh = postgres(stack!.adminDbUrl, { max: 1, onnotice: () => {} });
    try {
      await fresh`update cron.job set active = true where jobid = any(${ids})`;
    } finally {
      await fresh.end();
    }
  };
}

/**
 * Parks every active queue row that is not on `mine` (work ids) far in the future, so the
 * workers of a test claim only its own rows; returns the function that puts them back (on a
 * fresh connection, so it works after a PostgreSQL restart too).
 */
export async function parkOtherQueueRows(
  sql: postgres.Sql,
  mine: number[],
): Promise<() => Promise<void>> {
  const parked = await sql`
    with old as (
      select id, next_attempt_at, lease_expires_at from public.refresh_queue
       where status in ('pending', 'processing') and not (work_id = any(${mine}::bigint[]))
       for update)
    update public.refresh_queue q
       set next_attempt_at = 'infinity'::timestamptz,
           lease_expires_at = case when q.status = 'processing' then 'infinity'::timestamptz end
      from old where q.id = old.id
    returning q.id,
              -- As text both ways: a row parked already holds 'infinity', which a JS Date cannot.
              old.next_attempt_at::text as next_attempt_at,
              old.lease_expires_at::text as lease_expires_at`;
  return async () => {
    if (parked.length === 0) return;
    const fresh = postgres(stack!.dbUrl, { max: 1, onnotice: () => {} });
    try {
      for (const p of parked) {
        await fresh`update public.refresh_queue
                       set next_attempt_at = ${p.next_attempt_at}::text::timestamptz,
                           lease_expires_at = ${p.lease_expires_at}::text::timestamptz
                     where id = ${p.id}`;
      }
    } finally {
      await fresh.end();
    }
  };
}

/** What {@link withIsolatedQueue} hands its test. */
export interface IsolatedQueue {
  /**
   * The test's connection (as postgres). A test that reconnects (e.g. after a PostgreSQL
   * restart) assigns the new one here, so that it is the one ended at the end.
   */
  sql: postgres.Sql;
  /** The superuser connection that paused pg_cron. */
  admin: postgres.Sql;
  /**
   * Parks every active queue row not on `mine` ({@link parkOtherQueueRows}); may be called
   * more than once, the rows are put back in reverse order at the end.
   */
  park(mine: number[]): Promise<void>;
}

/**
 * Runs `fn` with pg_cron paused and (through `ctx.park`, or `park` up front) other tests'
 * queue rows parked, and always restores in `finally`: first `cleanup` (e.g. heal the stack,
 * delete synthetic works), then the parked rows, then pg_cron, then both connections end.
 */
export async function withIsolatedQueue(
  fn: (ctx: IsolatedQueue) => Promise<void>,
  opts: { park?: number[]; cleanup?: (ctx: IsolatedQueue) => Promise<void> } = {},
): Promise<void> {
  const admin = connect("supabase_admin");
  const unparks: (() => Promise<void>)[] = [];
  const ctx: IsolatedQueue = {
    sql: connect(),
    admin,
    park: async (mine) => {
      unparks.push(await parkOtherQueueRows(ctx.sql, mine));
    },
  };
  let resumeCron = async () => {};
  try {
    resumeCron = await pauseCron(admin);
    if (opts.park) await ctx.park(opts.park);
    await fn(ctx);
  } finally {
    try {
      await opts.cleanup?.(ctx);
    } finally {
      for (const unpark of unparks.reverse()) await unpark();
      await resumeCron();
      await ctx.sql.end();
      await admin.end();
    }
  }
}

/** Row counts (and digests of the small tables) a rejected request must not change. */
export async function fingerprint(sql: postgres.Sql): Promise<Record<string, unknown>> {
  const [r] = await sql`
    select (select count(*) from public.works)::int as works,
           (select coalesce(max(updated_at)::text, '') from public.works) as works_updated,
           (select coalesce(max(last_refreshed_at)::text, '') from public.works) as works_refreshed,
           (select count(*) from public.refresh_queue)::int as refresh_queue,
           (select md5(coalesce(string_agg(concat_ws('|', id, status, retry_count, next_attempt_at),
                                           ',' order by id), '')) from public.refresh_queue) as queue_digest,
           (select count(*) from public.scheduled_ingestion_log)::int as scheduled_ingestion_log,
           (select count(*) from public.tmdb_api_logs)::int as tmdb_api_logs,
           (select count(*) from public.edge_function_invocations)::int as edge_function_invocations,
           (select count(*) from public.sync_state)::int as sync_state,
           (select md5(coalesce(string_agg(s::text, ',' order by s.key), '')) from public.sync_state s)
             as sync_state_digest`;
  return { ...r };
}

/** Synthetic works (no TMDB behind them) for queue tests: tmdb ids from this base up. */
export const SYNTHETIC_TMDB_BASE = 1_900_000_000;

/** Inserts `n` synthetic works (as the owner) and returns their work ids, in order. */
export async function createSyntheticWorks(
  sql: postgres.Sql,
  offset: number,
  n: number,
): Promise<number[]> {
  const rows = await sql`
    insert into public.works (tmdb_id, title, payload_hash)
    select ${SYNTHETIC_TMDB_BASE}::int + ${offset}::int + g, 'reliability synthetic ' || g,
           repeat('0', 64)
      from generate_series(1, ${n}::int) as g
    on conflict (tmdb_id) do update set title = excluded.title
    returning id`;
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** Deletes every synthetic work (their queue rows go with them). */
export async function deleteSyntheticWorks(sql: postgres.Sql): Promise<void> {
  await sql`delete from public.works where tmdb_id >= ${SYNTHETIC_TMDB_BASE}`;
}

/** Waits until the pg_net response of `requestId` is recorded; returns its per-run view row. */
export async function waitForRun(
  sql: postgres.Sql,
  requestId: number,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] =
      await sql`select * from public.edge_function_runs where request_id = ${requestId}`;
    if (row && row.state !== "queued") return row;
    if (Date.now() > deadline) {
      throw new Error(
        `request ${requestId} still ${row?.state ?? "missing"} after ${timeoutMs} ms`,
      );
    }
    await sleep(100);
  }
}
