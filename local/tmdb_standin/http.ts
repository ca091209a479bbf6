/**
 * TMDB's answers as the stand-in builds them: the error bodies
 * (`{success:false, status_code, status_message}`) with their HTTP statuses, JSON and raw
 * answers, and how an answer becomes a `Response` (optionally cut in half: the malformed-JSON
 * fault).
 *
 * @module
 */

/** Content type of every JSON answer (TMDB's). */
export const JSON_TYPE = "application/json;charset=utf-8";

/** A TMDB error: `[http status, status_code, status_message]`. */
export type TmdbError = readonly [status: number, code: number, message: string];

/** TMDB's error bodies used by the stand-in: `[http status, status_code, status_message]`. */
export const TMDB_ERRORS = {
  invalidKey: [401, 7, "Invalid API key: You must be granted a valid key."],
  notFound: [404, 34, "The resource you requested could not be found."],
  invalidPage: [
    400,
    22,
    "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
  ],
  tooManyAppend: [
    400,
    27,
    "Too many append to response objects: The maximum number of remote calls is 20.",
  ],
  invalidDateRange: [422, 20, "Invalid date range: Should be a range no longer than 14 days."],
  invalidParameters: [422, 5, "Invalid parameters: Your request parameters are incorrect."],
  internal: [500, 11, "Internal error: Something went wrong, contact TMDb."],
  offline: [503, 9, "Service offline: This service is temporarily offline, try again later."],
  backendTimeout: [504, 24, "Your request to the backend server timed out. Try again."],
} as const satisfies Record<string, TmdbError>;

/** A JSON answer. */
export interface JsonAnswer {
  /** Discriminator. */
  kind: "json";
  /** HTTP status. */
  status: number;
  /** Body (serialised on sending). */
  body: unknown;
  /** Extra headers. */
  headers?: Record<string, string>;
}

/** A non-JSON answer (e.g. a proxy's HTML 502 page). */
export interface RawAnswer {
  /** Discriminator. */
  kind: "raw";
  /** HTTP status. */
  status: number;
  /** Body text. */
  text: string;
  /** Content type. */
  contentType: string;
}

/** What the API answers before it is turned into a `Response`. */
export type Answer = JsonAnswer | RawAnswer;

/** A TMDB error answer. */
export function tmdbError(
  [status, code, message]: TmdbError,
  headers?: Record<string, string>,
): JsonAnswer {
  return {
    kind: "json",
    status,
    body: { success: false, status_code: code, status_message: message },
    headers,
  };
}

/** A 200 JSON answer. */
export function ok(body: unknown): JsonAnswer {
  return { kind: "json", status: 200, body };
}

/** The `Response` for an answer; `malformed` sends the first half of the JSON only. */
export function toResponse(answer: Answer, malformed = false): Response {
  if (answer.kind === "raw") {
    return new Response(answer.text, {
      status: answer.status,
      headers: { "content-type": answer.contentType },
    });
  }
  let text = JSON.stringify(answer.body);
  if (malformed) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  return new Response(text, {
    status: answer.status,
    headers: { "content-type": JSON_TYPE, ...answer.headers },
  });
}

/** A JSON `Response` (control API). */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": JSON_TYPE } });
}

/** Resolves true after `ms` (null = never), false as soon as `signal` aborts. */
export function pause(ms: number | null, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (ms !== null) {
      timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
    }
  });
}
