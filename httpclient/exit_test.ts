import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startOpenAIServer } from "./_openai_test_server.ts";

/** The command that runs a TypeScript file on the runtime running this test. */
function command(file: string): [string, string[]] {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return [process.execPath, ["run", "-A", file]];
  if (versions.bun !== undefined) return [process.execPath, [file]];
  const major = Number(process.versions.node.split(".")[0]);
  return [process.execPath, major >= 23 ? [file] : ["--import", "tsx", file]];
}

/** Runs the fixture; resolves with its output and the ms between "done" and the exit. */
function run(
  url: string,
  mode: string,
): Promise<{ output: string; lingered: number; code: number | null }> {
  const file = fileURLToPath(new URL("./_exit_fixture.ts", import.meta.url));
  const [cmd, args] = command(file);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args, url, mode], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    let doneAt = 0;
    child.stdout.on("data", (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      if (doneAt === 0 && output.includes("done")) doneAt = performance.now();
    });
    const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(kill);
      resolve({
        output: output.trim(),
        lingered: doneAt === 0 ? Infinity : performance.now() - doneAt,
        code,
      });
    });
  });
}

for (
  const [mode, outcome] of [
    ["timeout", "done upstream_timeout"],
    ["abort", "done TimeoutError"],
    ["idle", "done upstream_timeout"],
    ["break", "done left"],
  ]
) {
  test(
    `nothing is left pending after ${mode}: the process exits at once`,
    { timeout: 30_000 },
    async () => {
      const server = await startOpenAIServer();
      try {
        const { output, lingered, code } = await run(server.url, mode!);
        assert.equal(output, outcome);
        assert.equal(code, 0);
        assert.ok(lingered < 1000, `the process lived ${lingered} ms after its call ended`);
      } finally {
        await server.close();
      }
    },
  );
}
