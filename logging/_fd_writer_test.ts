import { test } from "node:test";
import assert from "node:assert/strict";
import { FdWriter, type FsLike } from "./_fd_writer.ts";

const decoder = new TextDecoder();

function fakeFs(behaviour: (call: number, length: number) => number | Error): {
  fs: FsLike;
  written: () => string;
  calls: () => number;
} {
  const chunks: Uint8Array[] = [];
  let calls = 0;
  const fs: FsLike = {
    writeSync(_fd, buffer, offset, length) {
      const result = behaviour(calls++, length);
      if (result instanceof Error) throw result;
      chunks.push(buffer.slice(offset, offset + result));
      return result;
    },
  };
  return {
    fs,
    written: () => chunks.map((c) => decoder.decode(c, { stream: true })).join(""),
    calls: () => calls,
  };
}

function eagain(): Error {
  return Object.assign(new Error("write EAGAIN"), { code: "EAGAIN" });
}

test("FdWriter waits out EAGAIN and completes partial writes without losing bytes", () => {
  const sleeps: number[] = [];
  const fake = fakeFs((call, length) =>
    call % 3 === 0 ? eagain() : Math.max(1, Math.min(length, 7))
  );
  const writer = new FdWriter({
    fs: fake.fs,
    fd: 1,
    bufferSize: 1 << 20,
    sleep: (ms) => sleeps.push(ms),
  });
  const lines = Array.from({ length: 50 }, (_, i) => `{"i":${i},"text":"héllo ✓"}\n`);
  for (const line of lines) writer.write(line);
  writer.flush();
  assert.equal(fake.written(), lines.join(""));
  assert.ok(sleeps.length > 0);
  assert.ok(sleeps.every((ms) => ms >= 1 && ms <= 64));
});

test("FdWriter backs off exponentially while the pipe stays full", () => {
  const sleeps: number[] = [];
  const fake = fakeFs((call, length) => (call < 10 ? eagain() : length));
  const writer = new FdWriter({
    fs: fake.fs,
    fd: 1,
    bufferSize: 100,
    sleep: (ms) => sleeps.push(ms),
  });
  writer.write("x\n");
  writer.flush();
  assert.deepEqual(sleeps, [1, 2, 4, 8, 16, 32, 64, 64, 64, 64]);
  assert.equal(fake.written(), "x\n");
});

test("FdWriter writes when the buffer fills and at the end of the task", async () => {
  const fake = fakeFs((_call, length) => length);
  const writer = new FdWriter({ fs: fake.fs, fd: 1, bufferSize: 10 });
  writer.write("aaaa\n");
  assert.equal(fake.calls(), 0);
  writer.write("bbbbbb\n");
  assert.equal(fake.calls(), 1);
  writer.write("c\n");
  await Promise.resolve();
  assert.equal(fake.written(), "aaaa\nbbbbbb\nc\n");
});

test("FdWriter reports a broken descriptor once and drops later lines", () => {
  const errors: unknown[] = [];
  const fake = fakeFs(() => Object.assign(new Error("EPIPE"), { code: "EPIPE" }));
  const writer = new FdWriter({
    fs: fake.fs,
    fd: 1,
    bufferSize: 0,
    onError: (e) => errors.push(e),
  });
  writer.write("a\n");
  writer.write("b\n");
  assert.equal(errors.length, 1);
  assert.equal(fake.calls(), 1);
  assert.ok(writer.dropping);
});

test("FdWriter survives a throwing error hook and ignores lines after close", () => {
  const fake = fakeFs(() => new Error("EBADF"));
  const writer = new FdWriter({
    fs: fake.fs,
    fd: 9,
    bufferSize: 0,
    onError: () => {
      throw new Error("hook");
    },
  });
  assert.doesNotThrow(() => writer.write("a\n"));
  const ok = fakeFs((_c, length) => length);
  const closing = new FdWriter({ fs: ok.fs, fd: 1, bufferSize: 100 });
  closing.write("kept\n");
  closing.close();
  closing.write("dropped\n");
  closing.flush();
  assert.equal(ok.written(), "kept\n");
  assert.ok(closing.dropping);
});
