/**
 * Caller authentication by key, for operators calling the functions directly: the caller
 * presents the service-role key or one of the project's secret keys (`sb_secret_…`). Calls
 * from pg_cron carry no key but a signature instead (`invocation_signature.ts`). The
 * gateway's JWT check is off for these functions (`verify_jwt = false`: the new secret keys
 * are not JWTs, and signed calls carry none), so these two modules are the only gate.
 *
 * Keys are compared in constant time: both the presented key and each allowed key are
 * HMAC-SHA-256'd with a random per-process key, and the equal-length digests are compared
 * with `timingSafeEqual`. Every allowed key is compared (no early exit), so timing reveals
 * neither the length of a key nor how many leading bytes matched, nor which key matched.
 *
 * @module
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Config } from "../platform/config.ts";
import { HttpError } from "./response.ts";

/** Random per-process HMAC key: digests cannot be precomputed or compared across processes. */
const HMAC_KEY = randomBytes(32);

function digest(value: string): Uint8Array {
  return createHmac("sha256", HMAC_KEY).update(value, "utf8").digest();
}

/**
 * `true` when `presented` equals one of `allowedKeys`, in time independent of where (or
 * whether) they differ. Empty allowed keys never match.
 */
export function matchesAnyKey(presented: string, allowedKeys: readonly string[]): boolean {
  const presentedDigest = digest(presented);
  let matched = 0;
  for (const key of allowedKeys) {
    if (key === "") continue;
    // `|=` (not `||`): every key is compared even after a match.
    matched |= timingSafeEqual(presentedDigest, digest(key)) ? 1 : 0;
  }
  return matched === 1;
}

/** The credentials a request presents: the `Bearer` token and the `apikey` header. */
export function presentedKeys(req: Request): { keys: string[]; malformedAuthorization: boolean } {
  const keys: string[] = [];
  let malformedAuthorization = false;
  const authorization = req.headers.get("authorization")?.trim();
  if (authorization && !/^Bearer$/i.test(authorization)) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match) keys.push(match[1]);
    else malformedAuthorization = true;
  }
  const apikey = req.headers.get("apikey")?.trim();
  if (apikey) keys.push(apikey);
  return { keys, malformedAuthorization };
}

/**
 * `true` when the `Authorization: Bearer` token or the `apikey` header of `req` is one of
 * `allowedKeys` (compared as {@link matchesAnyKey} does).
 */
export function hasAllowedKey(req: Request, allowedKeys: readonly string[]): boolean {
  let ok = false;
  for (const key of presentedKeys(req).keys) ok = matchesAnyKey(key, allowedKeys) || ok;
  return ok;
}

const HOW = "send the service-role or secret key as `Authorization: Bearer <key>` or as an " +
  "`apikey: <key>` header";

/**
 * Checks that `req` carries one of `allowedKeys` as `Authorization: Bearer <key>` or
 * `apikey: <key>` (either header may hold it). Throws an {@link HttpError} 401
 * `missing_api_key` when neither header carries a key, and 401 `invalid_api_key` when no
 * presented key is allowed (a wrong key, the anon key, a publishable key). The presented key
 * is never echoed.
 */
export function authorize(req: Request, allowedKeys: readonly string[]): void {
  const { keys, malformedAuthorization } = presentedKeys(req);
  const challenge = { "www-authenticate": "Bearer" };
  if (keys.length === 0) {
    if (malformedAuthorization) {
      throw new HttpError(
        401,
        "invalid_api_key",
        `The Authorization header is not of the form \`Bearer <key>\`; ${HOW}`,
        { headers: challenge },
      );
    }
    throw new HttpError(401, "missing_api_key", `No API key in the request; ${HOW}`, {
      headers: challenge,
    });
  }
  let ok = false;
  for (const key of keys) ok = matchesAnyKey(key, allowedKeys) || ok;
  if (!ok) {
    throw new HttpError(
      401,
      "invalid_api_key",
      "The API key is not accepted: this function only accepts the service-role key or a " +
        `secret key (sb_secret_…), not the anon or a publishable key; ${HOW}`,
      { headers: challenge },
    );
  }
}

/**
 * The keys a caller may present: `SUPABASE_SERVICE_ROLE_KEY` and every value of
 * `SUPABASE_SECRET_KEYS`. Never the anon or publishable keys.
 */
export function allowedKeysFromConfig(
  config: Pick<Config, "serviceRoleKey" | "secretKeys">,
): string[] {
  const keys = new Set<string>();
  if (config.serviceRoleKey) keys.add(config.serviceRoleKey);
  for (const key of Object.values(config.secretKeys)) if (key) keys.add(key);
  return [...keys];
}
