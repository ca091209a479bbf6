/**
 * Reliability, scenario 6 (docs/reliability.md): bad configuration.
 *
 * - Vault secrets missing (deleted inside a transaction that is rolled back): every
 *   `call_*()` raises the error naming the secret and where to set it (for the invocation
 *   secret: Vault and the functions' EDGE_INVOKE_SECRET), and queues nothing. The functions'
 *   side of the invocation secret is tested in `signed_invocations_test.ts`.
 * - A wrong project URL (Vault `project_url` pointed at a closed port, restored after): the
 *   per-run view `edge_function_runs` shows that call's connection error.
 * - A wrong TMDB token, and a TMDB base URL that refuses connections: a second functions
 *   host with that env (same database) is called directly, and through `call_*()` with
 *   `project_url` pointed at it (restored after). Each function's JSON carries one clear,
 *   actionable error; nothing is partially written: no work row changes, queue items go back
 *   to pending and end failed with the error, run rows are finished as failed.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import {
  callFunction,
  closedPort,
  control,
  type ExtraHost,
  ingestThroughFunction,
  report,
  startExtraHost,
  waitForRun,
  withIsolatedQueue,
} from "./_reliability.ts";
import { connect, needsStack, popularIds } from "./_stack.ts";

const ROLLBACK = new Error("rollback");

const MISSING = {
  project_url:
    "project_url is not configured: run select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');",
  edge_invoke_secret:
    "edge_invoke_secret is not configured: set one secret in both places: select vault.create_secret('<secret>', 'edge_invoke_secret'); " +
    "(or vault.update_secret(id, '<secret>') if it exists) and supabase secrets set EDGE_INVOKE_SECRET=<secret> (locally: supabase/functions/.env)",
} as const;

const CALLS = [
  "select public.call_scheduled_ingest('mixed_daily', 30, 'manual')",
  "select public.call_daily_refresh()",
  "select public.call_refresh_worker()",
  "select public.call_refresh_worker('cron')",
];

Deno.test({
  name:
    "reliability: missing Vault secrets: every call_* raises the error naming the secret and the command, and queues nothing",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const seen: Record<string, string[]> = {};
    try {
      for (const secret of Object.keys(MISSING) as (keyof typeof MISSING)[]) {
        seen[secret] = [];
        await sql.begin(async (tx) => {
          await tx`set local app.settings.supabase_url = ''`;
          await tx`set local app.settings.service_role_key = ''`;
          const [before] = await tx`
            select (select count(*) from net.http_request_queue)::int as requests,
                   (select count(*) from public.edge_function_invocations)::int as invocations`;
          const deleted = await tx`delete from vault.secrets where name = ${secret} returning id`;
          assert.equal(deleted.length, 1, `the stack has a ${secret} secret`);
          for (const call of CALLS) {
            let caught: { code?: string; message?: string } | undefined;
            try {
              await tx.savepoint((sp) => sp.unsafe(call));
            } catch (error) {
              caught = error as { code?: string; message?: string };
            }
            assert.ok(caught, `${call} without ${secret} must fail`);
            assert.equal(caught.code, "55000", `${call}: ${caught.message}`);
            assert.equal(caught.message, MISSING[secret], call);
            seen[secret].push(caught.message!);
          }
          const [after] = await tx`
            select (select count(*) from net.http_request_queue)::int as requests,
                   (select count(*) from public.edge_function_invocations)::int as invocations`;
          assert.deepEqual(
            after,
            before,
            "a failed call queues no request and records no invocation",
          );
          throw ROLLBACK;
        }).catch((e) => {
          if (e !== ROLLBACK) throw e;
        });
      }
      const [{ n }] = await sql`select count(*)::int as n from vault.decrypted_secrets
                                 where name in ('project_url', 'edge_invoke_secret')`;
      assert.equal(n, 2, "both secrets are back (rolled back)");
      report("bad_config missing vault secrets", {
        calls_checked: CALLS.length * 2,
        errors: Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, v[0]])),
      });
    } finally {
      await sql.end();
    }
  },
});

/** Reads a Vault secret (as postgres). */
async function secret(sql: postgres.Sql, name: string): Promise<string> {
  const [row] =
    await sql`select decrypted_secret from vault.decrypted_secrets where name = ${name}`;
  return row.decrypted_secret;
}

async function setSecret(sql: postgres.Sql, name: string, value: string): Promise<void> {
  await sql`select vault.update_secret(id, ${value}) from vault.decrypted_secrets where name = ${name}`;
}

Deno.test({
  name: "reliability: a wrong project_url: edge_function_runs shows each call's connection error",
  ...needsStack(),
  async fn() {
    await withIsolatedQueue(async ({ sql }) => {
      const original = await secret(sql, "project_url");
      try {
        const port = closedPort();
        await setSecret(sql, "project_url", `http://127.0.0.1:${port}`);
        const [ids] = await sql`
        select public.call_refresh_worker() as worker,
               public.call_scheduled_ingest('popular', 5, 'manual') as ingest`;
        await setSecret(sql, "project_url", original);
        const runs = await Promise.all(
          [ids.worker, ids.ingest].map((id) => waitForRun(sql, Number(id))),
        );
        for (const run of runs) {
          assert.equal(run.state, "error", JSON.stringify(run));
          assert.equal(run.status_code, null);
          assert.equal(run.response, null);
          assert.match(
            run.error_msg as string,
            new RegExp(
              `^Couldn't connect to server: .*127\\.0\\.0\\.1:${port}.*Connection refused`,
            ),
          );
        }
        report("bad_config wrong project_url", {
          port,
          states: runs.map((r) => `${r.function_name}: ${r.state}`),
          error_msg: runs[0].error_msg,
        });
      } finally {
        await setSecret(sql, "project_url", original);
      }
    }, { park: [] });
  },
});

interface BadTmdbCase {
  label: string;
  env: () => Record<string, string>;
  /** The one error each refresh-worker item carries, and how the run answers. */
  itemError: RegExp;
  workerStatus: number;
  workerError?: { error: string; message: RegExp };
  /** scheduled-ingest's answer. */
  ingest: { status: number; error: string; message: RegExp };
  /** daily-refresh's answer: a 502 with an error code, or a 200 with changes.error. */
  daily: { status: number; error?: string; message: RegExp };
}

const UNAUTHORIZED = "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN";

/** One item's network error against the refused base URL. */
const REFUSED = String
  .raw`network: TMDB GET /movie/\d+ failed: network: TypeError: fetch failed: .*Connection refused.* \(TMDB at http://127\.0\.0\.1:\d+\) \(after 4 of at most 4 attempts\)`;

/** refresh-worker's answer once 10 items in a row failed like that (its circuit breaker). */
const UNAVAILABLE = String
  .raw`TMDB is unreachable or failing: 10 items in a row failed \(${REFUSED}\); the run stopped early so the rest of the queue keeps its attempts`;

const BAD_TMDB: BadTmdbCase[] = [
  {
    label: "wrong TMDB token",
    env: () => ({ TMDB_API_TOKEN: `wrong-${crypto.randomUUID()}` }),
    itemError: new RegExp(`^${UNAUTHORIZED.replace(/[()]/g, "\\$&")}$`),
    workerStatus: 502,
    workerError: {
      error: "tmdb_unauthorized",
      message: new RegExp(`^${UNAUTHORIZED.replace(/[()]/g, "\\$&")}$`),
    },
    ingest: {
      status: 502,
      error: "tmdb_unauthorized",
      message: new RegExp(`^${UNAUTHORIZED.replace(/[()]/g, "\\$&")}$`),
    },
    daily: {
      status: 502,
      error: "tmdb_unauthorized",
      message: new RegExp(`^${UNAUTHORIZED.replace(/[()]/g, "\\$&")}$`),
    },
  },
  {
    label: "TMDB base URL refusing connections",
    env: () => ({ TMDB_BASE_URL: `http://127.0.0.1:${closedPort()}/3` }),
    // An item's own network error, or (for one cut short when the run stopped) the run's.
    itemError: new RegExp(`^(${REFUSED}|${UNAVAILABLE})$`),
    workerStatus: 502,
    workerError: { error: "tmdb_unavailable", message: new RegExp(`^${UNAVAILABLE}$`) },
    ingest: {
      status: 502,
      error: "tmdb_unavailable",
      message:
        /^No TMDB list page could be read: TMDB GET \/movie\/popular\?page=1 failed: network: .*Connection refused.* \(TMDB at http:\/\/127\.0\.0\.1:\d+\)/,
    },
    daily: {
      status: 200,
      message:
        /^TMDB GET \/movie\/changes\?.* failed: network: .*Connection refused.* \(TMDB at http:\/\/127\.0\.0\.1:\d+\)/,
    },
  },
];

async function workSnapshot(sql: postgres.Sql, workIds: number[]) {
  return await sql`
    select w.id, w.payload_hash, w.updated_at, w.last_refreshed_at, w.tmdb_missing_at,
           (select count(*) from public.work_cast x where x.work_id = w.id)::int as cast_rows,
           (select count(*) from public.work_release_dates x where x.work_id = w.id)::int as rd_rows
      from public.works w where w.id = any(${workIds}) order by w.id`;
}

for (const bad of BAD_TMDB) {
  Deno.test({
    name:
      `reliability: ${bad.label}: each function's JSON (direct and in edge_function_runs) carries one clear error; nothing is partially written`,
    ...needsStack(),
    async fn() {
      await withIsolatedQueue(async ({ sql, park }) => {
        const originalUrl = await secret(sql, "project_url");
        const [syncBefore] =
          await sql`select * from public.sync_state where key = 'tmdb_movie_changes'`;
        const [{ max: queueMaxBefore }] =
          await sql`select coalesce(max(id), 0)::bigint as max from public.refresh_queue`;
        let host: ExtraHost | undefined;
        let workIds: number[] = [];
        try {
          await control("faults", {});
          const ids = await popularIds(20, 21);
          await ingestThroughFunction(ids);
          workIds = (await sql`select id from public.works where tmdb_id = any(${ids})`).map((w) =>
            Number(w.id)
          );
          await sql`delete from public.refresh_queue where work_id = any(${workIds})`;
          await park(workIds);
          await sql`select public.enqueue_refresh(${workIds}::bigint[])`;
          const worksBefore = await workSnapshot(sql, workIds);
          const [{ n: worksCount }] = await sql`select count(*)::int as n from public.works`;
          host = await startExtraHost(bad.label.replace(/\W+/g, "_"), bad.env());

          // --- through call_*() and the per-run view, with project_url pointed at that host ---
          await setSecret(sql, "project_url", host.url);
          const [first] = await sql`
          select public.call_refresh_worker() as worker,
                 public.call_scheduled_ingest('popular', 5, 'manual') as ingest`;
          const [workerRun, ingestRun] = await Promise.all(
            [first.worker, first.ingest].map((id) => waitForRun(sql, Number(id), 60_000)),
          );
          // daily-refresh after the worker, so stale rows it queues are not claimed by it
          const [{ id: dailyId }] = await sql`select public.call_daily_refresh() as id`;
          const dailyRun = await waitForRun(sql, Number(dailyId), 60_000);
          await setSecret(sql, "project_url", originalUrl);
          // whatever daily-refresh queued is not for the worker runs below (deleted in finally)
          await park(workIds);

          const worker = workerRun.response as Record<string, unknown> & {
            item_errors: { error: string }[];
          };
          assert.equal(
            workerRun.status_code,
            bad.workerStatus,
            JSON.stringify(workerRun).slice(0, 600),
          );
          if (bad.workerError) {
            assert.equal(workerRun.state, "http_error");
            assert.equal(worker.error, bad.workerError.error);
            assert.match(worker.message as string, bad.workerError.message);
            assert.equal(worker.stopped_because, bad.workerError.error);
          } else {
            assert.equal(workerRun.state, "done");
            assert.equal(worker.stopped_because, "queue_empty");
          }
          assert.equal(worker.claimed, workIds.length);
          assert.equal(worker.retried, workIds.length, "every claimed item goes back to pending");
          assert.ok(worker.item_errors.length > 0);
          for (const e of worker.item_errors) assert.match(e.error, bad.itemError);

          const ingest = ingestRun.response as Record<string, unknown>;
          assert.equal(ingestRun.state, "http_error");
          assert.equal(ingestRun.status_code, bad.ingest.status);
          assert.equal(ingest.error, bad.ingest.error);
          assert.match(ingest.message as string, bad.ingest.message);
          const runId = (await sql`select run_id from public.edge_function_invocations
                                  where request_id = ${Number(first.ingest)}`)[0].run_id;
          const [runRow] = await sql`select status, error, finished_at, ingested
                                     from public.scheduled_ingestion_log where run_id = ${runId}`;
          assert.equal(runRow.status, "failed", "the run row is finished as failed");
          assert.ok(runRow.finished_at instanceof Date);
          assert.equal(runRow.ingested, 0);
          assert.match(runRow.error, bad.ingest.message);

          const daily = dailyRun.response as Record<string, unknown> & {
            changes: Record<string, unknown>;
          };
          assert.equal(
            dailyRun.status_code,
            bad.daily.status,
            JSON.stringify(dailyRun).slice(0, 600),
          );
          if (bad.daily.error) {
            assert.equal(daily.error, bad.daily.error);
            assert.match(daily.message as string, bad.daily.message);
          }
          assert.equal(daily.changes.complete, false);
          assert.equal(daily.changes.watermark_advanced, false);
          assert.match(daily.changes.error as string, bad.daily.message);
          const [sync] = await sql`select changes_watermark, last_error from public.sync_state
                                  where key = 'tmdb_movie_changes'`;
          assert.deepEqual(
            sync.changes_watermark,
            syncBefore.changes_watermark,
            "watermark unchanged",
          );
          assert.match(sync.last_error, bad.daily.message);

          // --- directly over HTTP: two more worker runs (time passing) until the items fail ---
          for (let run = 2; run <= 3; run++) {
            await sql`update public.refresh_queue set next_attempt_at = now()
                     where work_id = any(${workIds}) and status = 'pending'`;
            const r = await callFunction("refresh-worker", { batch_size: 10, budget_ms: 60_000 }, {
              baseUrl: host.functionsUrl,
            });
            assert.equal(r.status, bad.workerStatus, r.text.slice(0, 500));
            if (bad.workerError) assert.match(r.json.message, bad.workerError.message);
            for (const e of r.json.item_errors) assert.match(e.error, bad.itemError);
          }
          const items = await sql`select status, retry_count, last_error from public.refresh_queue
                                 where work_id = any(${workIds})`;
          assert.equal(items.length, workIds.length);
          for (const it of items) {
            assert.equal(it.status, "failed", JSON.stringify(it));
            assert.equal(it.retry_count, 3);
            assert.match(it.last_error, bad.itemError);
          }
          const direct = await callFunction("ingest-movie", { tmdb_ids: ids.slice(0, 3) }, {
            baseUrl: host.functionsUrl,
          });
          assert.equal(direct.status, 200, direct.text);
          assert.equal(direct.json.failed.length, 3);

          // --- nothing partially written ---
          assert.deepEqual(await workSnapshot(sql, workIds), worksBefore, "no work row changed");
          const [{ n: worksAfter }] = await sql`select count(*)::int as n from public.works`;
          assert.equal(worksAfter, worksCount, "no work row was added");
          report(`bad_config ${bad.label}`, {
            worker_run: `${workerRun.state}/${workerRun.status_code}`,
            worker_error: worker.message ?? worker.item_errors[0].error,
            scheduled_ingest_run: `${ingestRun.state}/${ingestRun.status_code} ${ingest.error}`,
            scheduled_ingest_message: ingest.message,
            daily_refresh_run: `${dailyRun.state}/${dailyRun.status_code}`,
            daily_refresh_error: daily.changes.error,
            daily_refresh_enqueued_stale: daily.enqueued_stale,
            items_failed_after_3_runs: items.length,
            ingest_movie_failed_kind: direct.json.failed[0].kind,
          });
        } finally {
          await setSecret(sql, "project_url", originalUrl);
          await host?.close();
          // what daily-refresh queued and the watermark row go back to how they were
          // (withIsolatedQueue puts the parked rows back after this)
          await sql`delete from public.refresh_queue where id > ${queueMaxBefore}
                   and not (work_id = any(${workIds}::bigint[]))`;
          if (syncBefore) {
            await sql`update public.sync_state set last_sync_at = ${syncBefore.last_sync_at},
                      changes_watermark = ${syncBefore.changes_watermark},
                      last_run_id = ${syncBefore.last_run_id}, last_error = ${syncBefore.last_error},
                      updated_at = ${syncBefore.updated_at}
                    where key = 'tmdb_movie_changes'`;
          }
          await sql`delete from public.refresh_queue where work_id = any(${workIds}::bigint[])`;
        }
      });
    },
  });
}
