import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fileDestination, stdoutDestination } from "./destination.ts";
import { createLogger } from "./logger.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

function tempFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), "plinth-dest-")), name);
}

function checkLines(text: string, expected: number): void {
  assert.ok(text.endsWith("\n"));
  const lines = text.slice(0, -1).split("\n");
  assert.equal(lines.length, expected);
  const seen = new Set<string>();
  for (const line of lines) {
    const record = JSON.parse(line) as { t: number; i: number; pad: string };
    assert.equal(record.pad.length, record.i % 97);
    seen.add(`${record.t}:${record.i}`);
  }
  assert.equal(seen.size, expected, "every line exactly once");
}

test("fileDestination() appends 100 000 lines written concurrently from 100 tasks, all valid JSON", async () => {
  const path = tempFile("load.log");
  writeFileSync(path, "");
  const destination = fileDestination(path, { bufferSize: 8192 });
  const logger = createLogger({ service: "load", destination });
  await Promise.all(Array.from({ length: 100 }, async (_, t) => {
    for (let i = 0; i < 1000; i++) {
      logger.info("line", { t, i, pad: "é".repeat(i % 97) });
      if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      else if (i % 3 === 0) await null;
    }
  }));
  await logger.flush();
  await destination.close();
  checkLines(readFileSync(path, "utf8"), 100_000);
});

test("fileDestination() appends to an existing file and flushes on flush() and close()", async () => {
  const path = tempFile("append.log");
  writeFileSync(path, "existing\n");
  const destination = fileDestination(path);
  destination.write("one\n");
  assert.equal(readFileSync(path, "utf8"), "existing\n", "buffered until flushed");
  destination.flush();
  assert.equal(readFileSync(path, "utf8"), "existing\none\n");
  destination.write("two\n");
  await destination.close();
  await destination.close();
  destination.write("after close\n");
  destination.flush();
  assert.equal(readFileSync(path, "utf8"), "existing\none\ntwo\n");
  const unbuffered = fileDestination(path, { bufferSize: 0 });
  unbuffered.write("three\n");
  assert.equal(readFileSync(path, "utf8"), "existing\none\ntwo\nthree\n");
  await unbuffered.close();
});

/** Whether this process holds a descriptor open on `path` (Linux), `undefined` elsewhere. */
function holdsOpen(path: string): boolean | undefined {
  if (!existsSync("/proc/self/fd")) return undefined;
  const real = realpathSync(path);
  return readdirSync("/proc/self/fd").some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === real;
    } catch {
      return false; // closed while we looked
    }
  });
}

test("fileDestination() [Symbol.asyncDispose]() flushes and releases the descriptor, like close()", async () => {
  assert.equal(typeof Symbol.asyncDispose, "symbol");
  for (const how of ["close", "asyncDispose"] as const) {
    const path = tempFile(`${how}.log`);
    const destination = fileDestination(path);
    destination.write(`${how}\n`);
    if (holdsOpen(path) !== undefined) assert.equal(holdsOpen(path), true, "open before");
    const closing = how === "close" ? destination.close() : destination[Symbol.asyncDispose]();
    assert.ok(closing instanceof Promise);
    assert.equal(await closing, undefined);
    assert.equal(readFileSync(path, "utf8"), `${how}\n`);
    if (holdsOpen(path) !== undefined) assert.equal(holdsOpen(path), false, "released");
    destination.write("dropped\n");
    await destination[Symbol.asyncDispose]();
    assert.equal(readFileSync(path, "utf8"), `${how}\n`);
  }
});

test("fileDestination() rejects bad paths and options", () => {
  assert.throws(() => fileDestination(""), TypeError);
  assert.throws(() => fileDestination("x.log", { bufferSize: -1 }), RangeError);
  assert.throws(() => fileDestination("x.log", { bufferSize: 1.5 }), RangeError);
  assert.throws(
    () => fileDestination(join(tmpdir(), "no-such-dir-plinth", "x", "a.log")),
    (error: Error) =>
      /^Cannot open log file ".*a\.log": /.test(error.message) && error.cause !== undefined,
  );
});

test("stdoutDestination() is one shared destination whose close() only flushes", async () => {
  const a = stdoutDestination();
  assert.equal(a, stdoutDestination());
  assert.doesNotThrow(() => a.flush());
  assert.equal(await a.close(), undefined);
  assert.equal(await a[Symbol.asyncDispose](), undefined);
  assert.equal(a, stdoutDestination(), "still the shared destination");
});

/** The command that runs a TypeScript file on the runtime running this test. */
function runtimeCommand(script: string): string[] {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) {
    return [process.execPath, "run", "-A", "--config", join(root, "deno.json"), script];
  }
  if (versions.bun !== undefined) return [process.execPath, script];
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 23 ? [process.execPath, script] : [process.execPath, "--import", "tsx", script];
}

test("stdoutDestination() writes 100 000 concurrent lines to a slow pipe without losing or cutting one", async () => {
  const script = tempFile("writer.mts");
  const mod = pathToFileURL(join(here, "mod.ts")).href;
  writeFileSync(
    script,
    `import { createLogger } from ${JSON.stringify(mod)};
import process from "node:process";
const logger = createLogger({ service: "load", env: {} });
await Promise.all(Array.from({ length: 100 }, async (_, t) => {
  for (let i = 0; i < 1000; i++) {
    logger.info("line", { t, i, pad: "é".repeat(i % 97) });
    if (i % 10 === 0) await null;
  }
}));
logger.info("last", { t: -1, i: 0, pad: "" });
process.exit(0);
`,
  );
  const [command, ...args] = runtimeCommand(script);
  const child = spawn(command!, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  // Nobody reads for a while: the pipe fills and the writer must wait, not drop or cut lines.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
  const code = await exited;
  assert.equal(code, 0, stderr);
  checkLines(Buffer.concat(chunks).toString("utf8"), 100_001);
});
