/**
 * Child-process entry of the local functions host.
 *
 * The host runs one of these per function, like hosted Supabase runs one isolate per function:
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-read --allow-sys \
 *   --v8-flags=--max-old-space-size=<memory limit, MB> --config <repo>/deno.json \
 *   local/functions_host/function_entry.ts <absolute path to supabase/functions/<name>/index.ts>
 * ```
 *
 * It replaces `Deno.serve` before importing the function's real `index.ts`, so the function's
 * own `Deno.serve(handler)` call:
 * - listens on the hostname/port the host chose (`FUNCTION_ENTRY_HOSTNAME`/`FUNCTION_ENTRY_PORT`;
 *   port 0 picks a free port), and reports it with one stdout line
 *   `{"event":"function_entry_listening","port":N}` the host waits for;
 * - turns a handler that throws (or rejects) into a 500 JSON
 *   `{ error: "internal_error", message: "Function '<name>' threw: <message>", request_id }`
 *   and one JSON log line with the stack on stderr (never the environment).
 *
 * The process exits when its stdin closes: the host keeps a pipe to every child's stdin, so if
 * the host dies (even by SIGKILL) its children follow.
 *
 * @module
 */

import { pathToFileURL } from "node:url";

/** Env var holding the port the function must listen on (0 = any free port). */
export const ENTRY_PORT_ENV = "FUNCTION_ENTRY_PORT";
/** Env var holding the hostname the function must listen on. */
export const ENTRY_HOSTNAME_ENV = "FUNCTION_ENTRY_HOSTNAME";
/** Env var holding the function's name (folder name), used in error bodies and logs. */
export const ENTRY_NAME_ENV = "FUNCTION_ENTRY_NAME";
/** `event` of the stdout line by which the entry reports the port it listens on. */
export const ENTRY_READY_EVENT = "function_entry_listening";
/** Header carrying the request id the host assigned; also set on the host's responses. */
export const REQUEST_ID_HEADER = "sb-request-id";

/** What the entry needs to know to shim `Deno.serve`. */
export interface ServeShimOptions {
  /** Function name, as in `supabase/functions/<name>`. */
  name: string;
  /** Hostname to listen on, whatever the function asks for. */
  hostname: string;
  /** Port to listen on, whatever the function asks for; 0 picks a free one. */
  port: number;
  /** Called once the server listens, with the port it got. */
  onReady: (port: number) => void;
  /** Writes one log line (a JSON object); defaults to `console.error(JSON.stringify(…))`. */
  log?: (entry: Record<string, unknown>) => void;
}

type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

type ServeOptions = {
  handler?: Handler;
  onListen?: (addr: Deno.NetAddr) => void;
  onError?: (error: unknown) => Response | Promise<Response>;
  signal?: AbortSignal;
  [key: string]: unknown;
};

/**
 * Wraps `handler` so that an uncaught throw or rejection (or a value that is not a `Response`)
 * becomes a 500 JSON body naming the function and the error, logged with its stack. A
 * function-supplied `onError` is still honoured, as `Deno.serve` would.
 */
export function wrapHandler(
  name: string,
  handler: Handler,
  options: {
    onError?: ServeOptions["onError"];
    log?: (entry: Record<string, unknown>) => void;
  } = {},
): Handler {
  const log = options.log ?? defaultLog;
  return async (request, info) => {
    let error: unknown;
    try {
      const response = await handler(request, info);
      if (response instanceof Response) return response;
      error = new TypeError(
        `handler returned ${describe(response)} instead of a Response`,
      );
    } catch (thrown) {
      error = thrown;
    }
    const requestId = request.headers.get(REQUEST_ID_HEADER) ?? crypto.randomUUID();
    const message = error instanceof Error ? error.message : String(error);
    log({
      ts: new Date().toISOString(),
      level: "error",
      event: "uncaught_exception",
      function: name,
      request_id: requestId,
      message,
      stack: error instanceof Error ? error.stack : undefined,
    });
    if (options.onError) {
      try {
        const response = await options.onError(error);
        if (response instanceof Response) return response;
      } catch {
        // The function's own onError failed too: fall through to the default body.
      }
    }
    return Response.json(
      {
        error: "internal_error",
        message: `Function '${name}' threw: ${message}`,
        request_id: requestId,
      },
      { status: 500 },
    );
  };
}

/** `Deno.serve` in the one call shape the shim uses. */
export type Serve = (options: ServeOptions, handler: Handler) => Deno.HttpServer<Deno.NetAddr>;

/**
 * A `Deno.serve` that forces the listen address and wraps the handler (see
 * {@linkcode wrapHandler}), serving with `serve`. Accepts every call shape of `Deno.serve`:
 * `(handler)`, `(options, handler)` and `(options & { handler })`. Unix-socket and TLS options
 * are dropped: the host talks plain HTTP over TCP. Only one server per function is allowed, as
 * hosted.
 */
export function createServeShim(
  serve: Serve,
  options: ServeShimOptions,
): (first: unknown, second?: unknown) => Deno.HttpServer<Deno.NetAddr> {
  let served = false;
  return (first: unknown, second?: unknown): Deno.HttpServer<Deno.NetAddr> => {
    let serveOptions: ServeOptions;
    let handler: unknown;
    if (typeof first === "function") {
      serveOptions = {};
      handler = first;
    } else if (typeof second === "function") {
      serveOptions = (first ?? {}) as ServeOptions;
      handler = second;
    } else {
      serveOptions = (first ?? {}) as ServeOptions;
      handler = serveOptions.handler;
    }
    if (typeof handler !== "function") {
      throw new TypeError(
        `Deno.serve() in function '${options.name}' needs a handler: got ${describe(handler)}`,
      );
    }
    if (served) {
      throw new Error(
        `Deno.serve() called twice in function '${options.name}': a function serves one handler`,
      );
    }
    served = true;
    const {
      handler: _handler,
      path: _path,
      cert: _cert,
      key: _key,
      hostname: _hostname,
      port: _port,
      transport: _transport,
      onListen: userOnListen,
      onError,
      ...rest
    } = serveOptions;
    return serve(
      {
        ...rest,
        hostname: options.hostname,
        port: options.port,
        onListen: (addr: Deno.NetAddr) => {
          options.onReady(addr.port);
          userOnListen?.(addr);
        },
      },
      wrapHandler(options.name, handler as Handler, { onError, log: options.log }),
    );
  };
}

/** Replaces `Deno.serve` with {@linkcode createServeShim}'s shim. */
export function installServeShim(options: ServeShimOptions): void {
  const shim = createServeShim(Deno.serve.bind(Deno) as Serve, options);
  (Deno as unknown as { serve: unknown }).serve = shim;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "Object"})`;
  return `${typeof value} ${String(value)}`;
}

function defaultLog(entry: Record<string, unknown>): void {
  console.error(JSON.stringify(entry));
}

/** Exits the process once stdin reaches end-of-file (the host closed it or died). */
function exitWhenStdinCloses(): void {
  (async () => {
    try {
      for await (const _chunk of Deno.stdin.readable) {
        // The host never writes; the pipe only signals that the host is alive.
      }
    } catch {
      // A read error means the pipe is gone as well.
    }
    Deno.exit(0);
  })();
}

/** What the host tells an entry: the function to import, its name and where to listen. */
export interface EntryConfig {
  /** Absolute path of the function's `index.ts`. */
  indexPath: string;
  /** Function name. */
  name: string;
  /** Hostname to listen on. */
  hostname: string;
  /** Port to listen on (0: any free one). */
  port: number;
}

/**
 * The entry's config from its arguments (the `index.ts` path) and the `FUNCTION_ENTRY_*`
 * variables. Throws naming what is missing or invalid.
 */
export function entryConfig(
  args: readonly string[],
  env: { get(name: string): string | undefined },
): EntryConfig {
  const indexPath = args[0];
  const name = env.get(ENTRY_NAME_ENV);
  const hostname = env.get(ENTRY_HOSTNAME_ENV) ?? "127.0.0.1";
  const portText = env.get(ENTRY_PORT_ENV) ?? "0";
  const port = Number(portText);
  if (!indexPath || !name || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `function_entry.ts needs an index.ts path argument, ${ENTRY_NAME_ENV} and a ` +
        `valid ${ENTRY_PORT_ENV}: got path ${JSON.stringify(indexPath)}, name ` +
        `${JSON.stringify(name)}, port ${JSON.stringify(portText)}`,
    );
  }
  return { indexPath, name, hostname, port };
}

async function main(): Promise<void> {
  let config: EntryConfig;
  try {
    config = entryConfig(Deno.args, Deno.env);
  } catch (error) {
    defaultLog({
      ts: new Date().toISOString(),
      level: "error",
      event: "boot_error",
      message: (error as Error).message,
    });
    Deno.exit(2);
  }
  const { indexPath, name, hostname, port } = config;
  // The function sees only the environment the host meant for it.
  Deno.env.delete(ENTRY_NAME_ENV);
  Deno.env.delete(ENTRY_HOSTNAME_ENV);
  Deno.env.delete(ENTRY_PORT_ENV);

  exitWhenStdinCloses();
  installServeShim({
    name,
    hostname,
    port,
    onReady: (boundPort) => {
      console.log(JSON.stringify({ event: ENTRY_READY_EVENT, port: boundPort }));
    },
  });
  try {
    await import(pathToFileURL(indexPath).href);
  } catch (error) {
    defaultLog({
      ts: new Date().toISOString(),
      level: "error",
      event: "boot_error",
      function: name,
      message: `Function '${name}' failed to load ${indexPath}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      stack: error instanceof Error ? error.stack : undefined,
    });
    Deno.exit(1);
  }
}

if (import.meta.main) {
  await main();
}
