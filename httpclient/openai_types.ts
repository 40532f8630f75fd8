/**
 * Token counts of a call, as OpenAI-compatible upstreams report them: what a router charges an
 * organisation for. Embeddings have no `completion_tokens` (it is `0` here).
 *
 * @example
 * ```ts
 * import type { Usage } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const usage: Usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
 * assert.equal(usage.prompt_tokens + usage.completion_tokens, usage.total_tokens);
 * ```
 */
export interface Usage {
  /** Tokens of the input. */
  readonly prompt_tokens: number;
  /** Tokens generated. */
  readonly completion_tokens: number;
  /** Their sum, as the upstream reports it. */
  readonly total_tokens: number;
}

/**
 * One message of a chat. Fields beyond these (tool calls, names, multi-part content) are sent as
 * they are.
 *
 * @example
 * ```ts
 * import type { ChatMessage } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const message: ChatMessage = { role: "user", content: "Hello" };
 * assert.equal(message.role, "user");
 * ```
 */
export interface ChatMessage {
  /** Who speaks: `system`, `developer`, `user`, `assistant` or `tool`. */
  readonly role: string;
  /** The text, parts, or `null` (an assistant message with tool calls). */
  readonly content: string | readonly unknown[] | null;
  /** Any other field of the message. */
  readonly [key: string]: unknown;
}

/**
 * Parameters of `chat.completions.create()`: `model` and `messages`, and any other field of the
 * OpenAI API (`temperature`, `tools`, `max_completion_tokens`…), sent as it is.
 *
 * @example
 * ```ts
 * import type { ChatCompletionCreateParams } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const params: ChatCompletionCreateParams = {
 *   model: "gpt-4o-mini",
 *   messages: [{ role: "user", content: "Hi" }],
 *   temperature: 0,
 * };
 * assert.equal(params.messages.length, 1);
 * ```
 */
export interface ChatCompletionCreateParams {
  /** The model id. */
  readonly model: string;
  /** The conversation. */
  readonly messages: readonly ChatMessage[];
  /** Whether to stream the answer as chunks. @default {false} */
  readonly stream?: boolean | undefined;
  /**
   * Streaming options. @default {{ include_usage: true }} (so a streamed call still reports its
   * usage)
   */
  readonly stream_options?: { readonly include_usage?: boolean } | undefined;
  /** Any other parameter. */
  readonly [key: string]: unknown;
}

/**
 * A chat completion (the non-streaming answer).
 *
 * @example
 * ```ts
 * import type { ChatCompletion } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const completion: ChatCompletion = {
 *   id: "chatcmpl-1",
 *   object: "chat.completion",
 *   created: 1,
 *   model: "m",
 *   choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
 *   usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
 * };
 * assert.equal(completion.choices[0]?.message.content, "Hi");
 * ```
 */
export interface ChatCompletion {
  /** The completion's id. */
  readonly id: string;
  /** Always `chat.completion`. */
  readonly object: string;
  /** When it was made, epoch seconds. */
  readonly created: number;
  /** The model that answered. */
  readonly model: string;
  /** The answers. */
  readonly choices: readonly {
    readonly index: number;
    readonly message: ChatMessage;
    readonly finish_reason: string | null;
    readonly [key: string]: unknown;
  }[];
  /** Token counts (absent only when the upstream sent none). */
  readonly usage?: Usage | undefined;
  /** Any other field. */
  readonly [key: string]: unknown;
}

/**
 * One chunk of a streamed chat completion. With `include_usage`, the last chunk has no choices
 * and carries the `usage`.
 *
 * @example
 * ```ts
 * import type { ChatCompletionChunk } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const chunk: ChatCompletionChunk = {
 *   id: "chatcmpl-1",
 *   object: "chat.completion.chunk",
 *   created: 1,
 *   model: "m",
 *   choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }],
 * };
 * assert.equal(chunk.choices[0]?.delta.content, "Hel");
 * ```
 */
export interface ChatCompletionChunk {
  /** The completion's id (the same on every chunk). */
  readonly id: string;
  /** Always `chat.completion.chunk`. */
  readonly object: string;
  /** When it was made, epoch seconds. */
  readonly created: number;
  /** The model that answers. */
  readonly model: string;
  /** The deltas of this chunk. */
  readonly choices: readonly {
    readonly index: number;
    readonly delta: {
      readonly role?: string | undefined;
      readonly content?: string | null | undefined;
      readonly [key: string]: unknown;
    };
    readonly finish_reason: string | null;
    readonly [key: string]: unknown;
  }[];
  /** The token counts, on the last chunk when `include_usage` was asked for. */
  readonly usage?: Usage | null | undefined;
  /** Any other field. */
  readonly [key: string]: unknown;
}

/**
 * Parameters of `embeddings.create()`.
 *
 * @example
 * ```ts
 * import type { EmbeddingCreateParams } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const params: EmbeddingCreateParams = { model: "text-embedding-3-small", input: ["a", "b"] };
 * assert.equal(params.input.length, 2);
 * ```
 */
export interface EmbeddingCreateParams {
  /** The model id. */
  readonly model: string;
  /** The text(s) (or token arrays) to embed. */
  readonly input: string | readonly string[] | readonly number[] | readonly (readonly number[])[];
  /** Any other parameter (`dimensions`, `encoding_format`). */
  readonly [key: string]: unknown;
}

/**
 * The answer of `embeddings.create()`.
 *
 * @example
 * ```ts
 * import type { CreateEmbeddingResponse } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const response: CreateEmbeddingResponse = {
 *   object: "list",
 *   model: "m",
 *   data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
 *   usage: { prompt_tokens: 2, completion_tokens: 0, total_tokens: 2 },
 * };
 * assert.equal(response.data[0]?.embedding.length, 2);
 * ```
 */
export interface CreateEmbeddingResponse {
  /** Always `list`. */
  readonly object: string;
  /** The model that answered. */
  readonly model: string;
  /** One embedding per input. */
  readonly data: readonly {
    readonly object: string;
    readonly index: number;
    readonly embedding: readonly number[];
  }[];
  /** Token counts (`completion_tokens` is `0`). */
  readonly usage: Usage;
}

/**
 * One model of `models.list()`.
 *
 * @example
 * ```ts
 * import type { Model } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const model: Model = { id: "gpt-4o-mini", object: "model", created: 1, owned_by: "openai" };
 * assert.equal(model.id, "gpt-4o-mini");
 * ```
 */
export interface Model {
  /** The model id. */
  readonly id: string;
  /** Always `model`. */
  readonly object: string;
  /** When it was made, epoch seconds. */
  readonly created: number;
  /** Its owner. */
  readonly owned_by: string;
}
