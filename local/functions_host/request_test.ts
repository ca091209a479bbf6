// Tests for one request's path through the host, with a stand-in for the function process: an
// in-process server plays the function, and the test sets the process's CPU time and memory.
// Timers are real but short (the limits are set to tens of milliseconds).

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type EdgeLimits,
  HOSTED_EDGE_LIMITS,
  type LimitName,
  type UsageSample,
} from "./edge_limits.ts";
import { REQUEST_ID_HEADER } from "./function_entry.ts";
import { PoolClosedError } from "./function_pool.ts";
import type { LogEntry } from "./log.ts";
import {
  createRequestHandler,
  type HostedProcess,
  isFunctionName,
  parseRoute,
  type ProcessSource,
  type RequestHandlerOptions,
} from "./request.ts";

/** A function process whose port, usage and exit the test decides. */
class FakeProcess implements HostedProcess {
  readonly pid = 4242;
  readyAt: number | undefined = performance.now();
  exitStatus: Deno.CommandStatus | undefined;
  outOfMemory = false;
  usageNow: UsageSample = { cpuMs: 0, rssMb: 40, peakRssMb: 40 };
  killedFor: LimitName | undefined;
  stoppedWith: number | undefined;
  readonly ready: Promise<number>;
  readonly done: Promise<void>;
  readonly #exit = Promise.withResolvers<void>();

  constructor(ready: Promise<number>) {
    // A boot that fails is awaited only once a request takes the process: until then its
    // rejection must not count as unhandled.
    ready.catch(() => {});
    this.ready = ready;
    this.done = this.#exit.promise;
  }

  get exited(): boolean {
    return this.exitStatus !== undefined;
  }

  usage(): UsageSample {
    return this.usageNow;
  }

  exit(status: Deno.CommandStatus): void {
    this.exitStatus = status;
    this.#exit.resolve();
  }

  kill(limit: LimitName): void {
    this.killedFor = limit;
    this.exit({ success: false, code: 137, signal: "SIGKILL" });
  }

  stop(graceMs: number): Promise<void> {
    this.stoppedWith = graceMs;
    this.exit({ success: true, code: 0, signal: null });
    return Promise.resolve();
  }
}

/** Hands out one process (or one error) and records what comes back. */
class FakeSource implements ProcessSource<FakeProcess> {
  released: Array<{ reusable: boolean; reason?: string }> = [];
  constructor(readonly next: FakeProcess | Error) {}
  acquire(): Promise<FakeProcess> {
    return this.next instanceof Error ? Promise.reject(this.next) : Promise.resolve(this.next);
  }
  release(_process: FakeProcess, options: { reusable: boolean; reason?: string }): void {
    this.released.push(options);
  }
}

const LIMITS: EdgeLimits = { ...HOSTED_EDGE_LIMITS, cpuLimitMs: 500, idleTimeoutMs: 2_000 };
const WORKER_LIMIT = {
  code: "WORKER_RESOURCE_LIMIT",
  message: "Function failed due to not having enough compute resources (please check logs)",
};

/** A functions folder with `echo/index.ts` only (the fake process never reads it). */
async function withFunctionsDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "echo"));
    await Deno.writeTextFile(join(dir, "echo", "index.ts"), "");
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `body` with a server standing in for the function process (port 0: a free one). The
 * handler gets `parked`, which resolves when the test is over: a function that never answers
 * waits for it.
 */
async function withUpstream(
  handler: (request: Request, parked: Promise<void>) => Response | Promise<Response>,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const parked = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => handler(request, parked.promise),
  );
  try {
    await body(server.addr.port);
  } finally {
    parked.resolve();
    await server.shutdown();
  }
}

function handlerFor(
  functionsDir: string,
  source: FakeSource,
  options: Partial<RequestHandlerOptions<FakeProcess>> = {},
) {
  const logs: LogEntry[] = [];
  const handle = createRequestHandler<FakeProcess>({
    functionsDir,
    shownDir: "fns",
    processes: () => source,
    closing: () => false,
    limits: LIMITS,
    bootTimeoutMs: 1_000,
    stopGraceMs: 7,
    usagePollMs: 5,
    denoPath: "/opt/deno",
    log: (entry) => logs.push(entry),
    ...options,
  });
  return { handle, logs };
}

/** Waits (real time) for the watch of a request to notice its process is gone. */
async function afterExit(process: FakeProcess): Promise<void> {
  if (!process.exited) process.exit({ success: true, code: 0, signal: null });
  await new Promise((resolve) => setTimeout(resolve, 30));
}

Deno.test("parseRoute() splits /functions/v1/<name>[/subpath] and refuses other paths", () => {
  assert.deepEqual(parseRoute("/functions/v1/echo"), { name: "echo", subpath: "" });
  assert.deepEqual(parseRoute("/functions/v1/echo/a/b"), { name: "echo", subpath: "/a/b" });
  assert.deepEqual(parseRoute("/functions/v1/echo/"), { name: "echo", subpath: "/" });
  assert.equal(parseRoute("/functions/v1/"), null);
  assert.equal(parseRoute("/functions/v2/echo"), null);
  assert.equal(parseRoute("/"), null);
});

Deno.test("isFunctionName() refuses names starting with _ or . and anything but letters, digits, - and _", () => {
  for (const name of ["echo", "refresh-worker", "a_b", "0x"]) assert.ok(isFunctionName(name), name);
  for (const name of ["_shared", ".hidden", "-x", "a.b", "a%20b", ""]) {
    assert.ok(!isFunctionName(name), name);
  }
});

Deno.test("paths that name no function are 404 JSON with the request id, and no process is taken", async () => {
  await withFunctionsDir(async (dir) => {
    let asked = 0;
    const source = new FakeSource(new Error("never"));
    const { handle, logs } = handlerFor(dir, source, {
      processes: () => {
        asked++;
        return source;
      },
    });
    const cases: Array<[string, string]> = [
      ["/", "No route for GET /: functions are served at /functions/v1/<name>"],
      ["/functions/v1/_shared", "Function '_shared' not found: no fns/_shared/index.ts"],
      ["/functions/v1/missing/x", "Function 'missing' not found: no fns/missing/index.ts"],
    ];
    for (const [path, message] of cases) {
      const response = await handle(new Request(`http://host${path}`));
      assert.equal(response.status, 404);
      const requestId = response.headers.get(REQUEST_ID_HEADER);
      assert.deepEqual(await response.json(), {
        error: "not_found",
        message,
        request_id: requestId,
      });
    }
    assert.equal(asked, 0);
    assert.deepEqual(
      logs.map((e) => [e.event, e.function, e.status, e.level]),
      [["request", null, 404, "info"], ["request", null, 404, "info"], [
        "request",
        null,
        404,
        "info",
      ]],
    );
  });
});

Deno.test("while the host closes, and when the pool is closed, a request gets 503 shutting_down", async () => {
  await withFunctionsDir(async (dir) => {
    const closing = handlerFor(dir, new FakeSource(new Error("never")), { closing: () => true });
    const first = await closing.handle(new Request("http://host/functions/v1/echo"));
    assert.equal(first.status, 503);
    assert.equal((await first.json()).error, "shutting_down");

    const closed = handlerFor(dir, new FakeSource(new PoolClosedError("the pool is closed")));
    const second = await closed.handle(new Request("http://host/functions/v1/echo"));
    assert.equal(second.status, 503);
    assert.deepEqual(await second.json(), {
      error: "shutting_down",
      message: "The functions host is shutting down",
      request_id: second.headers.get(REQUEST_ID_HEADER),
    });
    assert.equal(closed.logs[0].function, "echo");
  });
});

Deno.test("a process that cannot start, fails to boot or boots too slowly gives 503 boot_error", async () => {
  await withFunctionsDir(async (dir) => {
    const spawnFails = handlerFor(dir, new FakeSource(new Error("No such file")));
    const cannot = await spawnFails.handle(new Request("http://host/functions/v1/echo"));
    assert.equal(cannot.status, 503);
    assert.equal(
      (await cannot.json()).message,
      "Function 'echo' could not be started with /opt/deno: No such file",
    );

    const failing = new FakeProcess(Promise.reject(new Error("Function 'echo' exited early")));
    const failingSource = new FakeSource(failing);
    const bootFails = handlerFor(dir, failingSource);
    const failed = await bootFails.handle(new Request("http://host/functions/v1/echo"));
    assert.equal(failed.status, 503);
    assert.deepEqual(await failed.json(), {
      error: "boot_error",
      message: "Function 'echo' exited early",
      request_id: failed.headers.get(REQUEST_ID_HEADER),
    });
    assert.deepEqual(failingSource.released, [{ reusable: false, reason: "boot_error" }]);
    assert.equal(failing.stoppedWith, undefined);

    const slow = new FakeProcess(new Promise<number>(() => {}));
    const slowSource = new FakeSource(slow);
    const bootSlow = handlerFor(dir, slowSource, { bootTimeoutMs: 20 });
    const late = await bootSlow.handle(new Request("http://host/functions/v1/echo"));
    assert.equal(late.status, 503);
    assert.equal(
      (await late.json()).message,
      "Function 'echo' did not start listening within 20 ms (bootTimeoutMs)",
    );
    assert.equal(slow.stoppedWith, 7);
    assert.deepEqual(slowSource.released, [{ reusable: false, reason: "boot_error" }]);
  });
});

Deno.test("a request is forwarded as /<name><subpath>?query with the request id and without hop-by-hop headers", async () => {
  await withFunctionsDir(async (dir) => {
    let seen: { url: string; method: string; headers: Headers; body: string } | undefined;
    await withUpstream(async (request) => {
      seen = {
        url: request.url,
        method: request.method,
        headers: request.headers,
        body: await request.text(),
      };
      return new Response("made", {
        status: 201,
        headers: { "x-made-by": "fn", "keep-alive": "timeout=5" },
      });
    }, async (port) => {
      const process = new FakeProcess(Promise.resolve(port));
      const source = new FakeSource(process);
      const { handle, logs } = handlerFor(dir, source);
      const response = await handle(
        new Request("http://host/functions/v1/echo/a/b?x=1", {
          method: "POST",
          body: "payload",
          headers: { "x-custom": "kept", "te": "trailers", "authorization": "Bearer k" },
        }),
      );
      assert.equal(response.status, 201);
      assert.equal(await response.text(), "made");
      const requestId = response.headers.get(REQUEST_ID_HEADER);
      assert.match(String(requestId), /^[0-9a-f-]{36}$/);
      assert.equal(response.headers.get("x-made-by"), "fn");
      assert.equal(response.headers.get("keep-alive"), null);

      assert.equal(new URL(seen!.url).pathname + new URL(seen!.url).search, "/echo/a/b?x=1");
      assert.equal(seen!.method, "POST");
      assert.equal(seen!.body, "payload");
      assert.equal(seen!.headers.get("x-custom"), "kept");
      assert.equal(seen!.headers.get("authorization"), "Bearer k");
      assert.equal(seen!.headers.get("te"), null);
      assert.equal(seen!.headers.get(REQUEST_ID_HEADER), requestId);

      assert.deepEqual(source.released, [{ reusable: true }]);
      const line = logs.find((e) => e.event === "request")!;
      assert.equal(line.function, "echo");
      assert.equal(line.status, 201);
      assert.equal(line.request_id, requestId);
      assert.equal(line.pid, 4242);
      assert.equal(line.path, "/functions/v1/echo/a/b");
      assert.equal(line.level, "info");
      await afterExit(process);
    });
  });
});

Deno.test("CPU past the limit while the function works kills it and answers 546 with hosted's body", async () => {
  await withFunctionsDir(async (dir) => {
    let process: FakeProcess | undefined;
    await withUpstream(async (_request, parked) => {
      process!.usageNow = { cpuMs: 900, rssMb: 40, peakRssMb: 40 };
      await parked;
      return new Response("too late");
    }, async (port) => {
      process = new FakeProcess(Promise.resolve(port));
      const source = new FakeSource(process);
      const { handle, logs } = handlerFor(dir, source);
      const response = await handle(new Request("http://host/functions/v1/echo"));
      assert.equal(response.status, 546);
      assert.deepEqual(await response.json(), WORKER_LIMIT);
      assert.equal(process.killedFor, "cpu");
      assert.deepEqual(source.released, [{ reusable: false, reason: "cpu" }]);
      const limit = logs.find((e) => e.event === "function_limit")!;
      assert.equal(limit.limit, "cpu");
      assert.equal(limit.request_id, response.headers.get(REQUEST_ID_HEADER));
      assert.equal(
        limit.message,
        "CPU Time exceeded: the process used more than 500 ms of CPU",
      );
      const line = logs.find((e) => e.event === "request")!;
      assert.deepEqual([line.status, line.limit, line.error, line.cpu_ms, line.process_cpu_ms], [
        546,
        "cpu",
        "worker_limit",
        900,
        900,
      ]);
    });
  });
});

Deno.test("no response within the idle timeout gives 504; the process is neither killed nor given back", async () => {
  await withFunctionsDir(async (dir) => {
    await withUpstream(async (_request, parked) => {
      await parked;
      return new Response("too late");
    }, async (port) => {
      const process = new FakeProcess(Promise.resolve(port));
      const source = new FakeSource(process);
      const { handle, logs } = handlerFor(dir, source, {
        limits: { ...LIMITS, idleTimeoutMs: 40 },
      });
      const response = await handle(new Request("http://host/functions/v1/echo"));
      assert.equal(response.status, 504);
      assert.deepEqual(await response.json(), {
        error: "idle_timeout",
        message: "Function 'echo' sent no response within 40 ms (request idle timeout)",
        request_id: response.headers.get(REQUEST_ID_HEADER),
      });
      assert.equal(process.killedFor, undefined);
      assert.deepEqual(source.released, []);
      assert.equal(logs.find((e) => e.event === "request")?.limit, "idle_timeout");
      await afterExit(process);
    });
  });
});

Deno.test("a process that dies mid-request gives 502 function_crashed naming its exit", async () => {
  await withFunctionsDir(async (dir) => {
    // Nothing listens on a port of a server that was shut down: the forward fails at once.
    let closedPort = 0;
    await withUpstream(() => new Response(), (port) => Promise.resolve(void (closedPort = port)));
    const process = new FakeProcess(Promise.resolve(closedPort));
    process.exit({ success: false, code: 1, signal: null });
    const source = new FakeSource(process);
    const { handle } = handlerFor(dir, source);
    const response = await handle(new Request("http://host/functions/v1/echo"));
    assert.equal(response.status, 502);
    assert.equal(
      (await response.json()).message,
      "Function 'echo' crashed while handling the request (exit code 1); it restarts on the " +
        "next request",
    );
    assert.deepEqual(source.released, [{ reusable: false, reason: "failed" }]);
  });
});

Deno.test("a dropped connection from a live process gives 502 without the query string", async () => {
  await withFunctionsDir(async (dir) => {
    let closedPort = 0;
    await withUpstream(() => new Response(), (port) => Promise.resolve(void (closedPort = port)));
    const process = new FakeProcess(Promise.resolve(closedPort));
    const source = new FakeSource(process);
    const { handle } = handlerFor(dir, source);
    // The process stays alive: the host waits a second for an exit that does not come.
    const response = await handle(new Request("http://host/functions/v1/echo?token=secret-1"));
    assert.equal(response.status, 502);
    const { message } = await response.json();
    assert.match(
      message,
      /^Function 'echo' failed to answer \(connection dropped or request body failed\): /,
    );
    assert.ok(!message.includes("secret-1"), message);
    assert.deepEqual(source.released, [{ reusable: false, reason: "failed" }]);
    await afterExit(process);
  });
});

Deno.test("a process that died of V8's out-of-memory abort gives 546 with limit memory", async () => {
  await withFunctionsDir(async (dir) => {
    let closedPort = 0;
    await withUpstream(() => new Response(), (port) => Promise.resolve(void (closedPort = port)));
    const process = new FakeProcess(Promise.resolve(closedPort));
    process.outOfMemory = true;
    process.exit({ success: false, code: 134, signal: "SIGABRT" });
    const source = new FakeSource(process);
    const { handle, logs } = handlerFor(dir, source);
    const response = await handle(new Request("http://host/functions/v1/echo"));
    assert.equal(response.status, 546);
    assert.deepEqual(await response.json(), WORKER_LIMIT);
    assert.deepEqual(source.released, [{ reusable: false, reason: "memory" }]);
    assert.equal(
      logs.find((e) => e.event === "function_limit")?.message,
      "Memory limit exceeded: the process used more than 256 MB",
    );
  });
});

Deno.test("the idle timeout between two chunks cuts off a streamed body and the request line says so", async () => {
  await withFunctionsDir(async (dir) => {
    await withUpstream((_request, parked) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("first\n"));
          parked.then(() => {
            try {
              controller.close();
            } catch {
              // Already cancelled by the server.
            }
          });
        },
      });
      return new Response(body);
    }, async (port) => {
      const process = new FakeProcess(Promise.resolve(port));
      const source = new FakeSource(process);
      const { handle, logs } = handlerFor(dir, source, {
        limits: { ...LIMITS, idleTimeoutMs: 60 },
      });
      const response = await handle(new Request("http://host/functions/v1/echo"));
      assert.equal(response.status, 200);
      await assert.rejects(response.text(), /idle_timeout limit reached/);
      const line = logs.find((e) => e.event === "request")!;
      assert.deepEqual([line.status, line.limit, line.error, line.level], [
        200,
        "idle_timeout",
        "idle_timeout",
        "error",
      ]);
      assert.deepEqual(source.released, []);
      await afterExit(process);
    });
  });
});
