/**
 * Shared helpers of the integration tests: they run against the throwaway stack that
 * `npm test` brings up and describes in the file named by STACK_INFO. Without STACK_INFO
 * (plain `deno test`), integration tests are ignored and say so.
 */
import postgres from "postgres";
import type { StackInfo } from "../local/lib/stack_config.ts";

const infoPath = Deno.env.get("STACK_INFO");

/** The running test stack, or null outside `npm test`. */
export const stack: StackInfo | null = infoPath
  ? JSON.parse(Deno.readTextFileSync(infoPath))
  : null;

/** Options for an integration test: ignored (with a note) when no stack is running. */
export function needsStack(): {
  ignore: boolean;
  sanitizeResources: boolean;
  sanitizeOps: boolean;
} {
  if (!stack) {
    console.error("integration test ignored: run it through `npm test` (STACK_INFO is not set)");
  }
  return { ignore: !stack, sanitizeResources: false, sanitizeOps: false };
}

/** A postgres.js connection to the test stack (as `postgres`, or the superuser). */
export function connect(role: "postgres" | "supabase_admin" = "postgres"): postgres.Sql {
  if (!stack) throw new Error("no test stack: STACK_INFO is not set");
  return postgres(role === "postgres" ? stack.dbUrl : stack.adminDbUrl, {
    max: 4,
    onnotice: () => {},
  });
}

/** Polls `check` every 100 ms until it returns a non-null value or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A tiny HTTP endpoint for tests: records the requests it gets. */
export function testEndpoint(
  handler: (req: Request, body: string) => Response | Promise<Response> = () =>
    Response.json({ ok: true }),
): {
  url: string;
  hits: { method: string; path: string; body: string; headers: Headers }[];
  close(): Promise<void>;
} {
  const hits: { method: string; path: string; body: string; headers: Headers }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    hits.push({ method: req.method, path: new URL(req.url).pathname, body, headers: req.headers });
    return handler(req, body);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    close: () => server.shutdown(),
  };
}
