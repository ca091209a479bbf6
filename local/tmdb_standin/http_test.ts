import assert from "node:assert/strict";
import { JSON_TYPE, ok, pause, TMDB_ERRORS, tmdbError, toResponse } from "./http.ts";

Deno.test("TMDB error bodies and their statuses; JSON answers as responses", async () => {
  const res = toResponse(tmdbError(TMDB_ERRORS.notFound, { "x-extra": "1" }));
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), JSON_TYPE);
  assert.equal(res.headers.get("x-extra"), "1");
  assert.deepEqual(await res.json(), {
    success: false,
    status_code: 34,
    status_message: "The resource you requested could not be found.",
  });
  for (const [status, code] of Object.values(TMDB_ERRORS)) {
    assert.ok(status >= 400 && status < 600 && code > 0);
  }
  const good = toResponse(ok({ a: [1, 2, 3], b: "ü" }));
  assert.equal(good.status, 200);
  assert.deepEqual(await good.json(), { a: [1, 2, 3], b: "ü" });
});

Deno.test("a malformed answer is the first half of the JSON; raw answers keep their type", async () => {
  const body = { results: Array.from({ length: 10 }, (_, i) => ({ id: i })) };
  const text = await toResponse(ok(body), true).text();
  assert.equal(text, JSON.stringify(body).slice(0, Math.floor(JSON.stringify(body).length / 2)));
  assert.throws(() => JSON.parse(text), SyntaxError);
  const raw = toResponse({
    kind: "raw",
    status: 502,
    text: "<html></html>",
    contentType: "text/html",
  });
  assert.equal(raw.status, 502);
  assert.equal(raw.headers.get("content-type"), "text/html");
  assert.equal(await raw.text(), "<html></html>");
});

Deno.test("pause: resolves true after the delay, false on abort, never without a bound", async () => {
  assert.equal(await pause(5, new AbortController().signal), true);
  const c = new AbortController();
  const forever = pause(null, c.signal);
  setTimeout(() => c.abort(), 10);
  assert.equal(await forever, false);
  assert.equal(await pause(1000, AbortSignal.abort()), false);
});
