/**
 * Reliability, scenario 5b (docs/reliability.md): the ACTUAL key values of the stack (the
 * service-role key, the secret key, the JWT signing secret, the invocation secret, the TMDB
 * token, and a wrong TMDB token a test host was given) appear nowhere they could leak from:
 * every table of public (tmdb_api_logs, scheduled_ingestion_log, edge_function_invocations,
 * the queue, sync_state…), pg_net's queued requests (which every database role may read) and
 * responses, pg_cron's job commands and run details, the per-run view, every log file of the
 * stack (the functions host's included) and of the suite's extra hosts, and every error body
 * the hostile-input tests produced.
 *
 * Not scanned, because holding the key is their job: Vault, `.stack/<name>/keys.json` and
 * `functions_env.json`.
 */
import assert from "node:assert/strict";
import { loadOrCreateKeys } from "../local/lib/keys.ts";
import {
  appendJsonLine,
  callFunction,
  cfg,
  outDir,
  report,
  startExtraHost,
  waitForRun,
  withIsolatedQueue,
} from "./_reliability.ts";
import { needsStack, stack } from "./_stack.ts";

/** Each secret and the distinctive parts of it that a truncated or re-encoded copy would keep. */
function needles(secrets: Record<string, string>): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(secrets)) {
    out.push([name, value]);
    if (encodeURIComponent(value) !== value) {
      out.push([`${name} (url-encoded)`, encodeURIComponent(value)]);
    }
    const parts = value.split(".");
    if (parts.length === 3) out.push([`${name} (JWT signature)`, parts[2]]);
    const random = value.replace(/^(sb_secret_|standin_|wrong-)/, "");
    if (random !== value && random.length >= 16) out.push([`${name} (random part)`, random]);
  }
  return out;
}

Deno.test({
  name:
    "reliability: no key value (service role, secret key, JWT secret, TMDB token) in any log table, pg_net response, cron command, function log line or error body",
  ...needsStack(),
  async fn() {
    const c = cfg();
    const keys = await loadOrCreateKeys(c.keysFile);
    const wrongToken = `wrong-${crypto.randomUUID()}`;
    await withIsolatedQueue(async ({ sql, admin }) => {
      // --- make sure there is something to leak from: calls with keys, errors, a bad token,
      // and a signed call still queued (this transaction holds it: the worker cannot see it) ---
      const [{ id }] = await sql`select public.call_refresh_worker() as id`;
      assert.equal((await waitForRun(sql, Number(id))).state, "done");
      const held = await sql.reserve();
      await held`begin`;
      const [{ id: queuedId }] = await held`select public.call_refresh_worker() as id`;
      const bodies = `${outDir()}/error_bodies.jsonl`;
      const haveBodies = await Deno.stat(bodies).then(() => true, () => false);
      const probes: [string, unknown, string | null][] = [
        ["ingest-movie", { tmdb_id: 550 }, stack!.anonKey],
        ["refresh-worker", {}, "wrong-key"],
        ["daily-refresh", "not json", stack!.serviceRoleKey],
        ["scheduled-ingest", { source: "imdb" }, stack!.secretKey],
        ["scheduled-ingest", { source: "popular", limit: 1 }, null],
      ];
      for (const [fn, body, key] of haveBodies ? [] : probes) {
        const r = await callFunction(fn, body, { key });
        appendJsonLine("error_bodies.jsonl", {
          function: fn,
          case: "secrets probe",
          status: r.status,
          body: r.text,
        });
      }
      const host = await startExtraHost("secrets_wrong_token", { TMDB_API_TOKEN: wrongToken });
      try {
        const r = await callFunction("scheduled-ingest", { source: "popular", limit: 1 }, {
          baseUrl: host.functionsUrl,
        });
        assert.equal(r.status, 502, r.text);
        appendJsonLine("error_bodies.jsonl", {
          function: "scheduled-ingest",
          case: "wrong TMDB token",
          status: r.status,
          body: r.text,
        });
        const missing = await startExtraHost("secrets_no_token", { TMDB_API_TOKEN: "" });
        try {
          const m = await callFunction("refresh-worker", {}, { baseUrl: missing.functionsUrl });
          assert.equal(m.status, 500, m.text);
          assert.equal(m.json.error, "misconfigured");
          assert.match(m.json.message, /TMDB_API_TOKEN is missing/);
          appendJsonLine("error_bodies.jsonl", {
            function: "refresh-worker",
            case: "no TMDB token",
            status: m.status,
            body: m.text,
          });
        } finally {
          await missing.close();
        }
      } finally {
        await host.close();
      }

      const secrets = {
        service_role_key: stack!.serviceRoleKey,
        secret_key: stack!.secretKey,
        jwt_secret: keys.jwtSecret,
        edge_invoke_secret: keys.edgeInvokeSecret,
        tmdb_token: stack!.tmdbToken!,
        wrong_tmdb_token: wrongToken,
      };
      const list = needles(secrets);
      const leaks: string[] = [];

      // --- the database: every table of public, pg_net's queue and responses, pg_cron ---
      const tables = await admin`
        select format('%I.%I', n.nspname, c.relname) as t
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p', 'v', 'm')
           and (n.nspname in ('public', 'net')
                or (n.nspname = 'cron' and c.relname in ('job', 'job_run_details')))
         order by 1`;
      const rowsScanned: Record<string, number> = {};
      for (const { t } of tables) {
        // the held transaction's queued request is read where it is visible
        const reader = t === "net.http_request_queue" ? held : admin;
        const [{ n }] = await reader.unsafe(`select count(*)::int as n from ${t}`);
        rowsScanned[t] = n;
        for (const [name, needle] of list) {
          const [{ hits }] = await reader.unsafe(
            `select count(*)::int as hits from ${t} x
              where strpos(x::text, $1) > 0
                 -- a bytea column (a queued body) shows as hex in the row's text
                 or strpos(x::text, encode(convert_to($1, 'UTF8'), 'hex')) > 0`,
            [needle],
          );
          if (hits > 0) leaks.push(`${t}: ${hits} row(s) hold the ${name}`);
        }
      }
      const [queued] = await held`select id from net.http_request_queue where id = ${queuedId}`;
      assert.ok(queued, "the held cron call was scanned while queued");
      await held`rollback`;
      held.release();
      for (
        const t of [
          "public.tmdb_api_logs",
          "public.edge_function_invocations",
          "net.http_request_queue",
          "net._http_response",
          "cron.job",
        ]
      ) {
        assert.ok(rowsScanned[t] > 0, `${t} has rows to scan`);
      }
      // control: the same search does find a secret where it is supposed to be
      const [{ found }] = await admin`select count(*)::int as found from vault.decrypted_secrets x
                                       where strpos(x::text, ${secrets.edge_invoke_secret}) > 0`;
      assert.equal(found, 1, "the search finds the secret in Vault, so it would find it elsewhere");

      // --- files: every log of the stack, the suite's extra hosts, the error bodies ---
      const files: string[] = [];
      for (const dir of [c.logDir, outDir()]) {
        for (const e of Deno.readDirSync(dir)) if (e.isFile) files.push(`${dir}/${e.name}`);
      }
      // PostgreSQL's own log (statements that failed are quoted there)
      const pgLog = (c as { pgLog?: string }).pgLog;
      if (pgLog && !files.includes(pgLog) && (await Deno.stat(pgLog).catch(() => null))) {
        files.push(pgLog);
      }
      const bytesScanned: Record<string, number> = {};
      for (const file of files) {
        const text = await Deno.readTextFile(file);
        bytesScanned[file.startsWith(c.dir) ? file.slice(c.dir.length + 1) : file] = text.length;
        for (const [name, needle] of list) {
          if (text.includes(needle)) leaks.push(`${file}: holds the ${name}`);
        }
      }
      const hostLog = `${c.logDir}/functions_host.log`;
      assert.ok(
        files.includes(hostLog) && bytesScanned["logs/functions_host.log"] > 0,
        "the functions host log was scanned",
      );
      const bodyCount = (await Deno.readTextFile(bodies)).split("\n").filter(Boolean).length;
      assert.ok(bodyCount > 0, "error bodies were scanned");
      const keysText = await Deno.readTextFile(c.keysFile);
      assert.ok(
        keysText.includes(secrets.secret_key),
        "control: the file search finds a key in keys.json",
      );

      assert.deepEqual(leaks, [], "no secret leaked");
      report("secrets scan", {
        secrets: Object.keys(secrets),
        needles: list.length,
        tables: Object.keys(rowsScanned).length,
        rows_scanned: Object.values(rowsScanned).reduce((a, b) => a + b, 0),
        files: Object.keys(bytesScanned).length,
        bytes_scanned: Object.values(bytesScanned).reduce((a, b) => a + b, 0),
        error_bodies: bodyCount,
        leaks: leaks.length,
      });
    }, { park: [] });
  },
});
