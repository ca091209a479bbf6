/**
 * Cron calls carry no key (migration 024, `_shared/http/invocation_signature.ts`): what a real
 * `call_refresh_worker()` queues and what the function receives hold no key of the stack; the
 * captured signature authenticates nothing else (not as a key, not for another body, another
 * function or after 10 minutes); the SQL signer and the functions' verifier agree; rotating
 * the invocation secret works as docs/deploy.md describes; and a missing or mismatched secret
 * on the functions' side gives one error naming both places to set it.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { loadOrCreateKeys, randomHexSecret } from "../local/lib/keys.ts";
import {
  SIGNATURE_HEADER,
  signInvocation,
  verifyInvocationSignature,
} from "../supabase/functions/_shared/http/invocation_signature.ts";
import {
  callFunction,
  cfg,
  type ExtraHost,
  startExtraHost,
  waitForRun,
  withIsolatedQueue,
} from "./_reliability.ts";
import { connect, needsStack, stack, testEndpoint } from "./_stack.ts";

const BOTH_PLACES = [
  /edge_invoke_secret/,
  /supabase secrets set EDGE_INVOKE_SECRET=<secret>/,
  /supabase\/functions\/\.env/,
];

async function vaultSecret(sql: postgres.Sql, name: string): Promise<string> {
  const [row] =
    await sql`select decrypted_secret from vault.decrypted_secrets where name = ${name}`;
  return row.decrypted_secret;
}

async function setVaultSecret(sql: postgres.Sql, name: string, value: string): Promise<void> {
  await sql`select vault.update_secret(id, ${value}) from vault.decrypted_secrets where name = ${name}`;
}

/** Calls `call_refresh_worker()` and waits for its row in edge_function_runs. */
async function refreshWorkerRun(sql: postgres.Sql): Promise<Record<string, unknown>> {
  const [{ id }] = await sql`select public.call_refresh_worker() as id`;
  return await waitForRun(sql, Number(id));
}

/** Every value of the stack's keys.json (keys, the JWT secret, tokens, the invocation secret). */
async function stackSecrets(): Promise<[string, string][]> {
  const keys = await loadOrCreateKeys(cfg().keysFile);
  return Object.entries(keys).filter(([, v]) => typeof v === "string" && v.length >= 16);
}

Deno.test({
  name:
    "a real cron call carries no key: the queued request and the headers the function receives hold no key of the stack, and the function accepts its signature",
  ...needsStack(),
  async fn() {
    // A recording proxy in front of the functions host: what pg_net really sends.
    const proxy = testEndpoint(async (req, body) => {
      const headers = new Headers(req.headers);
      for (const h of ["host", "content-length", "connection"]) headers.delete(h);
      const res = await fetch(`${stack!.projectUrl}${new URL(req.url).pathname}`, {
        method: req.method,
        headers,
        body,
      });
      return new Response(await res.text(), { status: res.status, headers: res.headers });
    });
    await withIsolatedQueue(async ({ sql }) => {
      const original = await vaultSecret(sql, "project_url");
      try {
        await setVaultSecret(sql, "project_url", proxy.url);
        const { id, queued } = await sql.begin(async (tx) => {
          const [{ id }] = await tx`select public.call_refresh_worker('cron') as id`;
          const [queued] = await tx`select headers, convert_from(body, 'UTF8') as body
                                      from net.http_request_queue where id = ${id}`;
          return { id, queued };
        });
        const run = await waitForRun(sql, Number(id));
        assert.equal(run.state, "done", JSON.stringify(run).slice(0, 500));
        assert.equal(run.status_code, 200);

        assert.equal(proxy.hits.length, 1);
        const hit = proxy.hits[0];
        assert.equal(hit.path, "/functions/v1/refresh-worker");
        assert.equal(hit.headers.get("authorization"), null, "no Authorization header");
        assert.equal(hit.headers.get("apikey"), null, "no apikey header");
        const signature = hit.headers.get(SIGNATURE_HEADER)!;
        assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
        assert.deepEqual(Object.keys(queued.headers).sort(), ["Content-Type", SIGNATURE_HEADER]);
        assert.equal(queued.headers[SIGNATURE_HEADER], signature, "the queued header was sent");
        assert.equal(queued.body, hit.body, "the queued body was sent byte for byte");

        const received = [...hit.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
        for (const [name, value] of await stackSecrets()) {
          assert.ok(!received.includes(value), `the ${name} is in the headers received`);
          assert.ok(!hit.body.includes(value), `the ${name} is in the body received`);
          assert.ok(!JSON.stringify(queued).includes(value), `the ${name} is in the queue row`);
          assert.notEqual(signature, value);
        }

        // The captured header is no key: presented as one, every function refuses it.
        const asKeys: { key: string | null; headers?: Record<string, string> }[] = [
          { key: signature },
          { key: null, headers: { apikey: signature } },
        ];
        for (const opts of asKeys) {
          const asKey = await callFunction("daily-refresh", {}, opts);
          assert.equal(asKey.status, 401);
          assert.equal(asKey.json.error, "invalid_api_key");
        }
        // Replayed with another body, or to another function: refused.
        const other = { ...JSON.parse(hit.body), run_id: crypto.randomUUID() };
        const changed = await callFunction("refresh-worker", other, {
          key: null,
          headers: { [SIGNATURE_HEADER]: signature },
        });
        assert.equal(changed.status, 401);
        assert.equal(changed.json.error, "invalid_signature");
        const elsewhere = await callFunction("daily-refresh", null, {
          key: null,
          headers: { [SIGNATURE_HEADER]: signature },
          raw: hit.body,
        });
        assert.equal(elsewhere.status, 401);
        assert.equal(elsewhere.json.error, "invalid_signature");
      } finally {
        await setVaultSecret(sql, "project_url", original);
        await proxy.close();
      }
    }, { park: [] });
  },
});

Deno.test({
  name:
    "a request signed by the database more than 10 minutes ago is refused as stale_signature; one signed now is accepted",
  ...needsStack(),
  async fn() {
    await withIsolatedQueue(async ({ sql }) => {
      const body = JSON.stringify({ run_id: crypto.randomUUID(), trigger: "manual" });
      const now = Math.floor(Date.now() / 1000);
      const [{ old, fresh }] = await sql`
        select public.edge_invocation_signature('refresh-worker', ${body}, ${now - 601}) as old,
               public.edge_invocation_signature('refresh-worker', ${body}, ${now}) as fresh`;
      const stale = await callFunction("refresh-worker", null, {
        key: null,
        headers: { [SIGNATURE_HEADER]: old },
        raw: body,
      });
      assert.equal(stale.status, 401);
      assert.equal(stale.json.error, "stale_signature");
      assert.match(stale.json.message, /60[12] s ago/);
      const ok = await callFunction("refresh-worker", null, {
        key: null,
        headers: { [SIGNATURE_HEADER]: fresh },
        raw: body,
      });
      assert.equal(ok.status, 200, ok.text.slice(0, 300));
      assert.equal(ok.json.stopped_because, "queue_empty");
    }, { park: [] });
  },
});

const ROLLBACK = new Error("rollback");

Deno.test({
  name:
    "edge_invocation_signature() in SQL and signInvocation() in the functions give the same header for the same secret, function and body",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const secret = randomHexSecret();
      const t = 1_800_000_123;
      let got: { header: string; text: string } | undefined;
      await sql.begin(async (tx) => {
        await tx`select vault.update_secret(id, ${secret}) from vault.decrypted_secrets
                  where name = 'edge_invoke_secret'`;
        // the text pg_net sends for a jsonb body with non-ASCII characters
        const [{ text }] =
          await tx`select ('{"note": "Amélie – 東京", "run_id": "r", "job_name": null}'::jsonb)::text as text`;
        const [{ header }] = await tx`
          select public.edge_invocation_signature('scheduled-ingest', ${text}, ${t}) as header`;
        got = { header, text };
        throw ROLLBACK;
      }).catch((e) => {
        if (e !== ROLLBACK) throw e;
      });
      const { header, text } = got!;
      assert.equal(
        header,
        signInvocation({ secret, functionName: "scheduled-ingest", body: text, signedAt: t }),
      );
      verifyInvocationSignature(header, {
        functionName: "scheduled-ingest",
        body: new TextEncoder().encode(text),
        secrets: [secret],
        nowMs: t * 1000,
      });
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name:
    "rotating the invocation secret (docs/deploy.md): both secrets work during the switch, the old one is refused after it",
  ...needsStack(),
  async fn() {
    await withIsolatedQueue(async ({ sql }) => {
      const originalUrl = await vaultSecret(sql, "project_url");
      const oldSecret = await vaultSecret(sql, "edge_invoke_secret");
      const newSecret = randomHexSecret();
      const hosts: ExtraHost[] = [];
      const steps: string[] = [];
      try {
        // 1. The functions accept the new secret alongside the old one.
        const during = await startExtraHost("rotation_both", {
          EDGE_INVOKE_SECRET: newSecret,
          EDGE_INVOKE_SECRET_PREVIOUS: oldSecret,
        });
        hosts.push(during);
        await setVaultSecret(sql, "project_url", during.url);
        const signedOld = await refreshWorkerRun(sql);
        assert.equal(signedOld.status_code, 200, JSON.stringify(signedOld).slice(0, 400));
        steps.push("old secret in Vault, both in the functions: 200");

        // 2. Vault switches to the new secret.
        await setVaultSecret(sql, "edge_invoke_secret", newSecret);
        const signedNew = await refreshWorkerRun(sql);
        assert.equal(signedNew.status_code, 200, JSON.stringify(signedNew).slice(0, 400));
        steps.push("new secret in Vault, both in the functions: 200");

        // 3. The old secret is removed from the functions.
        const after = await startExtraHost("rotation_new_only", { EDGE_INVOKE_SECRET: newSecret });
        hosts.push(after);
        await setVaultSecret(sql, "project_url", after.url);
        const onlyNew = await refreshWorkerRun(sql);
        assert.equal(onlyNew.status_code, 200, JSON.stringify(onlyNew).slice(0, 400));
        steps.push("new secret only: 200");

        // A database still signing with the old secret is now refused, naming both places.
        await setVaultSecret(sql, "edge_invoke_secret", oldSecret);
        const refused = await refreshWorkerRun(sql);
        assert.equal(refused.state, "http_error");
        assert.equal(refused.status_code, 401);
        const answer = refused.response as { error: string; message: string };
        assert.equal(answer.error, "invalid_signature");
        for (const place of BOTH_PLACES) assert.match(answer.message, place);
        assert.ok(!answer.message.includes(oldSecret) && !answer.message.includes(newSecret));
        steps.push("old secret after the switch: 401 invalid_signature");
      } finally {
        await setVaultSecret(sql, "edge_invoke_secret", oldSecret);
        await setVaultSecret(sql, "project_url", originalUrl);
        for (const host of hosts) await host.close();
      }
      assert.equal(steps.length, 4);
    }, { park: [] });
  },
});

Deno.test({
  name:
    "a cron call to functions without the invocation secret, or with another one, fails with one error naming both places to set it",
  ...needsStack(),
  async fn() {
    await withIsolatedQueue(async ({ sql }) => {
      const originalUrl = await vaultSecret(sql, "project_url");
      const cases: [string, Record<string, string>, number, string, RegExp][] = [
        ["no_invoke_secret", { EDGE_INVOKE_SECRET: "" }, 500, "misconfigured", /is not set/],
        [
          "other_invoke_secret",
          { EDGE_INVOKE_SECRET: randomHexSecret() },
          401,
          "invalid_signature",
          /hold different secrets/,
        ],
      ];
      for (const [label, env, status, error, what] of cases) {
        const host = await startExtraHost(label, env);
        try {
          await setVaultSecret(sql, "project_url", host.url);
          const run = await refreshWorkerRun(sql);
          assert.equal(run.status_code, status, `${label}: ${JSON.stringify(run).slice(0, 400)}`);
          const answer = run.response as { error: string; message: string };
          assert.equal(answer.error, error, label);
          assert.match(answer.message, what, label);
          for (const place of BOTH_PLACES) assert.match(answer.message, place, label);
        } finally {
          await setVaultSecret(sql, "project_url", originalUrl);
          await host.close();
        }
      }
    }, { park: [] });
  },
});
