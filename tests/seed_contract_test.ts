/**
 * The design summary is a contract: users run its verification checklist and its
 * manual-test SQL verbatim. These tests run exactly that text through psql as `postgres`
 * on the test stack (where the migrations were applied by `supabase db push`).
 */
import assert from "node:assert/strict";
import { pgBin } from "../local/lib/pg_cluster.ts";
import { connect, eventually, needsStack, stack } from "./_stack.ts";

/** Runs SQL through psql as postgres; returns rows as arrays of cells (unaligned output). */
async function psql(sqlText: string): Promise<string[][]> {
  const url = new URL(stack!.dbUrl);
  const out = await new Deno.Command(pgBin("psql"), {
    args: [
      "-X",
      "-A",
      "-t",
      "-F",
      "\t",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      url.hostname,
      "-p",
      url.port,
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      sqlText,
    ],
    env: { PGPASSWORD: decodeURIComponent(url.password) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `psql failed for:\n${sqlText}\n${stderr}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map((l) =>
    l.split("\t")
  );
}

const checklist = Deno.readTextFileSync(new URL("./fixtures/seed_checklist.sql", import.meta.url))
  .split(";").map((s) => s.replace(/^--.*$/gm, "").trim()).filter(Boolean).map((s) => s + ";");

Deno.test({
  name: "the seed's verification checklist, verbatim: extensions, cron jobs, tables, functions",
  ...needsStack(),
  async fn() {
    assert.equal(checklist.length, 4);
    const ext = await psql(checklist[0]);
    assert.deepEqual(ext.map((r) => r[1]).sort(), ["pg_cron", "pg_net"]);

    const jobs = await psql(checklist[1]);
    const names = jobs.map((r) => r[0]);
    for (
      const j of [
        "scheduled_ingest_daily",
        "scheduled_ingest_weekly",
        "daily_refresh_enqueue",
        "refresh_worker",
      ]
    ) {
      assert.ok(names.includes(j), `cron job ${j} exists (got ${names.join(", ")})`);
    }
    assert.equal(new Set(names).size, names.length, "no job is duplicated");

    const tables = await psql(checklist[2]);
    assert.deepEqual(tables.map((r) => r[0]).sort(), ["refresh_queue", "sync_state"]);

    const routines = await psql(checklist[3]);
    assert.deepEqual([...new Set(routines.map((r) => r[0]))].sort(), [
      "call_daily_refresh",
      "call_refresh_worker",
      "call_scheduled_ingest",
      "get_service_role_key",
      "get_stale_movies",
      "get_supabase_url",
    ]);
  },
});

Deno.test({
  name: "the seed's manual tests, verbatim, go through pg_net, the functions and the TMDB stand-in",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const waitFor = (requestId: string) =>
        eventually(
          async () => {
            const [r] =
              await sql`select state, status_code, response from public.edge_function_runs where request_id = ${requestId} and state <> 'queued'`;
            return r;
          },
          `response to request ${requestId}`,
          120_000,
        );

      const [[ingestId]] = await psql("SELECT call_scheduled_ingest('mixed_daily', 5, 'manual');");
      assert.match(ingestId, /^\d+$/, "call_scheduled_ingest returns the pg_net request id");
      const ingest = await waitFor(ingestId);
      assert.equal(ingest.status_code, 200, JSON.stringify(ingest));
      assert.equal(ingest.state, "done");

      const [[refreshId]] = await psql("SELECT call_daily_refresh();");
      const refresh = await waitFor(refreshId);
      assert.equal(refresh.status_code, 200, JSON.stringify(refresh));
      await psql("SELECT * FROM refresh_queue ORDER BY queued_at DESC LIMIT 10;");

      const [[workerId]] = await psql("SELECT call_refresh_worker();");
      const worker = await waitFor(workerId);
      assert.equal(worker.status_code, 200, JSON.stringify(worker));

      const logs = await psql(
        "SELECT * FROM scheduled_ingestion_log ORDER BY created_at DESC LIMIT 10;",
      );
      assert.ok(logs.length >= 1, "an ingest log row exists");
      await psql("SELECT status, COUNT(*) FROM refresh_queue GROUP BY status;");
      const syncState = await psql("SELECT * FROM sync_state;");
      assert.ok(syncState.length >= 1, "sync_state has a row");

      const [run] =
        await sql`select source, trigger, status, ingested + unchanged as done from public.scheduled_ingestion_log order by created_at desc limit 1`;
      assert.equal(run.source, "mixed_daily");
      assert.equal(run.trigger, "manual");
      assert.equal(run.status, "succeeded");
      assert.ok(
        run.done >= 1 && run.done <= 5,
        `1..5 movies ingested or confirmed (got ${run.done})`,
      );
    } finally {
      await sql.end();
    }
  },
});
