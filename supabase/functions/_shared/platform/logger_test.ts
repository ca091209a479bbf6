import assert from "node:assert/strict";
import { createLogger } from "./logger.ts";
import { createMemoryLogger } from "../testing/memory_logger.ts";
import { REDACTED } from "./redact.ts";
import { FakeClock } from "../testing/fake_clock.ts";

const SECRET = "sb_secret_abcdefghijklmnopqrstuvwx";
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.tmdb-read-token.signature";

function capture(secrets: string[] = [SECRET, TOKEN]) {
  const lines: { line: string; level: string }[] = [];
  const logger = createLogger({
    fn: "ingest-movie",
    secrets,
    clock: new FakeClock({ start: Date.UTC(2026, 0, 2, 3, 4, 5) }),
    write: (line, level) => lines.push({ line, level }),
  });
  return { logger, lines };
}

Deno.test("createLogger() writes one JSON object per line with ts, level, fn, event and fields", () => {
  const { logger, lines } = capture();
  logger.info("ingest_done", { inserted: 2, ids: [550, 680] });
  logger.warn("slow", {});
  logger.error("boom");
  assert.equal(lines.length, 3);
  assert.ok(lines.every(({ line }) => !line.includes("\n")));
  assert.deepEqual(JSON.parse(lines[0].line), {
    ts: "2026-01-02T03:04:05.000Z",
    level: "info",
    fn: "ingest-movie",
    event: "ingest_done",
    inserted: 2,
    ids: [550, 680],
  });
  assert.deepEqual(lines.map((l) => l.level), ["info", "warn", "error"]);
  assert.equal(JSON.parse(lines[2].line).level, "error");
});

Deno.test("createLogger() redacts configured secrets in nested strings, arrays and errors", () => {
  const { logger, lines } = capture();
  logger.error("failed", {
    message: `request with key ${SECRET} failed`,
    nested: { deeper: [`token=${TOKEN}`, { again: `x${SECRET}y` }] },
    error: new Error(`fetch https://api.example/movie/550?t=${encodeURIComponent(TOKEN)}`),
  });
  const line = lines[0].line;
  assert.ok(!line.includes(SECRET), line);
  assert.ok(!line.includes(TOKEN), line);
  assert.ok(!line.includes(encodeURIComponent(TOKEN)), line);
  const entry = JSON.parse(line);
  assert.equal(entry.message, `request with key ${REDACTED} failed`);
  assert.equal(entry.nested.deeper[1].again, `x${REDACTED}y`);
  assert.equal(entry.error.name, "Error");
  assert.match(entry.error.message, /\[REDACTED\]/);
});

Deno.test("createLogger() redacts Bearer tokens, apikey=/api_key: pairs and DB URL passwords it was not told about", () => {
  const { logger, lines } = capture([]);
  logger.info("headers", {
    a: "Authorization: Bearer not-configured-token-123",
    b: "GET /movie/550?api_key=unknownkey42&page=2",
    c: 'sent {"apikey":"another-unknown-key"}',
    d: "postgresql://postgres:hunter2pass@db.example.co:6543/postgres",
    authorization: "anything at all",
  });
  const line = lines[0].line;
  for (
    const leaked of [
      "not-configured-token-123",
      "unknownkey42",
      "another-unknown-key",
      "hunter2pass",
      "anything at all",
    ]
  ) {
    assert.ok(!line.includes(leaked), `${leaked} leaked: ${line}`);
  }
  const entry = JSON.parse(line);
  assert.equal(entry.a, `Authorization: Bearer ${REDACTED}`);
  assert.equal(entry.b, `GET /movie/550?api_key=${REDACTED}&page=2`);
  assert.equal(entry.d, `postgresql://postgres:${REDACTED}@db.example.co:6543/postgres`);
});

Deno.test("child() adds fields to every line; fields cannot overwrite ts/level/fn/event", () => {
  const { logger, lines } = capture();
  const child = logger.child({ run_id: "run-1", request_id: "req-1" });
  child.info("step", { fn: "spoofed", event: "spoofed", level: "error", n: 1 });
  const entry = JSON.parse(lines[0].line);
  assert.equal(entry.fn, "ingest-movie");
  assert.equal(entry.event, "step");
  assert.equal(entry.level, "info");
  assert.equal(entry.run_id, "run-1");
  assert.equal(entry.request_id, "req-1");
  assert.equal(entry.n, 1);
});

Deno.test("a log line survives cycles and bigints", () => {
  const logger = createMemoryLogger({ fn: "t" });
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  logger.info("odd", { a, big: 10n });
  assert.deepEqual(logger.entries[0].a, { name: "a", self: "[Circular]" });
  assert.equal(logger.entries[0].big, "10");
});
