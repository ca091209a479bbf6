import assert from "node:assert/strict";
import { allowedKeysFromConfig, authorize, hasAllowedKey, matchesAnyKey } from "./auth.ts";
import { loadConfig } from "../platform/config.ts";
import { HttpError } from "./response.ts";

const SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.service-sig";
const SECRET_KEY = "sb_secret_AbCdEfGhIjKlMnOpQrStUvWx";
const ANON_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.anon-sig";
const PUBLISHABLE_KEY = "sb_publishable_AbCdEfGhIjKlMnOpQrStUvWx";
const ALLOWED = [SERVICE_KEY, SECRET_KEY];

function req(headers: Record<string, string>): Request {
  return new Request("http://localhost/ingest-movie", { method: "POST", headers });
}

function rejection(request: Request, allowed: readonly string[] = ALLOWED): HttpError {
  try {
    authorize(request, allowed);
  } catch (error) {
    assert.ok(error instanceof HttpError, `expected HttpError, got ${error}`);
    assert.equal(error.status, 401);
    return error;
  }
  assert.fail("authorize() accepted the request");
}

Deno.test("authorize() accepts the service-role key and a secret key as Bearer", () => {
  authorize(req({ authorization: `Bearer ${SERVICE_KEY}` }), ALLOWED);
  authorize(req({ authorization: `bearer   ${SECRET_KEY}` }), ALLOWED);
});

Deno.test("authorize() accepts an allowed key in the apikey header", () => {
  authorize(req({ apikey: SECRET_KEY }), ALLOWED);
  // supabase-js style: anon key as apikey, the real key as Bearer (or the other way round).
  authorize(req({ apikey: ANON_KEY, authorization: `Bearer ${SERVICE_KEY}` }), ALLOWED);
  authorize(req({ apikey: SECRET_KEY, authorization: `Bearer ${ANON_KEY}` }), ALLOWED);
});

Deno.test("authorize() answers missing_api_key when no key is sent, saying how to send one", () => {
  const error = rejection(req({}));
  assert.equal(error.code, "missing_api_key");
  assert.match(error.message, /Authorization: Bearer <key>/);
  assert.match(error.message, /apikey/);
  assert.equal(rejection(req({ authorization: "Bearer", apikey: " " })).code, "missing_api_key");
});

Deno.test("authorize() rejects the anon key, a publishable key and a wrong key as invalid_api_key", () => {
  for (const key of [ANON_KEY, PUBLISHABLE_KEY, "wrong"]) {
    const viaBearer = rejection(req({ authorization: `Bearer ${key}` }));
    assert.equal(viaBearer.code, "invalid_api_key");
    assert.ok(!viaBearer.message.includes(key), "the presented key is not echoed");
    assert.equal(rejection(req({ apikey: key })).code, "invalid_api_key");
  }
});

Deno.test("authorize() rejects a wrong key of the same length and a prefix of the right key", () => {
  const sameLength = SECRET_KEY.slice(0, -1) + (SECRET_KEY.endsWith("x") ? "y" : "x");
  assert.equal(sameLength.length, SECRET_KEY.length);
  assert.equal(rejection(req({ authorization: `Bearer ${sameLength}` })).code, "invalid_api_key");
  assert.equal(rejection(req({ apikey: SECRET_KEY.slice(0, -1) })).code, "invalid_api_key");
  assert.equal(rejection(req({ apikey: SECRET_KEY + "x" })).code, "invalid_api_key");
});

Deno.test("authorize() rejects a non-Bearer Authorization scheme", () => {
  const error = rejection(req({ authorization: `Basic ${btoa(`user:${SERVICE_KEY}`)}` }));
  assert.equal(error.code, "invalid_api_key");
});

Deno.test("authorize() rejects everything when no key is configured", () => {
  assert.equal(rejection(req({ apikey: "" + SECRET_KEY }), []).code, "invalid_api_key");
  assert.equal(matchesAnyKey("", [""]), false);
});

Deno.test("matchesAnyKey() finds a key anywhere in the list", () => {
  assert.equal(matchesAnyKey(SECRET_KEY, ["a", "b", SECRET_KEY]), true);
  assert.equal(matchesAnyKey(SECRET_KEY, [SECRET_KEY, "b"]), true);
  assert.equal(matchesAnyKey(SECRET_KEY, ["a", "b"]), false);
});

Deno.test("allowedKeysFromConfig() is the service-role key plus every secret key, never anon/publishable", () => {
  const vars: Record<string, string> = {
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_DB_URL: "postgresql://postgres:pw@127.0.0.1:54322/postgres",
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY, ci: "sb_secret_ci" }),
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: PUBLISHABLE_KEY }),
    TMDB_API_TOKEN: "t",
  };
  const keys = allowedKeysFromConfig(loadConfig({ get: (n) => vars[n] }));
  assert.deepEqual(keys, [SERVICE_KEY, SECRET_KEY, "sb_secret_ci"]);
  assert.deepEqual(allowedKeysFromConfig({ serviceRoleKey: undefined, secretKeys: { a: "k" } }), [
    "k",
  ]);
});

Deno.test("hasAllowedKey() is true only for an allowed key as Bearer or apikey, never throws", () => {
  assert.equal(hasAllowedKey(req({ authorization: `Bearer ${SERVICE_KEY}` }), ALLOWED), true);
  assert.equal(hasAllowedKey(req({ apikey: SECRET_KEY }), ALLOWED), true);
  assert.equal(hasAllowedKey(req({ apikey: ANON_KEY, authorization: "Bearer x" }), ALLOWED), false);
  assert.equal(hasAllowedKey(req({ authorization: "Basic abc" }), ALLOWED), false);
  assert.equal(hasAllowedKey(req({}), ALLOWED), false);
});
