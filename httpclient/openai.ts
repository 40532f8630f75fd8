/**
 * An OpenAI-compatible client on `@plinth/httpclient`'s timeouts and retries: chat completions
 * (whole or streamed, with the final `usage`), embeddings, models, and a pass-through proxy that
 * swaps in the upstream's key and reports the usage, so an API router can charge each
 * organisation for its tokens.
 *
 * @example
 * ```ts
 * import { createOpenAIClient } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const fetch = () =>
 *   Promise.resolve(Response.json({
 *     object: "list",
 *     model: "e",
 *     data: [{ object: "embedding", index: 0, embedding: [0.5] }],
 *     usage: { prompt_tokens: 2, total_tokens: 2 },
 *   }));
 * const client = createOpenAIClient({ apiKey: "sk-test", fetch });
 * const result = await client.embeddings.create({ model: "e", input: "hi" });
 * assert.deepEqual(result.usage, { prompt_tokens: 2, completion_tokens: 0, total_tokens: 2 });
 * ```
 *
 * @module
 */
export * from "./openai_client.ts";
export * from "./openai_types.ts";
