import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createSseParser, readServerSentEvents, type SseEvent } from "./mod.ts";

const STREAM = "\uFEFF: comment\r\n" +
  "event: delta\n" +
  'data: {"content":"h\u00e9llo \u{1F600}"}\n' +
  "\n" +
  "id: 42\r" +
  "data: line one\r\n" +
  "data:line two\n" +
  "retry: 3000\n\r\n" +
  "data\n\n" +
  "unknown: x\n" +
  "event: error\n" +
  'data: {"error":{"message":"boom"}}\n\n' +
  "data: [DONE]\n\n" +
  "data: incomplete";

const EXPECTED: SseEvent[] = [
  { event: "delta", data: '{"content":"h\u00e9llo \u{1F600}"}', id: undefined },
  { event: "message", data: "line one\nline two", id: "42", retry: 3000 },
  { event: "message", data: "", id: "42" },
  { event: "error", data: '{"error":{"message":"boom"}}', id: "42" },
  { event: "message", data: "[DONE]", id: "42" },
];

function bodyOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return new ReadableStream({
    start(controller) {
      let last = 0;
      for (const p of [...points, bytes.length]) {
        if (p > last) controller.enqueue(bytes.slice(last, p));
        last = p;
      }
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of readServerSentEvents(body)) out.push(event);
  return out;
}

test("readServerSentEvents() reads the same events wherever the bytes are split", async () => {
  const bytes = new TextEncoder().encode(STREAM);
  assert.deepEqual(await collect(bodyOf(bytes, [])), EXPECTED);
  // Every single split point, including inside the UTF-8 of é and 😀 and between CR and LF.
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(await collect(bodyOf(bytes, [i])), EXPECTED, `split at ${i}`);
  }
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), async (cuts) => {
      assert.deepEqual(await collect(bodyOf(bytes, cuts)), EXPECTED);
    }),
    { numRuns: 200 },
  );
});

test("createSseParser() feeds comments to onComment and splits text anywhere", () => {
  const comments: string[] = [];
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e), { onComment: (c) => comments.push(c) });
  for (const ch of STREAM) parser.feed(ch);
  assert.deepEqual(events, EXPECTED);
  assert.deepEqual(comments, [" comment"]);
});

test("createSseParser() caps a line that never ends, and checks its arguments", () => {
  const parser = createSseParser(() => {}, { maxEventSize: 10 });
  assert.throws(() => parser.feed("data: 0123456789abc"), RangeError);
  parser.feed("data: ok\n\n"); // usable again
  assert.throws(() => createSseParser(1 as never), TypeError);
  assert.throws(() => createSseParser(() => {}, { maxEventSize: 0 }), /"maxEventSize"/);
  assert.throws(() => createSseParser(() => {}, { onComment: 1 as never }), /"onComment"/);
  assert.throws(() => parser.feed(1 as never), TypeError);
  const events: SseEvent[] = [];
  const again = createSseParser((e) => events.push(e));
  again.feed("data: partial");
  again.reset();
  again.feed("data: whole\n\n");
  assert.deepEqual(events.map((e) => e.data), ["whole"]);
});

test("readServerSentEvents() throws on an idle stream and cancels it", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("data: 1\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const e of readServerSentEvents(body, { idleTimeout: 50 })) seen.push(e.data);
  }, RangeError);
  assert.deepEqual(seen, ["1"]);
  assert.equal(cancelled, true);
  await assert.rejects(readServerSentEvents(1 as never).next(), TypeError);
  const ok = new Response("").body!;
  await assert.rejects(readServerSentEvents(ok, { idleTimeout: -1 }).next(), /"idleTimeout"/);
});
