import assert from "node:assert/strict";
import { createAuthorizer, sameSecret } from "./auth.ts";

const url = (q = "") => new URL(`http://x/3/configuration${q}`);
const req = (headers: Record<string, string> = {}) => new Request("http://x/", { headers });

Deno.test("sameSecret compares whole strings", () => {
  assert.ok(sameSecret("abc", "abc"));
  assert.ok(!sameSecret("abc", "abd"));
  assert.ok(!sameSecret("abc", "abcd"));
  assert.ok(!sameSecret("", "a"));
  assert.ok(sameSecret("ü", "ü"));
});

Deno.test("authorizer: Bearer token or api_key; nothing configured = open; empty secrets refused", () => {
  const both = createAuthorizer({ token: "t0k", apiKey: "k3y" });
  assert.ok(both(req({ authorization: "Bearer t0k" }), url()));
  assert.ok(both(req({ authorization: "bearer   t0k  " }), url()));
  assert.ok(both(req(), url("?api_key=k3y")));
  assert.ok(!both(req(), url()));
  assert.ok(!both(req({ authorization: "t0k" }), url()));
  assert.ok(!both(req({ authorization: "Bearer k3y" }), url()));
  assert.ok(!both(req(), url("?api_key=t0k")));
  const tokenOnly = createAuthorizer({ token: "t0k" });
  assert.ok(!tokenOnly(req(), url("?api_key=t0k")), "api_key needs an api key configured");
  assert.ok(createAuthorizer({})(req(), url()));
  assert.throws(() => createAuthorizer({ token: "" }), /token must not be empty/);
  assert.throws(() => createAuthorizer({ apiKey: "" }), /apiKey must not be empty/);
});
