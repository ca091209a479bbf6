import assert from "node:assert/strict";
import { REQUEST_ID_HEADER } from "./function_entry.ts";
import {
  type BodyOutcome,
  headersToClient,
  headersToFunction,
  HOP_BY_HOP,
  relayBody,
  type RelayHooks,
  ResponseBodyFailed,
  settle,
  withoutQuery,
} from "./relay.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A source stream the test feeds by hand, recording whether it was cancelled. */
function source() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = { cancelled: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      state.cancelled = reason ?? "cancelled";
    },
  });
  return { stream, controller, state };
}

function recordingHooks(beforeClose: () => Error | null = () => null) {
  const seen = { chunks: 0, ends: [] as BodyOutcome[] };
  const hooks: RelayHooks = {
    onChunk: () => seen.chunks++,
    beforeClose,
    onEnd: (outcome) => seen.ends.push(outcome),
  };
  return { hooks, seen };
}

Deno.test("headersToFunction() drops hop-by-hop headers, host and content-length, and sets the request id", () => {
  const client = new Headers({
    host: "127.0.0.1:54321",
    "content-length": "7",
    authorization: "Bearer k",
    "x-custom": "kept",
    [REQUEST_ID_HEADER]: "from-the-client",
  });
  for (const header of HOP_BY_HOP) client.set(header, "x");
  const headers = headersToFunction(client, "id-1");
  assert.deepEqual([...headers.entries()].sort(), [
    ["authorization", "Bearer k"],
    [REQUEST_ID_HEADER, "id-1"],
    ["x-custom", "kept"],
  ]);
  assert.equal(client.get("host"), "127.0.0.1:54321", "the client's headers are left alone");
});

Deno.test("headersToClient() drops hop-by-hop headers and the encoding of a body fetch decoded", () => {
  for (const encoding of ["gzip", " GZIP ", "x-gzip", "br"]) {
    const headers = headersToClient(
      new Headers({ "content-encoding": encoding, "content-length": "10", "x-a": "1" }),
      "id-2",
    );
    assert.deepEqual([...headers.entries()].sort(), [[REQUEST_ID_HEADER, "id-2"], ["x-a", "1"]]);
  }
  const deflate = headersToClient(
    new Headers({ "content-encoding": "deflate", "content-length": "10", connection: "close" }),
    "id-3",
  );
  assert.deepEqual([...deflate.entries()].sort(), [
    ["content-encoding", "deflate"],
    ["content-length", "10"],
    [REQUEST_ID_HEADER, "id-3"],
  ]);
});

Deno.test("relayBody() passes every chunk on in order and ends once with complete", async () => {
  const { stream, controller } = source();
  const { hooks, seen } = recordingHooks();
  const relayed = relayBody(stream, hooks);
  controller.enqueue(bytes("a"));
  controller.enqueue(bytes("b"));
  controller.close();
  assert.equal(await new Response(relayed.stream).text(), "ab");
  assert.equal(seen.chunks, 2);
  assert.deepEqual(seen.ends, ["complete"]);
});

Deno.test("relayBody() fails a complete body that beforeClose refuses", async () => {
  const { stream, controller } = source();
  const refusal = new Error("cpu limit reached");
  const { hooks, seen } = recordingHooks(() => refusal);
  const relayed = relayBody(stream, hooks);
  controller.enqueue(bytes("a"));
  controller.close();
  await assert.rejects(new Response(relayed.stream).text(), (error) => error === refusal);
  assert.deepEqual(seen.ends, ["error"]);
});

Deno.test("relayBody() turns a failing source into ResponseBodyFailed", async () => {
  const { stream, controller } = source();
  const { hooks, seen } = recordingHooks();
  const relayed = relayBody(stream, hooks);
  controller.error(new Error("connection reset"));
  await assert.rejects(new Response(relayed.stream).text(), (error: Error) => {
    assert.ok(error instanceof ResponseBodyFailed);
    assert.equal(error.message, "response body from the function failed: connection reset");
    return true;
  });
  assert.deepEqual(seen.ends, ["error"]);
});

Deno.test("relayBody(): a client that cancels ends it with cancelled and cancels the source", async () => {
  const { stream, state } = source();
  const { hooks, seen } = recordingHooks();
  const relayed = relayBody(stream, hooks);
  await relayed.stream.cancel("client went away");
  assert.deepEqual(seen.ends, ["cancelled"]);
  assert.equal(state.cancelled, "client went away");
});

Deno.test("relayBody(): fail() breaks the copy for the client, cancels the source, and ends it once", async () => {
  const { stream, controller, state } = source();
  const { hooks, seen } = recordingHooks();
  const relayed = relayBody(stream, hooks);
  const reader = relayed.stream.getReader();
  controller.enqueue(bytes("a"));
  assert.deepEqual(await reader.read(), { done: false, value: bytes("a") });
  const cut = new Error("wall_clock limit reached");
  relayed.fail(cut);
  relayed.fail(new Error("a second time"));
  await assert.rejects(reader.read(), (error) => error === cut);
  assert.equal(state.cancelled, cut);
  assert.deepEqual(seen.ends, ["error"]);
});

Deno.test("withoutQuery() masks the query string wherever a message quotes it", () => {
  assert.equal(
    withoutQuery("error sending request for url (http://x/echo?key=s3cret): reset", "?key=s3cret"),
    "error sending request for url (http://x/echo?<query>): reset",
  );
  assert.equal(withoutQuery("no query here", ""), "no query here");
});

Deno.test("settle() reports a value, an error or a timeout, whichever comes first", async () => {
  assert.deepEqual(await settle(Promise.resolve(3), 1_000), { kind: "value", value: 3 });
  const error = new Error("boom");
  assert.deepEqual(await settle(Promise.reject(error), 1_000), { kind: "error", error });
  assert.deepEqual(await settle(new Promise(() => {}), 1), { kind: "timeout" });
});
