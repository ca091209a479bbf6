// Tests for the functions host, run in-process. They start real `deno` subprocesses for the
// fixture functions in tests/fixtures/functions/, so they wait on real I/O (no fake clock).

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REQUEST_ID_HEADER } from "./function_entry.ts";
import { type FunctionsHost, type FunctionsHostOptions, startFunctionsHost } from "./host.ts";
import type { LogEntry } from "./log.ts";
import { PASSTHROUGH_ENV_NAMES } from "./supervisor.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURES = join(REPO, "tests/fixtures/functions");
const BASE_ENV: Record<string, string> = {
  SUPABASE_URL: "http://127.0.0.1:55321",
  SUPABASE_DB_URL: "postgresql://postgres@127.0.0.1:55322/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "test-service-role-key",
  SUPABASE_ANON_KEY: "test-anon-key",
};
const ENV_FILE_TEXT = "# user secrets\nFIXTURE_SECRET=from-env-file\n";

interface EchoBody {
  method: string;
  pathname: string;
  query: Record<string, string>;
  body: string;
  env: Record<string, unknown>;
  env_names: string[];
  pid: number;
}

/** Starts an in-process host on a free port with the fixtures, runs `body`, always closes. */
async function withHost(
  options: Partial<FunctionsHostOptions>,
  body: (host: FunctionsHost, logs: LogEntry[]) => Promise<void>,
): Promise<void> {
  const logs: LogEntry[] = [];
  const envFile = await Deno.makeTempFile({ suffix: ".env" });
  await Deno.writeTextFile(envFile, ENV_FILE_TEXT);
  try {
    const host = await startFunctionsHost({
      port: 0,
      functionsDir: FIXTURES,
      env: BASE_ENV,
      envFile,
      log: (entry) => logs.push(entry),
      ...options,
    });
    try {
      await body(host, logs);
    } finally {
      await host.close();
    }
  } finally {
    await Deno.remove(envFile);
  }
}

async function getJson(url: string, init?: RequestInit): Promise<[Response, unknown]> {
  const response = await fetch(url, init);
  return [response, await response.json()];
}

function startedPort(logs: LogEntry[], name: string): number {
  const started = logs.filter((e) => e.event === "function_started" && e.function === name);
  assert.equal(started.length, 1, `expected one function_started for ${name}`);
  return started[0].port as number;
}

async function isListening(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("serves the function's real index.ts with method, subpath, query and streamed body", async () => {
  await withHost({}, async (host, logs) => {
    const chunks = ["hello ", "world"];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const [response, json] = await getJson(
      `${host.url}/functions/v1/echo/a/b?x=1&y=two`,
      { method: "POST", body, headers: { "content-type": "text/plain" } },
    );
    assert.equal(response.status, 200);
    const echo = json as EchoBody;
    assert.equal(echo.method, "POST");
    assert.equal(echo.pathname, "/echo/a/b");
    assert.deepEqual(echo.query, { x: "1", y: "two" });
    assert.equal(echo.body, "hello world");
    const requestLog = logs.find((e) => e.event === "request");
    assert.equal(response.headers.get(REQUEST_ID_HEADER), requestLog?.request_id);
  });
});

Deno.test("passes the given env and the env file to the function and nothing else", async () => {
  await withHost({}, async (host) => {
    const [response, json] = await getJson(`${host.url}/functions/v1/echo`);
    assert.equal(response.status, 200);
    const echo = json as EchoBody;
    assert.deepEqual(echo.env, {
      SUPABASE_URL: BASE_ENV.SUPABASE_URL,
      SUPABASE_DB_URL: BASE_ENV.SUPABASE_DB_URL,
      has_service_role_key: true,
      FIXTURE_SECRET: "from-env-file",
    });
    const allowed = new Set([...Object.keys(BASE_ENV), "FIXTURE_SECRET", ...PASSTHROUGH_ENV_NAMES]);
    assert.deepEqual(echo.env_names.filter((name) => !allowed.has(name)), []);
    for (const name of Object.keys(BASE_ENV)) assert.ok(echo.env_names.includes(name), name);
  });
});

Deno.test("unknown functions, `_`-folders, folders without index.ts and other paths are 404 JSON", async () => {
  await withHost({}, async (host, logs) => {
    const cases: Array<[string, string]> = [
      [
        "/functions/v1/nope",
        "Function 'nope' not found: no tests/fixtures/functions/nope/index.ts",
      ],
      [
        "/functions/v1/_shared",
        "Function '_shared' not found: no tests/fixtures/functions/_shared/index.ts",
      ],
      [
        "/functions/v1/no-index/x",
        "Function 'no-index' not found: no tests/fixtures/functions/no-index/index.ts",
      ],
      ["/", "No route for GET /: functions are served at /functions/v1/<name>"],
      [
        "/functions/v1/",
        "No route for GET /functions/v1/: functions are served at /functions/v1/<name>",
      ],
    ];
    for (const [path, message] of cases) {
      const [response, json] = await getJson(`${host.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.match(response.headers.get("content-type") ?? "", /application\/json/);
      assert.deepEqual(json, {
        error: "not_found",
        message,
        request_id: response.headers.get(REQUEST_ID_HEADER),
      });
    }
    assert.deepEqual(logs.filter((e) => e.event === "function_started"), []);
  });
});

Deno.test("a handler that throws gives a 500 JSON with the message, and the host serves on", async () => {
  await withHost({}, async (host, logs) => {
    const [response, json] = await getJson(`${host.url}/functions/v1/throws`, { method: "POST" });
    assert.equal(response.status, 500);
    const requestId = response.headers.get(REQUEST_ID_HEADER);
    assert.deepEqual(json, {
      error: "internal_error",
      message: "Function 'throws' threw: fixture handler failed on purpose",
      request_id: requestId,
    });
    const logged = logs.find((e) => e.event === "function_log" && e.function === "throws")
      ?.line as Record<string, unknown> | undefined;
    assert.equal(logged?.event, "uncaught_exception");
    assert.equal(logged?.request_id, requestId);
    assert.match(String(logged?.stack), /fixture handler failed on purpose\n\s+at /);

    const [echoResponse] = await getJson(`${host.url}/functions/v1/echo`);
    assert.equal(echoResponse.status, 200);
  });
});

Deno.test("a function that fails while loading gives a 503 boot_error JSON", async () => {
  await withHost({}, async (host, logs) => {
    const [response, json] = await getJson(`${host.url}/functions/v1/boot-fails`);
    assert.equal(response.status, 503);
    assert.equal((json as { error: string }).error, "boot_error");
    assert.match(
      (json as { message: string }).message,
      /^Function 'boot-fails' exited \(exit code 1\) before it started listening/,
    );
    assert.ok(
      logs.some((e) =>
        e.event === "function_log" &&
        String((e.line as Record<string, unknown>).message).includes(
          "fixture fails while loading on purpose",
        )
      ),
    );
  });
});

Deno.test("an env file setting a SUPABASE_ name is refused with a clear error", async () => {
  const envFile = await Deno.makeTempFile({ suffix: ".env" });
  try {
    await Deno.writeTextFile(envFile, "OK=1\nSUPABASE_URL=http://not-shown.example\n");
    await assert.rejects(
      startFunctionsHost({ port: 0, functionsDir: FIXTURES, env: BASE_ENV, envFile }),
      (error: Error) => {
        assert.match(error.message, new RegExp(`Env file ${envFile} sets SUPABASE_URL`));
        assert.match(error.message, /reserved/);
        assert.ok(!error.message.includes("not-shown"), "the value must not be shown");
        return true;
      },
    );
  } finally {
    await Deno.remove(envFile);
  }
});

Deno.test("a missing env file is fine", async () => {
  await withHost({ envFile: join(FIXTURES, "does-not-exist.env") }, async (host) => {
    const [response, json] = await getJson(`${host.url}/functions/v1/echo`);
    assert.equal(response.status, 200);
    assert.equal((json as EchoBody).env.FIXTURE_SECRET, null);
  });
});

Deno.test("a request still running when its process reaches the wall clock gets 546 and the host serves on", async () => {
  await withHost({ wallClockMs: 500 }, async (host, logs) => {
    const [response, json] = await getJson(`${host.url}/functions/v1/slow`);
    assert.equal(response.status, 546);
    assert.deepEqual(json, {
      code: "WORKER_RESOURCE_LIMIT",
      message: "Function failed due to not having enough compute resources (please check logs)",
    });
    const requestLog = logs.find((e) => e.event === "request" && e.function === "slow");
    assert.equal(requestLog?.request_id, response.headers.get(REQUEST_ID_HEADER));
    assert.equal(requestLog?.limit, "wall_clock");
    assert.equal(requestLog?.error, "worker_limit");
    const [echoResponse] = await getJson(`${host.url}/functions/v1/echo`);
    assert.equal(echoResponse.status, 200);
  });
});

Deno.test("a function that dies mid-request gives 502 and restarts on the next request", async () => {
  await withHost({}, async (host, logs) => {
    const [first, before] = await getJson(`${host.url}/functions/v1/crash`);
    assert.equal(first.status, 200);
    const [crashed, json] = await getJson(`${host.url}/functions/v1/crash/exit`);
    assert.equal(crashed.status, 502);
    assert.deepEqual(json, {
      error: "function_crashed",
      message: "Function 'crash' crashed while handling the request (exit code 1); it restarts " +
        "on the next request",
      request_id: crashed.headers.get(REQUEST_ID_HEADER),
    });
    const [again, after] = await getJson(`${host.url}/functions/v1/crash`);
    assert.equal(again.status, 200);
    assert.notEqual((after as { pid: number }).pid, (before as { pid: number }).pid);
    assert.equal(logs.filter((e) => e.event === "function_started").length, 2);
  });
});

Deno.test("logs one JSON request line per request, without headers or query", async () => {
  await withHost({}, async (host, logs) => {
    const secret = "header-secret-never-logged";
    await (await fetch(`${host.url}/functions/v1/echo?token=query-secret`, {
      headers: { authorization: `Bearer ${secret}`, apikey: secret },
    })).text();
    await (await fetch(`${host.url}/functions/v1/nope`)).text();
    const posted = await fetch(`${host.url}/functions/v1/echo/sub`, { method: "POST", body: "x" });
    await posted.text();

    const requests = logs.filter((e) => e.event === "request");
    assert.deepEqual(
      requests.map(({ function: fn, method, path, status, level }) => ({
        fn,
        method,
        path,
        status,
        level,
      })),
      [
        { fn: "echo", method: "GET", path: "/functions/v1/echo", status: 200, level: "info" },
        { fn: null, method: "GET", path: "/functions/v1/nope", status: 404, level: "info" },
        { fn: "echo", method: "POST", path: "/functions/v1/echo/sub", status: 200, level: "info" },
      ],
    );
    for (const entry of requests) {
      assert.equal(typeof entry.duration_ms, "number");
      assert.ok(!Number.isNaN(Date.parse(entry.ts)));
      assert.match(String(entry.request_id), /^[0-9a-f-]{36}$/);
    }
    assert.equal(requests[2].request_id, posted.headers.get(REQUEST_ID_HEADER));
    const everything = JSON.stringify(logs);
    assert.ok(!everything.includes(secret), "a header value was logged");
    assert.ok(!everything.includes("query-secret"), "the query string was logged");
  });
});

Deno.test("close() stops every function process", async () => {
  const logs: LogEntry[] = [];
  const host = await startFunctionsHost({
    port: 0,
    functionsDir: FIXTURES,
    env: BASE_ENV,
    log: (entry) => logs.push(entry),
  });
  let closed = false;
  try {
    await (await fetch(`${host.url}/functions/v1/echo`)).body?.cancel();
    const port = startedPort(logs, "echo");
    assert.ok(await isListening(port));
    await host.close();
    closed = true;
    assert.equal(await isListening(port), false);
    assert.equal(await isListening(host.port), false);
  } finally {
    if (!closed) await host.close();
  }
});
