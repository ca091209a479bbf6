/**
 * Copying a request to a function process and its response back, as a proxy: which headers
 * go through, a response body relayed chunk by chunk with hooks for the host's limits, and
 * the small waits and masks the host needs around a fetch.
 *
 * @module
 */

import { REQUEST_ID_HEADER } from "./function_entry.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy must not forward. */
export const HOP_BY_HOP: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
/** Encodings Deno's fetch decodes by itself (the body arrives decoded, the header stays). */
const DECODED_BY_FETCH = new Set(["gzip", "x-gzip", "br"]);

/**
 * The headers a function gets: the client's without hop-by-hop ones, `host` and
 * `content-length` (fetch sets both), with the request id the host assigned.
 */
export function headersToFunction(client: Headers, requestId: string): Headers {
  const headers = new Headers(client);
  for (const header of [...HOP_BY_HOP, "host", "content-length"]) headers.delete(header);
  headers.set(REQUEST_ID_HEADER, requestId);
  return headers;
}

/**
 * The headers the client gets: the function's without hop-by-hop ones, with the request id.
 * A gzip or brotli body arrives decoded, so its `content-encoding` and `content-length` go.
 */
export function headersToClient(upstream: Headers, requestId: string): Headers {
  const headers = new Headers(upstream);
  for (const header of HOP_BY_HOP) headers.delete(header);
  const encoding = headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && DECODED_BY_FETCH.has(encoding)) {
    headers.delete("content-encoding");
    headers.delete("content-length");
  }
  headers.set(REQUEST_ID_HEADER, requestId);
  return headers;
}

/** How a relayed response body ended. */
export type BodyOutcome = "complete" | "error" | "cancelled";

/** A response body being copied from a function to the client. */
export interface RelayedBody {
  /** The copy to answer with. */
  stream: ReadableStream<Uint8Array>;
  /** Ends the copy with an error (the client sees a broken body) and cancels the source. */
  fail(error: Error): void;
}

/** What {@linkcode relayBody} calls while it copies. */
export interface RelayHooks {
  /** Runs for every chunk, before it is passed on. */
  onChunk(): void;
  /** Runs when the source is done; an error returned turns the complete body into a failed one. */
  beforeClose(): Error | null;
  /** Runs once, when the copy completes, fails or is cancelled by the client. */
  onEnd(outcome: BodyOutcome): void;
}

/** The function's response body failed mid-way; already logged with its request. */
export class ResponseBodyFailed extends Error {
  constructor(cause: unknown) {
    super(`response body from the function failed: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
}

/** Copies `body`, calling `hooks` (see {@linkcode RelayHooks}). */
export function relayBody(body: ReadableStream<Uint8Array>, hooks: RelayHooks): RelayedBody {
  const reader = body.getReader();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const end = (outcome: BodyOutcome): boolean => {
    if (ended) return false;
    ended = true;
    hooks.onEnd(outcome);
    return true;
  };
  const fail = (error: Error) => {
    if (!end("error")) return;
    controller.error(error);
    reader.cancel(error).catch(() => {});
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull() {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        fail(new ResponseBodyFailed(error));
        return;
      }
      if (ended) return;
      if (chunk.done) {
        const error = hooks.beforeClose();
        if (error) fail(error);
        else if (end("complete")) controller.close();
      } else {
        hooks.onChunk();
        controller.enqueue(chunk.value);
      }
    },
    async cancel(reason) {
      end("cancelled");
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { stream, fail };
}

/** Fetch errors quote the URL; the query string may carry a key, so it is masked. */
export function withoutQuery(message: string, search: string): string {
  return search === "" ? message : message.replaceAll(search, "?<query>");
}

/** What {@linkcode settle} saw first. */
export type Outcome<T> =
  | { kind: "value"; value: T }
  | { kind: "error"; error: unknown }
  | { kind: "timeout" };

/** Waits for `promise`, at most `ms`. Leaves no timer behind. */
export async function settle<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<Outcome<T>>((resolveLimit) => {
    timer = setTimeout(() => resolveLimit({ kind: "timeout" }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome<T> => ({ kind: "value", value }),
        (error): Outcome<T> => ({ kind: "error", error }),
      ),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
