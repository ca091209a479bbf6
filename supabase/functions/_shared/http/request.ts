/**
 * The checks every handler starts with: the request id, the method, and the body read
 * within a size limit and parsed with the function's zod schema ({@link readJsonBody}, or
 * {@link readBodyBytes} then {@link parseJsonBody} when the raw bytes are needed first,
 * e.g. to check a signature over them). Each refusal is an {@link HttpError}.
 *
 * @module
 */

import type { z } from "zod";
import { describeIssues, issuePath } from "../platform/zod_issues.ts";
import { HttpError } from "./response.ts";

/**
 * The request's id: the platform's `sb-request-id` or `x-request-id` header when present
 * (and sane), else a fresh UUID.
 */
export function requestIdOf(req: Request): string {
  for (const name of ["sb-request-id", "x-request-id"]) {
    const value = req.headers.get(name);
    if (value && /^[A-Za-z0-9._:-]{1,128}$/.test(value)) return value;
  }
  return crypto.randomUUID();
}

/** Throws a 405 `method_not_allowed` (with an `Allow` header) unless `req.method` is allowed. */
export function requireMethod(req: Request, allowed: readonly string[]): void {
  if (allowed.includes(req.method.toUpperCase())) return;
  throw new HttpError(
    405,
    "method_not_allowed",
    `Method ${req.method} is not allowed; use ${allowed.join(" or ")}`,
    { headers: { allow: allowed.join(", ") } },
  );
}

/** Default largest accepted request body: 64 KiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** Options for {@link readJsonBody}. */
export interface ReadJsonBodyOptions {
  /** Largest accepted body in bytes. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBytes?: number;
}

/**
 * The path of the first string (object key or value) in a parsed JSON `value` that holds a
 * NUL character, or `null`. Every body ends up in PostgreSQL, whose `text` and `jsonb` cannot
 * hold U+0000, so such a body is refused at the boundary instead of failing half-way.
 */
function findNul(value: unknown): (string | number)[] | null {
  // Iterative, with parent links instead of copied paths: a 64 KiB body can nest arrays
  // 30 000 deep. Depth-first, the first hit wins.
  type Node = { value: unknown; key: string | number | null; parent: Node | null };
  const pathOf = (node: Node | null, last?: string): (string | number)[] => {
    const path: (string | number)[] = last === undefined ? [] : [last];
    for (let n = node; n !== null && n.key !== null; n = n.parent) path.unshift(n.key);
    return path;
  };
  const stack: Node[] = [{ value, key: null, parent: null }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === "string") {
      if (v.includes("\u0000")) return pathOf(node);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: i, parent: node });
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      for (const [key] of entries) if (key.includes("\u0000")) return pathOf(node, key);
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push({ value: entries[i][1], key: entries[i][0], parent: node });
      }
    }
  }
  return null;
}

function tooLarge(maxBytes: number, detail: string): HttpError {
  return new HttpError(
    413,
    "body_too_large",
    `Request body is larger than the limit of ${maxBytes} bytes (${detail})`,
  );
}

/** Reads at most `maxBytes` of the body, counting bytes as they stream in. */
async function readLimited(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes, `received more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads the request body's bytes, at most `maxBytes`, for a JSON request. Throws an
 * {@link HttpError}:
 * - 413 `body_too_large` when `Content-Length` or the bytes actually received exceed
 *   `maxBytes` (the stream is not read past the limit);
 * - 415 `unsupported_media_type` when a `Content-Type` other than JSON is declared.
 */
export async function readBodyBytes(
  req: Request,
  options: ReadJsonBodyOptions = {},
): Promise<Uint8Array> {
  const { maxBytes = DEFAULT_MAX_BODY_BYTES } = options;
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes, `Content-Length is ${declared.trim()}`);
  }
  const contentType = req.headers.get("content-type");
  if (contentType !== null) {
    const mediaType = contentType.split(";")[0].trim().toLowerCase();
    if (mediaType !== "application/json" && !/^application\/[a-z0-9.+-]*\+json$/.test(mediaType)) {
      throw new HttpError(
        415,
        "unsupported_media_type",
        `Content-Type must be application/json: current value is ${JSON.stringify(contentType)}`,
      );
    }
  }
  return await readLimited(req, maxBytes);
}

/**
 * Parses a body's bytes as JSON and then with `schema`. Throws an {@link HttpError}:
 * - 400 `invalid_json` when the body is empty, not UTF-8 or not JSON (naming the parse error);
 * - 400 `invalid_body` naming every failing field path (see {@link describeIssues}), with
 *   the issues as `details`, and naming the first string holding a NUL character (U+0000),
 *   which PostgreSQL cannot store.
 */
export function parseJsonBody<T>(
  bytes: Uint8Array,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
): T {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_json", "Request body is not valid UTF-8 text");
  }
  if (text.trim() === "") {
    throw new HttpError(400, "invalid_json", "Request body is empty: expected a JSON object");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, "invalid_json", `Request body is not valid JSON: ${reason}`);
  }
  const nulAt = findNul(value);
  if (nulAt !== null) {
    const where = issuePath(nulAt, "body");
    throw new HttpError(
      400,
      "invalid_body",
      `Invalid request body: ${where}: contains a NUL character (\\u0000), which PostgreSQL ` +
        `text cannot store`,
      { details: [{ path: nulAt, code: "nul_character", message: "contains \\u0000" }] },
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(
      400,
      "invalid_body",
      `Invalid request body: ${describeIssues(parsed.error, { root: "body" })}`,
      {
        details: parsed.error.issues.map((issue) => ({
          path: issue.path,
          code: issue.code,
          message: issue.message,
        })),
      },
    );
  }
  return parsed.data;
}

/**
 * Reads the body as JSON and parses it with `schema`: {@link readBodyBytes} then
 * {@link parseJsonBody}, with their errors (413, 415, 400 `invalid_json` / `invalid_body`).
 */
export async function readJsonBody<T>(
  req: Request,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  options: ReadJsonBodyOptions = {},
): Promise<T> {
  return parseJsonBody(await readBodyBytes(req, options), schema);
}
