// Test support: run by exit_test.ts in a child process. It makes one call that ends in a timeout
// or an abort against the stalling server at argv[2], prints "done <outcome>", and returns: the
// process must then exit at once, proving that nothing (socket, timer) was left pending.
import process from "node:process";
import { createHttpClient, HttpClientError } from "./mod.ts";
import { createOpenAIClient } from "./openai.ts";

const [url, mode] = process.argv.slice(2) as [string, string];
const messages = [{ role: "user", content: "Hi" }];
let outcome = "none";
try {
  if (mode === "timeout") {
    const client = createHttpClient({ baseUrl: url, timeout: 100, totalTimeout: 250 });
    await client.get("stall");
  } else if (mode === "abort") {
    const client = createHttpClient({ baseUrl: url });
    await client.get("stall", { signal: AbortSignal.timeout(100) });
  } else if (mode === "idle" || mode === "break") {
    const client = createOpenAIClient({ baseUrl: `${url}v1`, apiKey: "k", idleTimeout: 150 });
    const stream = await client.chat.completions.create({ model: "stall", messages, stream: true });
    for await (const _ of stream) if (mode === "break") break;
    outcome = "left";
  }
} catch (error) {
  outcome = error instanceof HttpClientError ? error.code : (error as Error).name;
}
process.stdout.write(`done ${outcome}\n`);
