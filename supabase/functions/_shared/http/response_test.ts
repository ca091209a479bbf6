import assert from "node:assert/strict";
import { ConfigError } from "../platform/config.ts";
import { errorResponse, HttpError, jsonResponse, RunError } from "./response.ts";
import { createMemoryLogger } from "../testing/memory_logger.ts";

const SECRET = "sb_secret_do-not-leak-0123456789";

Deno.test("jsonResponse() serialises the body as JSON with the given status and headers", async () => {
  const res = jsonResponse({ a: 1 }, { status: 201, headers: { "x-extra": "1" } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(res.headers.get("x-extra"), "1");
  assert.deepEqual(await res.json(), { a: 1 });
});

Deno.test("errorResponse() renders an HttpError as {error, message, request_id, details}", async () => {
  const res = errorResponse(
    new HttpError(400, "invalid_body", "bad field", { details: [{ path: ["x"] }] }),
    { requestId: "req-1" },
  );
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    error: "invalid_body",
    message: "bad field",
    request_id: "req-1",
    details: [{ path: ["x"] }],
  });
});

Deno.test("errorResponse() turns an unknown error into a 500 internal_error without its text, and logs it redacted", async () => {
  const logger = createMemoryLogger({ fn: "t", secrets: [SECRET] });
  const res = errorResponse(new Error(`connect failed for key ${SECRET}`), {
    requestId: "req-42",
    logger,
    secrets: [SECRET],
  });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.ok(!text.includes(SECRET));
  assert.ok(!text.includes("connect failed"), "the exception text is not echoed");
  const body = JSON.parse(text);
  assert.equal(body.error, "internal_error");
  assert.equal(body.request_id, "req-42");
  assert.match(body.message, /req-42/);
  assert.equal(logger.lines.length, 1);
  assert.ok(!logger.lines[0].includes(SECRET));
  const entry = logger.entries[0];
  assert.equal(entry.event, "unhandled_error");
  assert.equal(entry.request_id, "req-42");
  assert.match(
    String((entry.error as { message: string }).message),
    /connect failed for key \[REDACTED\]/,
  );
});

Deno.test("errorResponse() redacts secret values from an HttpError message", async () => {
  const res = errorResponse(new HttpError(502, "upstream", `upstream said ${SECRET}`), {
    requestId: "r",
    secrets: [SECRET],
  });
  assert.ok(!(await res.text()).includes(SECRET));
});

Deno.test("errorResponse() renders a ConfigError as 500 misconfigured naming the variable", async () => {
  const res = errorResponse(
    new ConfigError([{ variable: "TMDB_API_TOKEN", message: "TMDB_API_TOKEN is missing; set it" }]),
    { requestId: "r" },
  );
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.error, "misconfigured");
  assert.match(body.message, /TMDB_API_TOKEN is missing/);
});

Deno.test("errorResponse() answers a RunError with the run's summary beside error, message and request_id, logging nothing more", async () => {
  const logger = createMemoryLogger({ fn: "test" });
  const summary = {
    run_id: "r1",
    claimed: 3,
    error: "not this one",
    note: `key ${SECRET} leaked`,
  };
  const res = errorResponse(
    new RunError(502, "tmdb_unauthorized", "TMDB rejected the credentials", summary),
    { requestId: "req-9", logger, secrets: [SECRET] },
  );
  assert.equal(res.status, 502);
  const body = await res.json();
  assert.equal(body.error, "tmdb_unauthorized");
  assert.equal(body.message, "TMDB rejected the credentials");
  assert.equal(body.request_id, "req-9");
  assert.equal(body.run_id, "r1");
  assert.equal(body.claimed, 3);
  assert.equal(body.note, "key [REDACTED] leaked");
  assert.deepEqual(logger.lines, [], "the handler logged the run already");
});
