import assert from "node:assert/strict";
import { redact, REDACTED, redactString } from "./redact.ts";

Deno.test("redactString() keeps placeholders in help texts readable", () => {
  const help = "send it as `Authorization: Bearer <key>` or an `apikey: <key>` header";
  assert.equal(redactString(help), help);
});

Deno.test("redactString() replaces the longest secret first", () => {
  assert.equal(redactString("abc-123-xyz", ["abc", "abc-123-xyz"]), REDACTED);
  assert.equal(redactString("nothing here", ["", "zzz"]), "nothing here");
});

Deno.test("redactString() also replaces a secret's URL-encoded form", () => {
  assert.equal(redactString("q=a%2Fb%3Dc", ["a/b=c"]), `q=${REDACTED}`);
});

Deno.test("redact() copies a value with every string redacted and secret-named keys hidden", () => {
  const out = redact({
    msg: "token s3cr3t-value",
    nested: [{ apikey: "plain", note: "postgres://u:pw@h/db" }],
    error: new Error("s3cr3t-value leaked"),
  }, ["s3cr3t-value"]) as Record<string, unknown>;
  assert.equal(out.msg, `token ${REDACTED}`);
  assert.deepEqual(out.nested, [{ apikey: REDACTED, note: `postgres://u:${REDACTED}@h/db` }]);
  assert.equal((out.error as { message: string }).message, `${REDACTED} leaked`);
});
