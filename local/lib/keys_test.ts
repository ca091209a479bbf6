import assert from "node:assert/strict";
import { generateKeys, loadOrCreateKeys, randomHexSecret, signJwt } from "./keys.ts";

function fromB64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0));
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromB64url(part)));
}

async function verifies(jwt: string, secret: string): Promise<boolean> {
  const [header, body, signature] = jwt.split(".");
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  return crypto.subtle.verify(
    "HMAC",
    key,
    fromB64url(signature),
    new TextEncoder().encode(`${header}.${body}`),
  );
}

Deno.test("signJwt() makes an HS256 JWT that verifies with its secret only", async () => {
  const jwt = await signJwt({ role: "anon", n: 1 }, "s3cret");
  const [header, body, signature] = jwt.split(".");
  assert.deepEqual(decodePart(header), { alg: "HS256", typ: "JWT" });
  assert.deepEqual(decodePart(body), { role: "anon", n: 1 });
  assert.match(signature, /^[A-Za-z0-9_-]{43}$/, "base64url without padding");
  assert.equal(await verifies(jwt, "s3cret"), true);
  assert.equal(await verifies(jwt, "other"), false);
});

Deno.test("randomHexSecret() is 32 random bytes as hex", () => {
  const a = randomHexSecret();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(randomHexSecret(), a);
});

Deno.test("generateKeys() gives anon and service_role JWTs signed with its secret, and the new key formats", async () => {
  const keys = await generateKeys();
  for (const [key, role] of [[keys.anonKey, "anon"], [keys.serviceRoleKey, "service_role"]]) {
    const claims = decodePart(key.split(".")[1]);
    assert.equal(claims.role, role);
    assert.equal(claims.iss, "supabase-local");
    assert.ok((claims.exp as number) - (claims.iat as number) >= 10 * 365 * 24 * 3600);
    assert.equal(await verifies(key, keys.jwtSecret), true);
  }
  assert.match(keys.publishableKey, /^sb_publishable_[A-Za-z0-9_-]{32}$/);
  assert.match(keys.secretKey, /^sb_secret_[A-Za-z0-9_-]{32}$/);
  assert.match(keys.tmdbStandinToken, /^standin_[A-Za-z0-9_-]{32}$/);
  assert.match(keys.edgeInvokeSecret, /^[0-9a-f]{64}$/);
});

Deno.test("loadOrCreateKeys() creates the file (0600) once, then keeps it; a key an older file lacks is added", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/keys.json`;
    const created = await loadOrCreateKeys(file);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateKeys(file), created);

    const { edgeInvokeSecret: _dropped, ...older } = created;
    await Deno.writeTextFile(file, JSON.stringify(older));
    const upgraded = await loadOrCreateKeys(file);
    assert.deepEqual({ ...upgraded, edgeInvokeSecret: "" }, { ...created, edgeInvokeSecret: "" });
    assert.match(upgraded.edgeInvokeSecret, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), upgraded);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateKeys() does not overwrite a file it cannot parse", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/keys.json`;
    await Deno.writeTextFile(file, "{truncated");
    await assert.rejects(loadOrCreateKeys(file), SyntaxError);
    assert.equal(await Deno.readTextFile(file), "{truncated");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
