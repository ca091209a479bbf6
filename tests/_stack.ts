/**
 * Shared helpers of the integration tests: they run against the throwaway stack that
 * `npm test` brings up and describes in the file named by STACK_INFO. Without STACK_INFO
 * (plain `deno test`), integration tests are ignored and say so.
 */
import postgres from "postgres";
import type { StackInfo } from "../local/lib/stack_config.ts";

/** A JSON body, read field by field in assertions. */
// deno-lint-ignore no-explicit-any
export type Json = any;

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

/**
 * GETs `pathAndQuery` (e.g. `/movie/popular?page=2`) from the stack's TMDB with its token.
 * The stand-in limits requests like TMDB (50 a second): a 429 is waited out (its
 * `Retry-After`, else one second) and the request sent again, up to 20 times.
 */
export async function tmdbGet(pathAndQuery: string): Promise<{ status: number; body: Json }> {
  if (!stack) throw new Error("no test stack: STACK_INFO is not set");
  for (let attempt = 1;; attempt++) {
    const res = await fetch(`${stack.tmdbUrl}${pathAndQuery}`, {
      headers: { authorization: `Bearer ${stack.tmdbToken}` },
    });
    const text = await res.text();
    if (res.status === 429 && attempt < 20) {
      const seconds = Number(res.headers.get("retry-after") ?? "1");
      await new Promise((r) => setTimeout(r, Math.max(1, seconds) * 1000));
      continue;
    }
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      throw new Error(
        `GET ${pathAndQuery} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`,
      );
    }
  }
}

/** `n` distinct movie ids from the stand-in's `/movie/popular` pages (deterministic for its seed). */
export async function popularIds(n: number, startPage = 1): Promise<number[]> {
  const ids: number[] = [];
  const seen = new Set<number>();
  for (let page = startPage; ids.length < n; page++) {
    const { status, body } = await tmdbGet(`/movie/popular?page=${page}`);
    if (status !== 200) throw new Error(`popular page ${page}: ${status} ${JSON.stringify(body)}`);
    if (body.results.length === 0) throw new Error(`the stand-in has fewer than ${n} movies`);
    for (const m of body.results as { id: number }[]) {
      if (!seen.has(m.id)) {
        seen.add(m.id);
        ids.push(m.id);
      }
    }
  }
  return ids.slice(0, n);
}
