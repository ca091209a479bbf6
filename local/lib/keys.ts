/**
 * Local API keys, generated once per stack and kept in `.stack/<name>/keys.json` (mode 0600,
 * gitignored). They imitate hosted Supabase's keys: legacy JWT `anon` / `service_role` keys
 * signed with a per-stack JWT secret, and the new `sb_publishable_…` / `sb_secret_…` keys;
 * plus this project's invocation secret, which signs cron calls to the functions.
 */

/** The generated keys of one stack. */
export interface StackKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
  /** Bearer token the TMDB stand-in accepts (only used when no real TMDB token is set). */
  tmdbStandinToken: string;
  /**
   * The invocation secret (32 random bytes, hex): Vault `edge_invoke_secret` and the
   * functions' `EDGE_INVOKE_SECRET`.
   */
  edgeInvokeSecret: string;
}

/** 32 random bytes as hex, what `openssl rand -hex 32` gives. */
export function randomHexSecret(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

function b64url(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let s = "";
  for (const b of data) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomToken(bytes: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Signs an HS256 JWT (what Supabase's legacy API keys are). */
export async function signJwt(payload: Record<string, unknown>, secret: string): Promise<string> {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify(payload));
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${body}`));
  return `${header}.${body}.${b64url(new Uint8Array(sig))}`;
}

/** Generates a fresh set of keys. */
export async function generateKeys(): Promise<StackKeys> {
  const jwtSecret = randomToken(32);
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + 10 * 365 * 24 * 3600;
  return {
    jwtSecret,
    anonKey: await signJwt({ iss: "supabase-local", role: "anon", iat, exp }, jwtSecret),
    serviceRoleKey: await signJwt(
      { iss: "supabase-local", role: "service_role", iat, exp },
      jwtSecret,
    ),
    publishableKey: `sb_publishable_${randomToken(24)}`,
    secretKey: `sb_secret_${randomToken(24)}`,
    tmdbStandinToken: `standin_${randomToken(24)}`,
    edgeInvokeSecret: randomHexSecret(),
  };
}

/**
 * Loads the stack's keys, generating and saving them (mode 0600) on first use. A key that a
 * stack made by an older checkout lacks is generated and added; the others are kept.
 */
export async function loadOrCreateKeys(file: string): Promise<StackKeys> {
  let saved: Partial<StackKeys> | undefined;
  try {
    saved = JSON.parse(await Deno.readTextFile(file)) as Partial<StackKeys>;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const fresh = await generateKeys();
  const keys = { ...fresh, ...saved } as StackKeys;
  if (saved === undefined || Object.keys(fresh).some((k) => !(k in saved))) {
    await Deno.writeTextFile(file, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
  }
  return keys;
}
