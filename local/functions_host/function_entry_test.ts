import assert from "node:assert/strict";
import {
  createServeShim,
  ENTRY_HOSTNAME_ENV,
  ENTRY_NAME_ENV,
  ENTRY_PORT_ENV,
  entryConfig,
  REQUEST_ID_HEADER,
  type Serve,
  wrapHandler,
} from "./function_entry.ts";

const INFO = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;

function request(requestId?: string): Request {
  return new Request("http://fn/echo", {
    headers: requestId ? { [REQUEST_ID_HEADER]: requestId } : {},
  });
}

Deno.test("wrapHandler() passes a Response through untouched and logs nothing", async () => {
  const logs: Record<string, unknown>[] = [];
  const answer = new Response("fine", { status: 202 });
  const wrapped = wrapHandler("echo", () => answer, { log: (e) => logs.push(e) });
  assert.equal(await wrapped(request("r1"), INFO), answer);
  assert.deepEqual(logs, []);
});

Deno.test("wrapHandler() turns a throw into a 500 naming the function, with the host's request id, and logs the stack", async () => {
  const logs: Record<string, unknown>[] = [];
  const wrapped = wrapHandler("echo", () => {
    throw new Error("boom");
  }, { log: (e) => logs.push(e) });
  const response = await wrapped(request("r1"), INFO);
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), {
    error: "internal_error",
    message: "Function 'echo' threw: boom",
    request_id: "r1",
  });
  assert.equal(logs.length, 1);
  assert.equal(logs[0].event, "uncaught_exception");
  assert.equal(logs[0].function, "echo");
  assert.equal(logs[0].request_id, "r1");
  assert.match(String(logs[0].stack), /^Error: boom\n\s+at /);
});

Deno.test("wrapHandler() refuses an answer that is not a Response, and makes up a request id when none came", async () => {
  const wrapped = wrapHandler(
    "echo",
    (() => Promise.resolve({ ok: true })) as unknown as () => Response,
    { log: () => {} },
  );
  const response = await wrapped(request(), INFO);
  assert.equal(response.status, 500);
  const body = await response.json();
  assert.equal(
    body.message,
    "Function 'echo' threw: handler returned an object (Object) instead of a Response",
  );
  assert.match(body.request_id, /^[0-9a-f-]{36}$/);
  const text = wrapHandler("echo", (() => "text") as unknown as () => Response, {
    log: () => {},
  });
  assert.equal(
    (await (await text(request("r"), INFO)).json()).message,
    "Function 'echo' threw: handler returned string text instead of a Response",
  );
});

Deno.test("wrapHandler() honours the function's own onError, and falls back when it fails too", async () => {
  const throwing = () => Promise.reject(new Error("boom"));
  const own = wrapHandler("echo", throwing, {
    onError: (error) => new Response(`handled ${(error as Error).message}`, { status: 418 }),
    log: () => {},
  });
  const handled = await own(request("r"), INFO);
  assert.equal(handled.status, 418);
  assert.equal(await handled.text(), "handled boom");
  const broken = wrapHandler("echo", throwing, {
    onError: () => {
      throw new Error("onError broke");
    },
    log: () => {},
  });
  const fallback = await broken(request("r"), INFO);
  assert.equal(fallback.status, 500);
  assert.equal((await fallback.json()).message, "Function 'echo' threw: boom");
});

Deno.test("the serve shim listens where the host says, whatever the function asks for, and reports the port", async () => {
  const seen: Array<Record<string, unknown>> = [];
  let readyPort = -1;
  let userListened: Deno.NetAddr | undefined;
  const serve: Serve = (options, handler) => {
    seen.push(options);
    return Deno.serve(options as Deno.ServeTcpOptions, handler);
  };
  const shim = createServeShim(serve, {
    name: "echo",
    hostname: "127.0.0.1",
    port: 0,
    onReady: (port) => (readyPort = port),
    log: () => {},
  });
  const server = shim({
    hostname: "0.0.0.0",
    port: 8000,
    path: "/tmp/never.sock",
    cert: "never",
    key: "never",
    onListen: (addr: Deno.NetAddr) => (userListened = addr),
  }, () => {
    throw new Error("boom");
  });
  try {
    assert.equal(seen[0].hostname, "127.0.0.1");
    assert.equal(seen[0].port, 0);
    for (const dropped of ["path", "cert", "key"]) assert.ok(!(dropped in seen[0]), dropped);
    assert.equal(readyPort, server.addr.port);
    assert.equal(userListened?.port, server.addr.port);
    const response = await fetch(`http://127.0.0.1:${readyPort}/`);
    assert.equal(response.status, 500);
    assert.equal((await response.json()).message, "Function 'echo' threw: boom");
    assert.throws(
      () => shim(() => new Response()),
      /^Error: Deno.serve\(\) called twice in function 'echo': a function serves one handler$/,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("the serve shim takes every call shape of Deno.serve and refuses a call without a handler", () => {
  const handlers: unknown[] = [];
  const serve: Serve = (_options, handler) => {
    handlers.push(handler);
    return {} as Deno.HttpServer<Deno.NetAddr>;
  };
  const options = { name: "f", hostname: "127.0.0.1", port: 0, onReady: () => {} };
  createServeShim(serve, options)(() => new Response());
  createServeShim(serve, options)({ port: 1 }, () => new Response());
  createServeShim(serve, options)({ handler: () => new Response() });
  assert.equal(handlers.length, 3);
  assert.ok(handlers.every((handler) => typeof handler === "function"));
  assert.throws(
    () => createServeShim(serve, options)({ port: 1 }),
    /^TypeError: Deno.serve\(\) in function 'f' needs a handler: got undefined$/,
  );
});

Deno.test("entryConfig() reads the index path and FUNCTION_ENTRY_* and names what is wrong", () => {
  const env = (vars: Record<string, string>) => new Map(Object.entries(vars));
  assert.deepEqual(
    entryConfig(["/fns/echo/index.ts"], env({ [ENTRY_NAME_ENV]: "echo", [ENTRY_PORT_ENV]: "0" })),
    { indexPath: "/fns/echo/index.ts", name: "echo", hostname: "127.0.0.1", port: 0 },
  );
  assert.equal(
    entryConfig(["/i.ts"], env({ [ENTRY_NAME_ENV]: "f", [ENTRY_HOSTNAME_ENV]: "::1" })).hostname,
    "::1",
  );
  assert.throws(
    () => entryConfig([], env({ [ENTRY_NAME_ENV]: "echo", [ENTRY_PORT_ENV]: "70000" })),
    (error: Error) => {
      assert.equal(
        error.message,
        "function_entry.ts needs an index.ts path argument, FUNCTION_ENTRY_NAME and a valid " +
          'FUNCTION_ENTRY_PORT: got path undefined, name "echo", port "70000"',
      );
      return true;
    },
  );
  assert.throws(() => entryConfig(["/i.ts"], env({})), /name undefined/);
  assert.throws(
    () => entryConfig(["/i.ts"], env({ [ENTRY_NAME_ENV]: "f", [ENTRY_PORT_ENV]: "x" })),
    /port "x"/,
  );
});
