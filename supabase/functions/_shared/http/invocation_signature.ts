/**
 * Signed invocations: how pg_cron's calls (through `invoke_edge_function()`, migration 024)
 * prove they come from our database without putting a key where every database role can read
 * it (pg_net's queue). The request carries
 *
 *     x-tmdb-sync-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<function>.<body>")>
 *
 * where `secret` is the invocation secret (Vault `edge_invoke_secret` on the database side,
 * `EDGE_INVOKE_SECRET` — and `EDGE_INVOKE_SECRET_PREVIOUS` while rotating — on the functions'
 * side) and `<body>` the exact bytes received. A signature is accepted for
 * {@link SIGNATURE_MAX_AGE_SECONDS} after `t` (pg_net may send late), for that body and that
 * function only. Digests are compared in constant time against every configured secret.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { HttpError } from "./response.ts";

/** The request header that carries the signature. */
export const SIGNATURE_HEADER = "x-tmdb-sync-signature";
/** How long after `t` a signature is accepted: pg_net may send a queued request late. */
export const SIGNATURE_MAX_AGE_SECONDS = 600;
/** How far `t` may lie in the future (clocks of the database and the functions differ). */
export const SIGNATURE_MAX_SKEW_SECONDS = 60;

/** Where the secret must be set, in every error about it (never the value). */
export const INVOKE_SECRET_PLACES = "set the same secret in both places: in Vault as " +
  "edge_invoke_secret (select vault.update_secret(id, '<secret>') from vault.decrypted_secrets " +
  "where name = 'edge_invoke_secret'; or vault.create_secret('<secret>', 'edge_invoke_secret')) " +
  "and for the functions as EDGE_INVOKE_SECRET (supabase secrets set EDGE_INVOKE_SECRET=<secret>; " +
  "locally supabase/functions/.env)";

const enc = new TextEncoder();

function mac(secret: string, signedAt: string, functionName: string, body: Uint8Array): Buffer {
  return createHmac("sha256", secret)
    .update(enc.encode(`${signedAt}.${functionName}.`))
    .update(body)
    .digest();
}

/** Options for {@link signInvocation}. */
export interface SignOptions {
  /** The invocation secret. */
  secret: string;
  /** The function called, e.g. `refresh-worker`. */
  functionName: string;
  /** The exact request body (a string is encoded as UTF-8). */
  body: Uint8Array | string;
  /** Signing time, unix seconds. */
  signedAt: number;
}

/** The {@link SIGNATURE_HEADER} value for one request (what `invoke_edge_function()` sends). */
export function signInvocation(options: SignOptions): string {
  const { secret, functionName, body, signedAt } = options;
  const bytes = typeof body === "string" ? enc.encode(body) : body;
  return `t=${signedAt},v1=${mac(secret, String(signedAt), functionName, bytes).toString("hex")}`;
}

/** Options for {@link verifyInvocationSignature}. */
export interface VerifyOptions {
  /** The function that received the request. */
  functionName: string;
  /** The exact bytes of the request body. */
  body: Uint8Array;
  /** Every accepted secret (current first); empty when none is configured. */
  secrets: readonly string[];
  /** The time now, epoch milliseconds. */
  nowMs: number;
}

/**
 * Checks `header` (the {@link SIGNATURE_HEADER} value) against the request. Throws an
 * {@link HttpError}:
 * - 500 `misconfigured` when no secret is configured for the functions;
 * - 401 `invalid_signature` when the header is malformed, or no configured secret gives its
 *   digest for this function and body (a changed body, another function, differing secrets);
 * - 401 `stale_signature` when the digest matches but `t` is more than
 *   {@link SIGNATURE_MAX_AGE_SECONDS} old (a replay, or a very late send) or more than
 *   {@link SIGNATURE_MAX_SKEW_SECONDS} ahead.
 * Messages name where the secret is set, never a secret or the digest.
 */
export function verifyInvocationSignature(header: string, options: VerifyOptions): void {
  const { functionName, body, secrets, nowMs } = options;
  const challenge = { headers: { "www-authenticate": "Bearer" } };
  if (secrets.length === 0) {
    throw new HttpError(
      500,
      "misconfigured",
      `This request is signed (${SIGNATURE_HEADER}) but the functions have no invocation ` +
        `secret: EDGE_INVOKE_SECRET is not set; ${INVOKE_SECRET_PLACES}`,
    );
  }
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!match) {
    throw new HttpError(
      401,
      "invalid_signature",
      `The ${SIGNATURE_HEADER} header is not of the form t=<unix seconds>,v1=<64 hex digits>`,
      challenge,
    );
  }
  const [, signedAt, hex] = match;
  const presented = Buffer.from(hex, "hex");
  let matched = 0;
  for (const secret of secrets) {
    // `|=`, not `||`: every secret is compared even after a match.
    matched |= timingSafeEqual(presented, mac(secret, signedAt, functionName, body)) ? 1 : 0;
  }
  if (matched !== 1) {
    throw new HttpError(
      401,
      "invalid_signature",
      `The ${SIGNATURE_HEADER} does not match this request to ${functionName} under any ` +
        `configured invocation secret: the request was changed or sent to another function, or ` +
        `the database and the functions hold different secrets; ${INVOKE_SECRET_PLACES}`,
      challenge,
    );
  }
  const age = Math.floor(nowMs / 1000) - Number(signedAt);
  if (age > SIGNATURE_MAX_AGE_SECONDS || age < -SIGNATURE_MAX_SKEW_SECONDS) {
    throw new HttpError(
      401,
      "stale_signature",
      `The ${SIGNATURE_HEADER} was made at t=${signedAt}, ${
        age >= 0 ? `${age} s ago` : `${-age} s in the future`
      }; a signature is accepted from ${SIGNATURE_MAX_SKEW_SECONDS} s before to ` +
        `${SIGNATURE_MAX_AGE_SECONDS} s after its time: a replayed request, a request pg_net sent ` +
        `very late, or clocks that differ`,
      challenge,
    );
  }
}
