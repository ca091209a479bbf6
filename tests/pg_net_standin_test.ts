/**
 * The pg_net stand-in end to end: net.http_post → worker → endpoint → net._http_response,
 * including pg_cron firing it, failures recorded, and rolled-back requests never sent.
 */
import assert from "node:assert/strict";
import { connect, eventually, needsStack, testEndpoint } from "./_stack.ts";

Deno.test({
  name: "net.http_post is sent after commit and its response is recorded in net._http_response",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint((_req, body) =>
      Response.json({ echoed: JSON.parse(body) }, { status: 201 })
    );
    const sql = connect();
    try {
      const [{ id }] = await sql`select net.http_post(${
        ep.url + "/hook"
      }, '{"hello":"world"}'::jsonb) as id`;
      const row = await eventually(async () => {
        const [r] = await sql`select * from net._http_response where id = ${id}`;
        return r;
      }, "the response row");
      assert.equal(row.status_code, 201);
      assert.equal(row.timed_out, false);
      assert.equal(row.error_msg, null);
      assert.match(row.content_type, /application\/json/);
      assert.deepEqual(JSON.parse(row.content), { echoed: { hello: "world" } });
      assert.equal(ep.hits.length, 1);
      assert.equal(ep.hits[0].method, "POST");
      assert.equal(ep.hits[0].path, "/hook");
      assert.equal(ep.hits[0].headers.get("content-type"), "application/json");
      const [q] = await sql`select count(*)::int as n from net.http_request_queue where id = ${id}`;
      assert.equal(q.n, 0, "the queue row is removed once the response is recorded");
    } finally {
      await sql.end();
      await ep.close();
    }
  },
});

Deno.test({
  name: "a net.http_post inside a rolled-back transaction is never sent",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint();
    const sql = connect();
    try {
      let rolledBackId = 0;
      await sql.begin(async (tx) => {
        const [{ id }] = await tx`select net.http_post(${ep.url + "/rolled-back"}) as id`;
        rolledBackId = Number(id);
        throw new Error("roll back on purpose");
      }).catch((e) => assert.match(String(e), /roll back on purpose/));
      // A committed request queued afterwards is sent; by then the worker has seen the queue.
      const [{ id: laterId }] = await sql`select net.http_post(${ep.url + "/committed"}) as id`;
      await eventually(async () => {
        const [r] = await sql`select 1 from net._http_response where id = ${laterId}`;
        return r;
      }, "the committed request's response");
      assert.deepEqual(ep.hits.map((h) => h.path), ["/committed"]);
      const [r] =
        await sql`select count(*)::int as n from net._http_response where id = ${rolledBackId}`;
      assert.equal(r.n, 0);
    } finally {
      await sql.end();
      await ep.close();
    }
  },
});

Deno.test({
  name:
    "an unreachable host and a too-slow endpoint are recorded as error_msg / timed_out, and the worker keeps going",
  ...needsStack(),
  async fn() {
    const slow = testEndpoint(async () => {
      await new Promise((r) => setTimeout(r, 3000));
      return Response.json({ late: true });
    });
    const ok = testEndpoint();
    // A port nobody listens on: bind one, learn its number, close it.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = (l.addr as Deno.NetAddr).port;
    l.close();
    const sql = connect();
    try {
      const [{ id: deadId }] =
        await sql`select net.http_post(${`http://127.0.0.1:${deadPort}/x`}) as id`;
      const [{ id: slowId }] =
        await sql`select net.http_post(${slow.url}, timeout_milliseconds => 300) as id`;
      const [{ id: okId }] = await sql`select net.http_get(${ok.url + "/after"}) as id`;
      const rows = await eventually(async () => {
        const r =
          await sql`select * from net._http_response where id in (${deadId}, ${slowId}, ${okId})`;
        return r.length === 3 ? r : null;
      }, "three responses");
      const byId = new Map(rows.map((r) => [String(r.id), r]));
      const dead = byId.get(String(deadId))!;
      assert.equal(dead.status_code, null);
      assert.equal(dead.timed_out, false);
      assert.match(dead.error_msg, /connect/i);
      const timedOut = byId.get(String(slowId))!;
      assert.equal(timedOut.timed_out, true);
      assert.equal(timedOut.status_code, null);
      assert.match(timedOut.error_msg, /Timeout of 300 ms/);
      assert.equal(byId.get(String(okId))!.status_code, 200);
      assert.deepEqual(ok.hits.map((h) => `${h.method} ${h.path}`), ["GET /after"]);
    } finally {
      await sql.end();
      await slow.close();
      await ok.close();
    }
  },
});

Deno.test({
  name:
    "a pg_cron job whose command calls net.http_post produces a response row with the endpoint's status and body",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint(() =>
      new Response(JSON.stringify({ from: "cron" }), {
        status: 202,
        headers: { "content-type": "application/json" },
      })
    );
    const sql = connect();
    const jobName = `test_cron_http_${Date.now()}`;
    try {
      const since = new Date();
      await sql`select cron.schedule(${jobName}, '* * * * *', ${`select net.http_post('${ep.url}/from-cron', '{"job":"${jobName}"}'::jsonb)`})`;
      // pg_cron 1.4 fires on minute boundaries: wait up to ~70 s for the first run.
      const row = await eventually(
        async () => {
          const [r] =
            await sql`select * from net._http_response where created >= ${since} and content like '%"from":"cron"%' order by created limit 1`;
          return r;
        },
        "the cron job's HTTP response",
        75_000,
      );
      assert.equal(row.status_code, 202);
      assert.deepEqual(JSON.parse(row.content), { from: "cron" });
      assert.equal(ep.hits[0].path, "/from-cron");
      assert.deepEqual(JSON.parse(ep.hits[0].body), { job: jobName });
      const [run] =
        await sql`select d.status from cron.job_run_details d join cron.job j using (jobid) where j.jobname = ${jobName} order by d.start_time desc limit 1`;
      assert.equal(run.status, "succeeded");
    } finally {
      await sql`select cron.unschedule(${jobName})`.catch(() => {});
      await sql.end();
      await ep.close();
    }
  },
});

Deno.test({
  name:
    "net.http_post refuses a Content-Type other than application/json, as pg_net does, and queues nothing",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint();
    const sql = connect();
    try {
      const [{ max: before }] =
        await sql`select coalesce(max(id), 0)::bigint as max from net.http_request_queue`;
      await assert.rejects(
        sql`select net.http_post(${ep.url}, '{}'::jsonb, headers => '{"Content-Type": "text/plain"}'::jsonb)`,
        (e: Error) => e.message === 'Content-Type header must be "application/json"',
      );
      const [{ n }] =
        await sql`select count(*)::int as n from net.http_request_queue where id > ${before}`;
      assert.equal(n, 0);
      assert.equal(ep.hits.length, 0);
    } finally {
      await sql.end();
      await ep.close();
    }
  },
});

Deno.test({
  name:
    "a net.http_post with a null body is sent as a POST without a body; one without Content-Type gets application/json",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint();
    const sql = connect();
    try {
      const [{ id }] = await sql`select net.http_post(${ep.url + "/empty"}, null::jsonb,
                                   headers => '{"X-Test": "1"}'::jsonb) as id`;
      await eventually(async () => {
        const [r] = await sql`select 1 from net._http_response where id = ${id}`;
        return r;
      }, "the response row");
      assert.equal(ep.hits.length, 1);
      const hit = ep.hits[0];
      assert.equal(hit.method, "POST");
      assert.equal(hit.body, "", "no body is sent");
      assert.ok(
        [null, "0"].includes(hit.headers.get("content-length")),
        `content-length: ${hit.headers.get("content-length")}`,
      );
      assert.equal(hit.headers.get("content-type"), "application/json");
      assert.equal(hit.headers.get("x-test"), "1");
    } finally {
      await sql.end();
      await ep.close();
    }
  },
});

Deno.test({
  name: "net.http_delete sends its fifth argument as the request body",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint();
    const sql = connect();
    try {
      const [{ id, plain }] = await sql`
        select net.http_delete(${ep.url + "/item/7"}, '{"force": "yes"}'::jsonb,
                               '{"Content-Type": "application/json"}'::jsonb, 5000,
                               '{"reason": "gone"}'::jsonb) as id,
               net.http_delete(${ep.url + "/item/8"}) as plain`;
      await eventually(async () => {
        const r = await sql`select id from net._http_response where id in (${id}, ${plain})`;
        return r.length === 2 ? r : null;
      }, "both responses");
      const byPath = new Map(ep.hits.map((h) => [h.path, h]));
      const withBody = byPath.get("/item/7")!;
      assert.equal(withBody.method, "DELETE");
      assert.deepEqual(JSON.parse(withBody.body), { reason: "gone" });
      const withoutBody = byPath.get("/item/8")!;
      assert.equal(withoutBody.method, "DELETE");
      assert.equal(withoutBody.body, "");
    } finally {
      await sql.end();
      await ep.close();
    }
  },
});

Deno.test({
  name:
    "anon can call net.http_get and read net.http_request_queue and net._http_response, as on hosted Supabase",
  ...needsStack(),
  async fn() {
    const ep = testEndpoint();
    const sql = connect();
    try {
      const id = await sql.begin(async (tx) => {
        await tx`set local role anon`;
        const [{ id }] = await tx`select net.http_get(${ep.url + "/from-anon"}, '{"a": "1"}'::jsonb,
                                    '{"X-Role": "anon"}'::jsonb) as id`;
        const [queued] = await tx`select method, url, headers from net.http_request_queue
                                   where id = ${id}`;
        assert.deepEqual(
          { ...queued },
          { method: "GET", url: `${ep.url}/from-anon?a=1`, headers: { "X-Role": "anon" } },
        );
        return id;
      });
      const row = await eventually(async () => {
        const [r] = await sql.begin(async (tx) => {
          await tx`set local role anon`;
          return await tx`select status_code from net._http_response where id = ${id}`;
        });
        return r;
      }, "the response row, read as anon");
      assert.equal(row.status_code, 200);
      assert.deepEqual(ep.hits.map((h) => `${h.method} ${h.path} ${h.headers.get("x-role")}`), [
        "GET /from-anon anon",
      ]);
    } finally {
      await sql.end();
      await ep.close();
    }
  },
});
