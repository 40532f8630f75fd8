// @plinth/httpclient against a small OpenAI-compatible server on loopback: a GET retried after a
// 503 and read through a zod schema, a POST that is not retried, and a streamed chat completion
// with its token usage.
//
//   deno run --allow-net=127.0.0.1 examples/packages/httpclient.ts
//   node examples/packages/httpclient.ts          (Node 24; Node 20: node --import tsx …)
//   bun examples/packages/httpclient.ts
import { createServer } from "node:http";
import { z } from "zod";
import { createHttpClient, HttpClientError } from "@plinth/httpclient";
import { createOpenAIClient } from "@plinth/httpclient/openai";

let orgCalls = 0;
const server = createServer((req, res) => {
  if (req.url === "/v1/orgs/acme") {
    // Busy once, then the answer.
    if (++orgCalls === 1) res.writeHead(503).end();
    else res.writeHead(200, { "content-type": "application/json" }).end('{"id":"acme","seats":42}');
    return;
  }
  if (req.url === "/v1/orgs") {
    res.writeHead(503).end();
    return;
  }
  // POST /v1/chat/completions with stream: true
  res.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (content: string) =>
    `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${
      JSON.stringify(content)
    }},"finish_reason":null}]}\n\n`;
  res.write(chunk("Hello, "));
  res.write(chunk("world!"));
  res.write(
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],' +
      '"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n',
  );
  res.end("data: [DONE]\n\n");
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as { port: number };
const baseUrl = `http://127.0.0.1:${port}/v1/`;

const retries: string[] = [];
const logger = {
  debug: (_message: string, fields?: Record<string, unknown>) =>
    retries.push(String(fields?.reason)),
  info: () => {},
  warn: () => {},
  error: () => {},
};
const client = createHttpClient({ baseUrl, retry: { base: 10 }, logger });

const Org = z.object({ id: z.string(), seats: z.number() });
const org = await client.json(Org).get("orgs/acme");
console.log(`GET orgs/acme after ${orgCalls} attempts: ${JSON.stringify(org)}`);
console.log(`retries logged: ${retries.join(", ")}`);

try {
  await client.post("orgs", { json: { id: "globex" } });
} catch (error) {
  if (!(error instanceof HttpClientError)) throw error;
  console.log(
    `POST orgs without an Idempotency-Key: ${error.code} (${error.status}) after ${error.attempts} attempt`,
  );
}

const openai = createOpenAIClient({ baseUrl, apiKey: "sk-example" });
const stream = await openai.chat.completions.create({
  model: "m",
  messages: [{ role: "user", content: "Hi" }],
  stream: true,
});
let text = "";
for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
console.log(`streamed: ${text}`);
const usage = stream.usage!;
console.log(
  `usage: ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens} tokens`,
);

server.closeAllConnections(); // the clients' idle keep-alive connections
await new Promise<void>((resolve) => server.close(() => resolve()));
