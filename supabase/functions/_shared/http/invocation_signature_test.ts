import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { HttpError } from "./response.ts";
import {
  SIGNATURE_MAX_AGE_SECONDS,
  SIGNATURE_MAX_SKEW_SECONDS,
  signInvocation,
  verifyInvocationSignature,
  type VerifyOptions,
} from "./invocation_signature.ts";

const SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OLD_SECRET = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const T = 1_800_000_000;
const BODY =
  '{"run_id": "r-1", "trigger": "cron", "job_name": "refresh_worker", "title": "Amélie"}';
const enc = new TextEncoder();

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    functionName: "refresh-worker",
    body: enc.encode(BODY),
    secrets: [SECRET],
    nowMs: T * 1000,
    ...overrides,
  };
}

function rejection(header: string, opts: VerifyOptions): HttpError {
  try {
    verifyInvocationSignature(header, opts);
  } catch (error) {
    assert.ok(error instanceof HttpError, `expected HttpError, got ${error}`);
    for (const secret of [SECRET, OLD_SECRET]) {
      assert.ok(!error.message.includes(secret), "no secret in the message");
    }
    assert.ok(!error.message.includes(header.split("v1=")[1] ?? "\u0000"), "no digest");
    return error;
  }
  assert.fail("the signature was accepted");
}

const sign = (overrides: Partial<Parameters<typeof signInvocation>[0]> = {}) =>
  signInvocation({
    secret: SECRET,
    functionName: "refresh-worker",
    body: BODY,
    signedAt: T,
    ...overrides,
  });

Deno.test('signInvocation() is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<function>.<body>">', () => {
  const expected = createHmac("sha256", SECRET).update(`${T}.refresh-worker.${BODY}`, "utf8")
    .digest("hex");
  assert.equal(sign(), `t=${T},v1=${expected}`);
  assert.equal(sign({ body: enc.encode(BODY) }), sign(), "bytes and text sign alike");
});

Deno.test("verifyInvocationSignature() accepts a fresh signature over the exact body", () => {
  verifyInvocationSignature(sign(), options());
  verifyInvocationSignature(` ${sign()} `, options());
});

Deno.test("verifyInvocationSignature() refuses a changed body, another function and another secret as invalid_signature", () => {
  const header = sign();
  for (
    const opts of [
      options({ body: enc.encode(BODY.replace("r-1", "r-2")) }),
      options({ body: enc.encode(BODY + " ") }),
      options({ functionName: "daily-refresh" }),
      options({ secrets: [OLD_SECRET] }),
    ]
  ) {
    const error = rejection(header, opts);
    assert.equal(error.status, 401);
    assert.equal(error.code, "invalid_signature");
    assert.match(error.message, /does not match this request to/);
    assert.match(error.message, /edge_invoke_secret/, "names the Vault secret");
    assert.match(error.message, /supabase secrets set EDGE_INVOKE_SECRET=<secret>/);
    assert.match(error.message, /supabase\/functions\/\.env/);
  }
});

Deno.test("verifyInvocationSignature() accepts any configured secret (rotation: new and previous)", () => {
  const both = options({ secrets: [SECRET, OLD_SECRET] });
  verifyInvocationSignature(sign(), both);
  verifyInvocationSignature(sign({ secret: OLD_SECRET }), both);
  assert.equal(rejection(sign({ secret: OLD_SECRET }), options()).code, "invalid_signature");
});

Deno.test("verifyInvocationSignature() accepts a signature up to 10 minutes old and 1 minute ahead, no further", () => {
  assert.equal(SIGNATURE_MAX_AGE_SECONDS, 600);
  assert.equal(SIGNATURE_MAX_SKEW_SECONDS, 60);
  verifyInvocationSignature(sign(), options({ nowMs: (T + 600) * 1000 + 999 }));
  verifyInvocationSignature(sign(), options({ nowMs: (T - 60) * 1000 }));
  const late = rejection(sign(), options({ nowMs: (T + 601) * 1000 }));
  assert.equal(late.status, 401);
  assert.equal(late.code, "stale_signature");
  assert.match(late.message, new RegExp(`made at t=${T}, 601 s ago; .* replayed request`));
  const ahead = rejection(sign(), options({ nowMs: (T - 61) * 1000 }));
  assert.equal(ahead.code, "stale_signature");
  assert.match(ahead.message, /61 s in the future/);
});

Deno.test("verifyInvocationSignature() checks the digest before the time: a forged old header is invalid, not stale", () => {
  const forged = `t=${T - 3600},v1=${"ab".repeat(32)}`;
  assert.equal(rejection(forged, options()).code, "invalid_signature");
});

Deno.test("verifyInvocationSignature() refuses a malformed header as invalid_signature", () => {
  for (
    const header of [
      "",
      "v1=abc",
      `t=${T}`,
      `t=${T},v1=${"a".repeat(63)}`,
      `t=${T},v1=${"A".repeat(64)}`,
      `t=-1,v1=${"a".repeat(64)}`,
      `Bearer ${SECRET}`,
    ]
  ) {
    const error = rejection(header, options());
    assert.equal(error.code, "invalid_signature", header);
    assert.match(error.message, /not of the form t=<unix seconds>,v1=<64 hex digits>/);
  }
});

Deno.test("verifyInvocationSignature() answers 500 misconfigured naming both places when the functions have no secret", () => {
  const error = rejection(sign(), options({ secrets: [] }));
  assert.equal(error.status, 500);
  assert.equal(error.code, "misconfigured");
  assert.match(error.message, /EDGE_INVOKE_SECRET is not set/);
  assert.match(error.message, /in Vault as edge_invoke_secret/);
  assert.match(error.message, /supabase secrets set EDGE_INVOKE_SECRET=<secret>/);
});
