/**
 * Reliability, scenario 4 (docs/reliability.md): hostile input to every function over HTTP
 * through the functions host. Each request gets the right 4xx (400/401/405/413/415) with a
 * JSON `{error, message, request_id}` whose message names the problem, and the database is
 * unchanged (row counts of works, refresh_queue, scheduled_ingestion_log, tmdb_api_logs,
 * edge_function_invocations, sync_state, plus digests of the queue and sync_state).
 * Every error body is kept in `.stack/<name>/reliability/error_bodies.jsonl` for the secrets
 * scan (reliability_secrets_test.ts).
 *
 * Free-text fields (`job_name`) accept SQL-looking, emoji and right-to-left strings: those
 * are valid input, so a separate test checks they are stored and echoed verbatim and never
 * executed; only a NUL character (which PostgreSQL cannot store) is refused there.
 */
import assert from "node:assert/strict";
import {
  appendJsonLine,
  callFunction,
  fingerprint,
  type FnAnswer,
  pauseCron,
  report,
  withIsolatedQueue,
} from "./_reliability.ts";
import { connect, needsStack, stack } from "./_stack.ts";

/** Strings that have broken systems before: SQL, NUL, emoji, RTL override, markup, lookalikes. */
const HOSTILE = [
  "'; drop table works; --",
  "Robert'); delete from refresh_queue; --",
  "\u0000",
  "a\u0000b",
  "🎬💥🍿",
  "\u202Eשלום مرحبا",
  "<script>alert(1)</script>",
  "${jndi:ldap://127.0.0.1/x}",
  "\uD800",
  "popular\u200B",
  "ｐｏｐｕｌａｒ",
  " popular ",
  "POPULAR",
] as const;

const SQL_LOOKING = ["'; drop table works; --", "Robert'); delete from refresh_queue; --"];

/** One hostile request and what it must get. */
interface Case {
  name: string;
  status: 400 | 401 | 405 | 413 | 415;
  error: string;
  message: RegExp;
  body?: unknown;
  raw?: BodyInit;
  method?: string;
  key?: string | null;
  headers?: Record<string, string>;
}

interface FunctionSpec {
  name: string;
  /** A valid body: every case breaks exactly one thing about it. */
  valid: Record<string, unknown>;
  /** [field, value, message] cases specific to the function. */
  fields: [string, unknown, RegExp][];
  /** Fields that only take one of a few values (enums, uuids): every hostile string is refused. */
  closedStrings: [string, RegExp][];
  /** Fields that take free text: only NUL is refused. */
  freeStrings: string[];
}

const limitMsg = (name: string, min: number, max: number) =>
  new RegExp(`${name} must be an integer between ${min} and ${max}: current value is`);

const COMMON_FIELDS = (
  limits: [string, number, number][],
): [string, unknown, RegExp][] => {
  const out: [string, unknown, RegExp][] = [];
  for (const [name, min, max] of limits) {
    for (const v of [min - 1, -1, max + 1, 1.5, `${min}`, null, true, [min], { n: min }, 1e300]) {
      out.push([name, v, limitMsg(name, min, max)]);
    }
    for (const s of SQL_LOOKING) out.push([name, s, limitMsg(name, min, max)]);
  }
  out.push(["job_name", 123, /job_name: Expected string, received number/]);
  out.push(["job_name", "x".repeat(101), /job_name must be at most 100 characters/]);
  out.push(["job_name", ["a"], /job_name: Expected string, received array/]);
  out.push(["run_id", 42, /run_id: Expected string, received number/]);
  out.push(["trigger", null, /trigger must be 'cron' or 'manual'/]);
  return out;
};

const SPECS: FunctionSpec[] = [
  {
    name: "ingest-movie",
    valid: { tmdb_id: 550 },
    fields: [
      ["tmdb_id", "550", /tmdb_id: Expected number, received string/],
      ["tmdb_id", -3, /tmdb_id: Expected a positive TMDB id/],
      ["tmdb_id", 0, /tmdb_id: Expected a positive TMDB id/],
      ["tmdb_id", 1.5, /tmdb_id: Expected an integer TMDB id/],
      ["tmdb_id", null, /tmdb_id: Expected number, received null/],
      [
        "tmdb_id",
        2 ** 31,
        /^Invalid request body: tmdb_id: Expected a TMDB id of at most 2147483647$/,
      ],
      [
        "tmdb_id",
        2 ** 53,
        /^Invalid request body: tmdb_id: Expected a TMDB id of at most 2147483647$/,
      ],
      ["tmdb_id", [550], /tmdb_id: Expected number, received array/],
      ...SQL_LOOKING.map((s): [string, unknown, RegExp] => [
        "tmdb_id",
        s,
        /tmdb_id: Expected number, received string/,
      ]),
    ],
    closedStrings: [],
    freeStrings: [],
  },
  {
    name: "scheduled-ingest",
    valid: { source: "popular", limit: 1 },
    fields: [
      ...COMMON_FIELDS([["limit", 1, 200]]),
      ["source", 5, /Unknown source 5: valid sources are now_playing, popular/],
      ["source", null, /Unknown source null: valid sources are/],
      ["source", "imdb", /Unknown source "imdb": valid sources are now_playing, popular/],
    ],
    closedStrings: [
      ["source", /source: Unknown source .*: valid sources are now_playing, popular/],
      ["trigger", /trigger: trigger must be 'cron' or 'manual'/],
      ["run_id", /run_id: run_id must be a uuid/],
    ],
    freeStrings: ["job_name"],
  },
  {
    name: "daily-refresh",
    valid: { limit: 1 },
    fields: COMMON_FIELDS([["limit", 1, 1000]]),
    closedStrings: [
      ["trigger", /trigger: trigger must be 'cron' or 'manual'/],
      ["run_id", /run_id: run_id must be a uuid/],
    ],
    freeStrings: ["job_name"],
  },
  {
    name: "refresh-worker",
    valid: { batch_size: 1, budget_ms: 1000 },
    fields: COMMON_FIELDS([
      ["batch_size", 1, 50],
      ["budget_ms", 1000, 140_000],
      ["cpu_budget_ms", 10, 1_900],
      ["chain_link", 1, 1_000_000],
    ]).map(([field, value, message]): [string, unknown, RegExp] =>
      // refresh-worker also accepts the runs its chain starts (026).
      field === "trigger" ? [field, value, /trigger must be 'cron', 'manual' or 'continuation'/] : [
        field,
        value,
        message,
      ]
    ),
    closedStrings: [
      ["trigger", /trigger: trigger must be 'cron', 'manual' or 'continuation'/],
      ["run_id", /run_id: run_id must be a uuid/],
      ["chain_id", /chain_id: chain_id must be a uuid/],
    ],
    freeStrings: ["job_name"],
  },
  {
    name: "discover-movies",
    valid: { budget_ms: 1000, step_rows: 100 },
    fields: [
      ...COMMON_FIELDS([
        ["budget_ms", 1000, 140_000],
        ["cpu_budget_ms", 10, 1_900],
        ["step_rows", 100, 1_000_000],
        ["segment_kb", 16, 65_536],
        ["chain_link", 1, 1_000_000],
      ]).map(([field, value, message]): [string, unknown, RegExp] =>
        // discover-movies also accepts the runs its chain starts (031).
        field === "trigger"
          ? [field, value, /trigger must be 'cron', 'manual' or 'continuation'/]
          : [field, value, message]
      ),
      ["day", "2026-02-30", /day: day must be a real date YYYY-MM-DD/],
      ["day", "2026-2-3", /day: day must be a date YYYY-MM-DD/],
      ["day", 20260201, /day: Expected string, received number/],
    ],
    closedStrings: [
      ["day", /day: day must be a date YYYY-MM-DD/],
      ["trigger", /trigger: trigger must be 'cron', 'manual' or 'continuation'/],
      ["run_id", /run_id: run_id must be a uuid/],
      ["chain_id", /chain_id: chain_id must be a uuid/],
    ],
    freeStrings: ["job_name"],
  },
];

function casesFor(spec: FunctionSpec): Case[] {
  const s = stack!;
  const valid = spec.valid;
  const cases: Case[] = [];
  // --- method ---
  for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
    cases.push({
      name: `method ${method}`,
      method,
      body: valid,
      status: 405,
      error: "method_not_allowed",
      message: new RegExp(`^Method ${method} is not allowed; use POST$`),
    });
  }
  cases.push({
    name: "method GET without key",
    method: "GET",
    key: null,
    status: 405,
    error: "method_not_allowed",
    message: /^Method GET is not allowed; use POST$/,
  });
  // --- keys ---
  const notAccepted =
    /^The API key is not accepted: this function only accepts the service-role key or a secret key/;
  const keyCases: [string, string | null, Record<string, string>, string, RegExp][] = [
    ["no key", null, {}, "missing_api_key", /^No API key in the request; send the service-role/],
    ["wrong key", "wrong-key", {}, "invalid_api_key", notAccepted],
    ["anon key as Bearer", s.anonKey, {}, "invalid_api_key", notAccepted],
    ["anon key as apikey", null, { apikey: s.anonKey }, "invalid_api_key", notAccepted],
    ["publishable key as Bearer", s.publishableKey, {}, "invalid_api_key", notAccepted],
    [
      "publishable key as apikey",
      null,
      { apikey: s.publishableKey },
      "invalid_api_key",
      notAccepted,
    ],
    ["service key with a suffix", s.serviceRoleKey + "x", {}, "invalid_api_key", notAccepted],
    ["service key truncated", s.serviceRoleKey.slice(0, -1), {}, "invalid_api_key", notAccepted],
    ["secret key with a prefix", "x" + s.secretKey, {}, "invalid_api_key", notAccepted],
    ["SQL-looking key", "'or'1'='1", {}, "invalid_api_key", notAccepted],
    [
      "Basic auth",
      null,
      { authorization: "Basic dXNlcjpwYXNz" },
      "invalid_api_key",
      /^The Authorization header is not of the form `Bearer <key>`/,
    ],
    [
      "Bearer with spaces",
      null,
      { authorization: `Bearer ${s.anonKey} ${s.anonKey}` },
      "invalid_api_key",
      /^The Authorization header is not of the form `Bearer <key>`/,
    ],
  ];
  for (const [name, key, headers, error, message] of keyCases) {
    cases.push({ name, key, headers, body: valid, status: 401, error, message });
  }
  // --- media type, JSON, shape ---
  cases.push({
    name: "text/plain",
    headers: { "content-type": "text/plain" },
    raw: JSON.stringify(valid),
    status: 415,
    error: "unsupported_media_type",
    message: /^Content-Type must be application\/json: current value is "text\/plain"$/,
  });
  cases.push({
    name: "form encoded",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    raw: "limit=1&source=popular",
    status: 415,
    error: "unsupported_media_type",
    message: /^Content-Type must be application\/json/,
  });
  for (const raw of ["not json", "{", '{"limit": 1', "{'limit': 1}", "[1,,2]", "\u0000"]) {
    cases.push({
      name: `not JSON ${JSON.stringify(raw)}`,
      raw,
      status: 400,
      error: "invalid_json",
      message: /^Request body is not valid JSON: /,
    });
  }
  cases.push({
    name: "empty body",
    raw: "",
    status: 400,
    error: "invalid_json",
    message: /^Request body is empty: expected a JSON object$/,
  });
  cases.push({
    name: "not UTF-8",
    raw: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    status: 400,
    error: "invalid_json",
    message: /^Request body is not valid UTF-8 text$/,
  });
  for (const body of [[], 42, "limit", null, true, [valid]]) {
    cases.push({
      name: `JSON ${JSON.stringify(body)}`,
      raw: JSON.stringify(body),
      status: 400,
      error: "invalid_body",
      message: /^Invalid request body: body: Expected a JSON object$/,
    });
  }
  cases.push({
    name: "arrays nested 30 000 deep",
    raw: "[".repeat(30_000) + "]".repeat(30_000),
    status: 400,
    error: "invalid_body",
    message: /^Invalid request body: body: Expected a JSON object$/,
  });
  cases.push({
    name: "__proto__ key",
    raw: JSON.stringify(valid).replace(/^\{/, '{"__proto__": {"admin": true}, '),
    status: 400,
    error: "invalid_body",
    message: /Unrecognized key\(s\) in object: '__proto__'/,
  });
  for (const key of ["tmdb_ids_all", ...HOSTILE.filter((h) => !h.includes("\u0000"))]) {
    cases.push({
      name: `unknown key ${JSON.stringify(key)}`,
      body: { ...valid, [key]: 1 },
      status: 400,
      error: "invalid_body",
      message: /Unrecognized key\(s\) in object: /,
    });
  }
  cases.push({
    name: "NUL in a key",
    body: { ...valid, ["x\u0000"]: 1 },
    status: 400,
    error: "invalid_body",
    message: /contains a NUL character \(\\u0000\), which PostgreSQL text cannot store$/,
  });
  // --- sizes ---
  const padding = (bytes: number) => ({ ...valid, padding: "x".repeat(bytes) });
  for (const [name, bytes] of [["65 KiB", 65 * 1024], ["10 MiB", 10 * 1024 * 1024]] as const) {
    cases.push({
      name: `body of ${name}`,
      raw: JSON.stringify(padding(bytes)),
      status: 413,
      error: "body_too_large",
      message: /^Request body is larger than the limit of 65536 bytes/,
    });
    cases.push({
      name: `body of ${name}, streamed without Content-Length`,
      raw: streamOf(JSON.stringify(padding(bytes))),
      status: 413,
      error: "body_too_large",
      message:
        /^Request body is larger than the limit of 65536 bytes \(received more than 65536 bytes\)$/,
    });
  }
  // huge id lists: just over the count limit, and far over the byte limit
  cases.push({
    name: "51 ids",
    body: spec.name === "ingest-movie"
      ? { tmdb_ids: Array.from({ length: 51 }, (_, i) => i + 1) }
      : { ...valid, tmdb_ids: Array.from({ length: 51 }, (_, i) => i + 1) },
    status: 400,
    error: "invalid_body",
    message: spec.name === "ingest-movie"
      ? /^Invalid request body: tmdb_ids: At most 50 TMDB ids per request; split larger batches$/
      : /Unrecognized key\(s\) in object: 'tmdb_ids'/,
  });
  cases.push({
    name: "100 000 ids",
    raw: JSON.stringify({ tmdb_ids: Array.from({ length: 100_000 }, (_, i) => 100_000 + i) }),
    status: 413,
    error: "body_too_large",
    message: /^Request body is larger than the limit of 65536 bytes/,
  });
  // --- fields ---
  for (const [field, value, message] of spec.fields) {
    cases.push({
      name: `${field} = ${JSON.stringify(value)?.slice(0, 40)}`,
      body: { ...valid, [field]: value },
      status: 400,
      error: "invalid_body",
      message,
    });
  }
  for (const [field, message] of spec.closedStrings) {
    for (const h of HOSTILE) {
      cases.push({
        name: `${field} = ${JSON.stringify(h)}`,
        body: { ...valid, [field]: h },
        status: 400,
        error: "invalid_body",
        message: h.includes("\u0000")
          ? new RegExp(`^Invalid request body: ${field}: contains a NUL character`)
          : message,
      });
    }
  }
  for (const field of spec.freeStrings) {
    for (const h of HOSTILE.filter((h) => h.includes("\u0000"))) {
      cases.push({
        name: `${field} = ${JSON.stringify(h)}`,
        body: { ...valid, [field]: h },
        status: 400,
        error: "invalid_body",
        message: new RegExp(
          `^Invalid request body: ${field}: contains a NUL character \\(\\\\u0000\\), which PostgreSQL text cannot store$`,
        ),
      });
    }
  }
  if (spec.name === "ingest-movie") {
    const more: [unknown, RegExp][] = [
      [{}, /Exactly one of tmdb_id \/ tmdb_ids is required/],
      [{ tmdb_id: 550, tmdb_ids: [550] }, /Exactly one of tmdb_id \/ tmdb_ids is required/],
      [{ tmdb_ids: [] }, /tmdb_ids: Expected at least 1 TMDB id/],
      [{ tmdb_ids: "550,680" }, /tmdb_ids: Expected an array of TMDB ids/],
      [{ tmdb_ids: [550, "x"] }, /tmdb_ids\[1\]: Expected number, received string/],
      [{ tmdb_ids: [550, -1] }, /tmdb_ids\[1\]: Expected a positive TMDB id/],
      [{ tmdb_ids: [550, ...SQL_LOOKING] }, /tmdb_ids\[1\]: Expected number, received string/],
      [{ tmdb_ids: [550, "\u0000"] }, /^Invalid request body: tmdb_ids\[1\]: contains a NUL/],
    ];
    for (const [body, message] of more) {
      cases.push({
        name: `body ${JSON.stringify(body).slice(0, 50)}`,
        body,
        status: 400,
        error: "invalid_body",
        message,
      });
    }
  }
  return cases;
}

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 16 * 1024));
      offset += 16 * 1024;
    },
  });
}

async function run(spec: FunctionSpec, c: Case): Promise<FnAnswer> {
  return await callFunction(spec.name, c.body, {
    method: c.method,
    key: c.key,
    headers: c.headers,
    raw: c.raw,
  });
}

for (const spec of SPECS) {
  Deno.test({
    name:
      `reliability: ${spec.name} refuses hostile input with the right 4xx and a JSON message naming the problem; the database is unchanged`,
    ...needsStack(),
    async fn() {
      const sql = connect();
      const admin = connect("supabase_admin");
      const resumeCron = await pauseCron(admin);
      const problems: string[] = [];
      let count = 0;
      try {
        const before = await fingerprint(sql);
        const cases = casesFor(spec);
        const byStatus: Record<number, number> = {};
        for (const c of cases) {
          const r = await run(spec, c);
          count++;
          byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
          appendJsonLine("error_bodies.jsonl", {
            function: spec.name,
            case: c.name,
            status: r.status,
            body: r.text,
          });
          const where = `${spec.name} / ${c.name}`;
          if (r.status !== c.status) {
            problems.push(
              `${where}: status ${r.status} (expected ${c.status}): ${r.text.slice(0, 300)}`,
            );
            continue;
          }
          if (!/^application\/json/.test(r.headers.get("content-type") ?? "")) {
            problems.push(`${where}: content-type ${r.headers.get("content-type")}`);
          }
          if (!r.json || typeof r.json !== "object") {
            problems.push(`${where}: body is not a JSON object: ${r.text.slice(0, 200)}`);
            continue;
          }
          if (r.json.error !== c.error) {
            problems.push(`${where}: error ${r.json.error} (expected ${c.error})`);
          }
          if (typeof r.json.message !== "string" || !c.message.test(r.json.message)) {
            problems.push(
              `${where}: message ${JSON.stringify(r.json.message)} does not match ${c.message}`,
            );
          }
          if (typeof r.json.request_id !== "string" || r.json.request_id === "") {
            problems.push(`${where}: no request_id`);
          }
          for (
            const secret of [
              stack!.serviceRoleKey,
              stack!.secretKey,
              stack!.anonKey,
              stack!.publishableKey,
            ]
          ) {
            if (r.text.includes(secret)) problems.push(`${where}: the body echoes a key`);
          }
          if (c.status === 405 && r.headers.get("allow") !== "POST") {
            problems.push(`${where}: Allow header ${r.headers.get("allow")}`);
          }
          if (c.status === 401 && r.headers.get("www-authenticate") !== "Bearer") {
            problems.push(`${where}: WWW-Authenticate header ${r.headers.get("www-authenticate")}`);
          }
        }
        const after = await fingerprint(sql);
        assert.deepEqual(problems, [], `${problems.length} of ${count} cases misbehaved`);
        assert.deepEqual(after, before, "a refused request changed the database");
        report(`hostile_input ${spec.name}`, { cases: count, by_status: byStatus });
      } finally {
        await resumeCron();
        await sql.end();
        await admin.end();
      }
    },
  });
}

Deno.test({
  name:
    "reliability: SQL-looking, emoji and RTL job_names are valid free text: echoed and stored verbatim, never executed",
  ...needsStack(),
  async fn() {
    await withIsolatedQueue(async ({ sql }) => {
      const [{ n: worksBefore }] = await sql`select count(*)::int as n from public.works`;
      const names = HOSTILE.filter((h) => !h.includes("\u0000") && h !== "\uD800");
      // refresh-worker with nothing to claim writes nothing: the name comes back as sent.
      for (const job_name of names) {
        const r = await callFunction("refresh-worker", {
          batch_size: 1,
          budget_ms: 1000,
          job_name,
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.job_name, job_name);
        assert.equal(r.json.stopped_because, "queue_empty");
      }
      // scheduled-ingest keeps job_name in its run row: stored exactly, as data.
      const runId = crypto.randomUUID();
      const r = await callFunction("scheduled-ingest", {
        source: "popular",
        limit: 1,
        run_id: runId,
        job_name: SQL_LOOKING[0],
      });
      assert.equal(r.status, 200, r.text);
      const [row] = await sql`select status, details ->> 'job_name' as job_name
                                from public.scheduled_ingestion_log where run_id = ${runId}`;
      assert.equal(row.job_name, SQL_LOOKING[0]);
      assert.ok(["succeeded", "partial"].includes(row.status), row.status);
      const [{ n: worksAfter }] = await sql`select count(*)::int as n from public.works`;
      assert.ok(worksAfter >= worksBefore, "works was not dropped or emptied");
      assert.equal(
        worksAfter - worksBefore,
        r.json.inserted,
        "exactly the inserted movies were added",
      );
    }, { park: [] });
  },
});
