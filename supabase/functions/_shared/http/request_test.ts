import assert from "node:assert/strict";
import { z } from "zod";
import { errorResponse, HttpError } from "./response.ts";
import {
  parseJsonBody,
  readBodyBytes,
  readJsonBody,
  requestIdOf,
  requireMethod,
} from "./request.ts";

const schema = z.object({ tmdb_ids: z.array(z.number()), name: z.string().optional() }).strict();

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/fn", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

/** Runs `fn` and returns the HttpError it throws. */
async function httpError(fn: () => unknown): Promise<HttpError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof HttpError, `expected HttpError, got ${error}`);
    return error;
  }
  assert.fail("expected an HttpError");
}

Deno.test("requireMethod() throws 405 with an Allow header for other methods", async () => {
  requireMethod(new Request("http://x/", { method: "POST" }), ["POST"]);
  const error = await httpError(() => requireMethod(new Request("http://x/"), ["POST"]));
  assert.equal(error.status, 405);
  assert.equal(error.code, "method_not_allowed");
  const res = errorResponse(error, { requestId: "r" });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST");
});

Deno.test("readJsonBody() returns the parsed body", async () => {
  assert.deepEqual(await readJsonBody(post('{"tmdb_ids":[1,2]}'), schema), { tmdb_ids: [1, 2] });
  // No Content-Type at all is accepted (pg_net and curl -d variants differ).
  const bare = new Request("http://x/", { method: "POST", body: '{"tmdb_ids":[]}' });
  bare.headers.delete("content-type");
  assert.deepEqual(await readJsonBody(bare, schema), { tmdb_ids: [] });
});

Deno.test("readJsonBody() rejects a declared Content-Length over the limit without reading", async () => {
  const request = post("{}", { "content-length": "70000" });
  const error = await httpError(() => readJsonBody(request, schema));
  assert.equal(error.status, 413);
  assert.equal(error.code, "body_too_large");
  assert.match(error.message, /65536 bytes/);
  assert.match(error.message, /Content-Length is 70000/);
  assert.equal(request.bodyUsed, false, "the body was not read");
});

Deno.test("readJsonBody() counts streamed bytes when Content-Length is absent or lies", async () => {
  const chunk = new TextEncoder().encode(" ".repeat(10_000));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += chunk.byteLength;
      controller.enqueue(chunk);
      if (sent > 1_000_000) controller.close();
    },
  });
  const error = await httpError(() => readJsonBody(post(stream), schema, { maxBytes: 20_000 }));
  assert.equal(error.status, 413);
  assert.ok(sent < 100_000, `stopped reading early (read ${sent} bytes)`);

  const lying = await httpError(() =>
    readJsonBody(post("x".repeat(2000), { "content-length": "10" }), schema, { maxBytes: 1000 })
  );
  assert.equal(lying.status, 413);
});

Deno.test("readJsonBody() accepts a body of exactly maxBytes", async () => {
  const body = JSON.stringify({ tmdb_ids: [1], name: "" });
  const padded = body.slice(0, -1) + " ".repeat(100 - body.length) + "}";
  assert.equal(padded.length, 100);
  assert.deepEqual(await readJsonBody(post(padded), schema, { maxBytes: 100 }), {
    tmdb_ids: [1],
    name: "",
  });
});

Deno.test("readJsonBody() rejects a non-JSON Content-Type with 415", async () => {
  const error = await httpError(() =>
    readJsonBody(post("tmdb_id=5", { "content-type": "application/x-www-form-urlencoded" }), schema)
  );
  assert.equal(error.status, 415);
  assert.equal(error.code, "unsupported_media_type");
  assert.match(error.message, /application\/x-www-form-urlencoded/);
});

Deno.test("readJsonBody() rejects malformed JSON with 400 invalid_json naming the parse problem", async () => {
  const error = await httpError(() => readJsonBody(post('{"tmdb_ids": [1,'), schema));
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_json");
  assert.match(error.message, /^Request body is not valid JSON: .+/);
  assert.match(error.message, /JSON/);

  const empty = await httpError(() => readJsonBody(post(""), schema));
  assert.equal(empty.code, "invalid_json");
  assert.match(empty.message, /empty/);

  const notUtf8 = await httpError(() =>
    readJsonBody(post(new Uint8Array([0x7b, 0xff, 0x7d])), schema)
  );
  assert.equal(notUtf8.code, "invalid_json");
  assert.match(notUtf8.message, /UTF-8/);
});

Deno.test("readJsonBody() names every failing field path in a 400 invalid_body", async () => {
  const error = await httpError(() =>
    readJsonBody(post('{"tmdb_ids":[1,2,3,"4"],"name":5,"extra":true}'), schema)
  );
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_body");
  assert.match(error.message, /tmdb_ids\[3\]: Expected number, received string/);
  assert.match(error.message, /name: Expected string, received number/);
  assert.match(error.message, /Unrecognized key\(s\) in object: 'extra'/);
  assert.ok(Array.isArray(error.details));
  assert.equal((error.details as unknown[]).length, 3);
});

Deno.test("requestIdOf() uses the platform request id header or makes one", () => {
  assert.equal(
    requestIdOf(new Request("http://x/", { headers: { "sb-request-id": "abc-123" } })),
    "abc-123",
  );
  const made = requestIdOf(new Request("http://x/", { headers: { "x-request-id": "bad id <>" } }));
  assert.match(made, /^[0-9a-f-]{36}$/);
});

Deno.test("readJsonBody() refuses a NUL character anywhere in the body with 400 naming where", async () => {
  const value = await httpError(() =>
    readJsonBody(post('{"tmdb_ids":[1],"name":"a\\u0000b"}'), schema)
  );
  assert.equal(value.status, 400);
  assert.equal(value.code, "invalid_body");
  assert.equal(
    value.message,
    "Invalid request body: name: contains a NUL character (\\u0000), which PostgreSQL text " +
      "cannot store",
  );
  const key = await httpError(() => readJsonBody(post('{"tmdb_ids":[1],"x\\u0000":1}'), schema));
  // deno-lint-ignore no-control-regex
  assert.match(key.message, /^Invalid request body: x\u0000: contains a NUL character/);
  const deep = "[".repeat(30_000) + '"\\u0000"' + "]".repeat(30_000);
  const nested = await httpError(() => readJsonBody(post(deep), schema));
  assert.match(nested.message, /^Invalid request body: (\[0\]){30000}: contains a NUL/);
});

Deno.test("readBodyBytes() returns the exact bytes received; parseJsonBody() parses them as readJsonBody() would", async () => {
  const text = '{"n":  1, "s": "é"}';
  const bytes = await readBodyBytes(
    new Request("http://localhost/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    }),
  );
  assert.deepEqual(bytes, new TextEncoder().encode(text));
  assert.deepEqual(parseJsonBody(bytes, z.object({ n: z.number(), s: z.string() })), {
    n: 1,
    s: "é",
  });
  assert.throws(() => parseJsonBody(new Uint8Array(), z.object({})), {
    message: "Request body is empty: expected a JSON object",
  });
  await assert.rejects(
    readBodyBytes(
      new Request("http://localhost/", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "x".repeat(11),
      }),
      { maxBytes: 10 },
    ),
    (e: unknown) => e instanceof HttpError && e.status === 413,
  );
});
