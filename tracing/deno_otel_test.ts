// Deno's built-in OpenTelemetry (OTEL_DENO=true) registers a provider with no code: plinth's
// spans must flow through it to an OTLP receiver.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { waitFor } from "@plinth/testing";
import { startReceiver } from "./_test_receiver.ts";

const onDeno = "Deno" in globalThis;
const root = fileURLToPath(new URL("../", import.meta.url));

function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`deno exited with ${code}: ${err.slice(0, 2000)}`));
    });
  });
}

test("OTEL_DENO=true exports plinth's spans through Deno's own provider", {
  skip: onDeno ? false : "runs under deno test (it starts deno itself)",
}, async () => {
  const receiver = await startReceiver();
  try {
    const out = await run(process.execPath, ["run", "-A", "tracing/_deno_otel_fixture.ts"], {
      OTEL_DENO: "true",
      OTEL_DENO_CONSOLE: "ignore",
      OTEL_SERVICE_NAME: "deno-otel-test",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    const ids = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(ids.recording, true, "Deno registered a provider plinth used");
    await waitFor(() => receiver.spans().length >= 2, 10_000, "Deno's export");
    const spans = receiver.spans();
    const server = spans.find((s) => s.name === "GET /orders/:id");
    const child = spans.find((s) => s.name === "load order");
    assert.ok(server !== undefined && child !== undefined, JSON.stringify(spans));
    assert.equal(server.service, "deno-otel-test");
    assert.equal(server.scope, "@plinth/tracing");
    assert.equal(server.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(server.parentSpanId, "00f067aa0ba902b7");
    assert.equal(server.kind, 2);
    assert.equal(child.parentSpanId, server.spanId);
    assert.equal(child.spanId, ids.spanId);
    assert.equal(child.attributes["app.order"], "42");
    // Log lines carry the active span's ids: the child's inside withSpan, the server's after.
    assert.deepEqual(ids.logged, [
      ["in child", server.traceId, child.spanId],
      ["in server", server.traceId, server.spanId],
    ]);
  } finally {
    await receiver.close();
  }
});
