import { UpstreamProblem } from "./_body.ts";
import {
  createHttpClient,
  type FetchLike,
  type HttpClient,
  type HttpClientLogger,
  type Schema,
} from "./http_client.ts";
import { HttpClientError } from "./http_client_error.ts";
import { parseRetryAfter, type RetryOptions } from "./retry.ts";
import { createSseParser, readServerSentEvents } from "./sse.ts";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  CreateEmbeddingResponse,
  EmbeddingCreateParams,
  Model,
  Usage,
} from "./openai_types.ts";

/**
 * Options of {@linkcode createOpenAIClient}.
 *
 * @example
 * ```ts
 * import { createOpenAIClient, type CreateOpenAIClientOptions } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const options: CreateOpenAIClientOptions = {
 *   baseUrl: "https://api.openai.com/v1",
 *   apiKey: "sk-test",
 *   retry: { attempts: 3 },
 * };
 * assert.equal(createOpenAIClient(options).baseUrl, "https://api.openai.com/v1/");
 * ```
 */
export interface CreateOpenAIClientOptions {
  /** The API's base URL (`…/v1`). @default {"https://api.openai.com/v1/"} */
  readonly baseUrl?: string | URL | undefined;
  /** The API key, sent as `Authorization: Bearer`; never logged or put in a message. */
  readonly apiKey: string;
  /** Sent as `OpenAI-Organization`. @default {undefined} */
  readonly organization?: string | undefined;
  /** The longest wait for one attempt's response headers, in ms. @default {120000} */
  readonly timeout?: number | undefined;
  /** The longest a non-streaming call may take, retries included, in ms. @default {300000} */
  readonly totalTimeout?: number | undefined;
  /** The longest wait between two chunks of a stream, in ms. @default {60000} */
  readonly idleTimeout?: number | undefined;
  /**
   * How to retry; `Retry-After`, `retry-after-ms` and, for an exhausted limit, the
   * `x-ratelimit-reset-*` headers set the wait. @default {{ attempts: 3 }}
   */
  readonly retry?: RetryOptions | false | undefined;
  /** The `fetch` to call. @default {globalThis.fetch} */
  readonly fetch?: FetchLike | undefined;
  /** Where retries are logged (at debug). @default {log (plinth's default logger)} */
  readonly logger?: HttpClientLogger | undefined;
  /** The largest body the client reads, in bytes (per event when streaming). @default {10485760} */
  readonly maxResponseSize?: number | undefined;
  /** The clock, epoch ms. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * Options of one call of an {@linkcode OpenAIClient}.
 *
 * @example
 * ```ts
 * import type { OpenAICallOptions } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const options: OpenAICallOptions = { signal: new AbortController().signal };
 * assert.equal(options.signal?.aborted, false);
 * ```
 */
export interface OpenAICallOptions {
  /** Aborts the call (and a stream's reading); its reason is thrown as it is. @default {undefined} */
  readonly signal?: AbortSignal | undefined;
  /** Headers to add (`Idempotency-Key` makes a completion retryable). @default {undefined} */
  readonly headers?: HeadersInit | undefined;
}

/**
 * A streamed chat completion: iterate it for the chunks; `usage` is set once the last chunk has
 * been read. Leaving the loop early, or `close()`, aborts the upstream request.
 *
 * @example
 * ```ts
 * import { createOpenAIClient, type ChatCompletionStream } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const sse = 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",' +
 *   '"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
 *   'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],' +
 *   '"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n';
 * const fetch = () =>
 *   Promise.resolve(new Response(sse, { headers: { "content-type": "text/event-stream" } }));
 * const client = createOpenAIClient({ apiKey: "sk-test", baseUrl: "http://llm.test/v1", fetch });
 * const stream: ChatCompletionStream = await client.chat.completions.create({
 *   model: "m",
 *   messages: [{ role: "user", content: "Hello" }],
 *   stream: true,
 * });
 * let text = "";
 * for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
 * assert.equal(text, "Hi");
 * assert.deepEqual(stream.usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
 * ```
 */
export interface ChatCompletionStream extends AsyncIterable<ChatCompletionChunk> {
  /** The token counts, once the stream has ended (`undefined` if the upstream sent none). */
  readonly usage: Usage | undefined;
  /** The upstream's response (status and headers; its body is what the iterator reads). */
  readonly response: Response;
  /** Stops reading and aborts the upstream request. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options of {@linkcode OpenAIClient.proxy}.
 *
 * @example
 * ```ts
 * import type { ProxyOptions } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const charged: number[] = [];
 * const options: ProxyOptions = { path: "chat/completions", onUsage: (u) => charged.push(u.total_tokens) };
 * assert.equal(options.path, "chat/completions");
 * ```
 */
export interface ProxyOptions {
  /**
   * The upstream path, relative to `baseUrl`. @default {the request's path and query, without
   * its leading `/v1/` (or `/`)}
   */
  readonly path?: string | undefined;
  /** Called once with the usage the response reported, when it reported one. @default {undefined} */
  readonly onUsage?: ((usage: Usage) => void) | undefined;
  /** Aborts the upstream request. @default {the request's own signal} */
  readonly signal?: AbortSignal | undefined;
}

/**
 * An OpenAI-compatible client made by {@linkcode createOpenAIClient}.
 *
 * @example
 * ```ts
 * import { createOpenAIClient, type OpenAIClient } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const fetch = () =>
 *   Promise.resolve(Response.json({
 *     object: "list",
 *     data: [{ id: "m", object: "model", created: 1, owned_by: "me" }],
 *   }));
 * const client: OpenAIClient = createOpenAIClient({ apiKey: "sk-test", fetch });
 * assert.deepEqual((await client.models.list()).map((m) => m.id), ["m"]);
 * ```
 */
export interface OpenAIClient {
  /** The base URL, with a trailing slash. */
  readonly baseUrl: string;
  /** Chat completions. */
  readonly chat: {
    readonly completions: {
      /**
       * Creates a streamed chat completion.
       * @param params The parameters, `stream: true`.
       * @param options Signal and headers.
       */
      create(
        params: ChatCompletionCreateParams & { readonly stream: true },
        options?: OpenAICallOptions,
      ): Promise<ChatCompletionStream>;
      /**
       * Creates a chat completion.
       * @param params The parameters.
       * @param options Signal and headers.
       */
      create(
        params: ChatCompletionCreateParams & { readonly stream?: false | undefined },
        options?: OpenAICallOptions,
      ): Promise<ChatCompletion>;
    };
  };
  /** Embeddings. */
  readonly embeddings: {
    /**
     * Embeds the input.
     * @param params Model and input.
     * @param options Signal and headers.
     */
    create(
      params: EmbeddingCreateParams,
      options?: OpenAICallOptions,
    ): Promise<CreateEmbeddingResponse>;
  };
  /** Models. */
  readonly models: {
    /**
     * Lists the models.
     * @param options Signal and headers.
     */
    list(options?: OpenAICallOptions): Promise<Model[]>;
  };
  /**
   * Passes a client's request through to the upstream: the body is streamed, the upstream's key
   * replaces the client's credentials, hop-by-hop headers, `Authorization`, `Cookie` and other
   * credentials are dropped both ways, and the upstream's answer (a stream too, errors included)
   * comes back as a `Response`. No response at all throws an {@linkcode HttpClientError}.
   * @param request The incoming request.
   * @param options Upstream path, usage callback, signal.
   */
  proxy(request: Request, options?: ProxyOptions): Promise<Response>;
}

/** A go-style duration (`1s`, `6m0s`, `20ms`) in ms, as in `x-ratelimit-reset-*`. */
function parseDuration(text: string | null): number | undefined {
  if (text === null || !/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(text.trim())) return undefined;
  let ms = 0;
  for (const [, value, , unit] of text.trim().matchAll(/(\d+(\.\d+)?)(ms|h|m|s)/g)) {
    const n = Number(value);
    ms += unit === "h" ? n * 3_600_000 : unit === "m" ? n * 60_000 : unit === "s" ? n * 1000 : n;
  }
  return ms;
}

/**
 * The wait an OpenAI-compatible 429 or 5xx asks for: `retry-after-ms` or `Retry-After` first,
 * else the reset time of each exhausted limit (`x-ratelimit-remaining-requests: 0` and
 * `x-ratelimit-reset-requests: 6m0s`; the same for tokens), the longest of them.
 *
 * @param response The response (only its headers are read).
 * @param now The current time, epoch ms.
 * @returns The wait in ms, or `undefined`.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { openAIRetryAfter } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const response = new Response(null, {
 *   status: 429,
 *   headers: { "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s" },
 * });
 * assert.equal(openAIRetryAfter(response, Date.now()), 1500);
 * ```
 */
export function openAIRetryAfter(response: Response, now: number): number | undefined {
  const asked = parseRetryAfter(response, now);
  if (asked !== undefined) return asked;
  let wait: number | undefined;
  for (const kind of ["requests", "tokens"]) {
    if (response.headers.get(`x-ratelimit-remaining-${kind}`)?.trim() !== "0") continue;
    const reset = parseDuration(response.headers.get(`x-ratelimit-reset-${kind}`));
    if (reset !== undefined) wait = Math.max(wait ?? 0, reset);
  }
  return wait;
}

function usageOf(value: unknown): Usage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  if (typeof u.prompt_tokens !== "number" && typeof u.total_tokens !== "number") return undefined;
  return {
    prompt_tokens: n(u.prompt_tokens),
    completion_tokens: n(u.completion_tokens),
    total_tokens: n(u.total_tokens),
  };
}

/** The issue code of a wrong shape (zod's word for it). */
const INVALID_TYPE = "invalid_type";

/** A schema that accepts an object whose `field` is an array (the shape every answer has). */
function withArray<T>(field: string): Schema<T> {
  return {
    safeParse(data: unknown) {
      if (typeof data !== "object" || data === null) {
        return {
          success: false,
          error: { issues: [{ path: [], code: INVALID_TYPE, expected: "object" }] },
        };
      }
      if (!Array.isArray((data as Record<string, unknown>)[field])) {
        return {
          success: false,
          error: { issues: [{ path: [field], code: INVALID_TYPE, expected: "array" }] },
        };
      }
      return { success: true, data: data as T };
    },
  };
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);
const REQUEST_CREDENTIALS = new Set([
  "authorization",
  "cookie",
  "api-key",
  "x-api-key",
  "openai-organization",
  "openai-project",
]);
const RESPONSE_DROPPED = new Set(["set-cookie", "content-encoding"]);

/** The headers of `headers` minus hop-by-hop ones (and those `Connection` names) and `drop`. */
function filterHeaders(headers: Headers, drop: ReadonlySet<string>): Headers {
  const named = new Set(
    (headers.get("connection") ?? "").split(",").map((h) => h.trim().toLowerCase()),
  );
  const out = new Headers();
  headers.forEach((value, key) => {
    if (!HOP_BY_HOP.has(key) && !drop.has(key) && !named.has(key)) out.append(key, value);
  });
  return out;
}

/**
 * Creates a client for OpenAI and OpenAI-compatible APIs (vLLM, Ollama, LiteLLM, Azure's
 * `/openai/v1`): `chat.completions.create()` (whole or streamed), `embeddings.create()`,
 * `models.list()` and `proxy()`, on {@linkcode createHttpClient}'s timeouts and retries. Every
 * call that spends tokens reports `usage`; a stream asks for it (`stream_options.include_usage`)
 * unless the caller set `stream_options`. An error body (`{ error: { message, type, code,
 * param } }`) becomes an {@linkcode HttpClientError} whose `upstreamCode` is the upstream's code
 * and whose `cause` holds the body; `insufficient_quota` is never retried
 * (`upstream_quota_exceeded`), `rate_limit_exceeded` waits for the reset headers
 * ({@linkcode openAIRetryAfter}). A completion (a `POST`) is retried only with an
 * `Idempotency-Key` header.
 *
 * Streams are parsed by this package's own SSE parser ({@linkcode readServerSentEvents}): it
 * needs no dependency, runs on every runtime, caps line size, and is measured against
 * `eventsource-parser` in `bench/httpclient.ts`.
 *
 * @param options Base URL, key, organisation, timeouts, retry, `fetch`, logger.
 * @returns The client.
 * @throws {TypeError} When `apiKey` is not a non-empty string or another option has the wrong type.
 * @throws {RangeError} When a timeout or a retry setting is out of range.
 *
 * @example
 * ```ts
 * import { createOpenAIClient } from "@plinth/httpclient/openai";
 * import assert from "node:assert/strict";
 *
 * const fetch = (_url: Request | URL | string, init?: RequestInit) => {
 *   assert.equal(new Headers(init?.headers).get("authorization"), "Bearer sk-test");
 *   return Promise.resolve(Response.json({
 *     id: "c",
 *     object: "chat.completion",
 *     created: 1,
 *     model: "m",
 *     choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }],
 *     usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
 *   }));
 * };
 * const client = createOpenAIClient({ apiKey: "sk-test", fetch });
 * const completion = await client.chat.completions.create({
 *   model: "m",
 *   messages: [{ role: "user", content: "Hello" }],
 * });
 * assert.equal(completion.choices[0]?.message.content, "Hi!");
 * assert.equal(completion.usage?.total_tokens, 7);
 * ```
 */
export function createOpenAIClient(options: CreateOpenAIClientOptions): OpenAIClient {
  const action = "Cannot create OpenAI client";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options must be an object with an apiKey`);
  }
  if (typeof options.apiKey !== "string" || options.apiKey === "") {
    throw new TypeError(`${action}: option "apiKey" must be a non-empty string`);
  }
  if (options.organization !== undefined && typeof options.organization !== "string") {
    throw new TypeError(`${action}: option "organization" must be a string`);
  }
  const idleTimeout = options.idleTimeout ?? 60_000;
  if (typeof idleTimeout !== "number" || !Number.isFinite(idleTimeout) || idleTimeout <= 0) {
    throw new RangeError(`${action}: option "idleTimeout" must be a positive number of ms`);
  }
  const maxResponseSize = options.maxResponseSize ?? 10_485_760;
  let base = String(options.baseUrl ?? "https://api.openai.com/v1/");
  if (!base.endsWith("/")) base += "/";
  const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}` };
  if (options.organization !== undefined) headers["openai-organization"] = options.organization;
  const retry: RetryOptions | false = options.retry === false
    ? false
    : { ...options.retry, retryAfter: options.retry?.retryAfter ?? openAIRetryAfter };
  const http: HttpClient = createHttpClient({
    baseUrl: base,
    headers,
    retry,
    timeout: options.timeout ?? 120_000,
    totalTimeout: options.totalTimeout ?? 300_000,
    fetch: options.fetch,
    logger: options.logger,
    maxResponseSize,
    now: options.now,
  });
  const baseUrl = http.baseUrl!;
  const upstream = new URL(baseUrl).host;
  const completionSchema = withArray<ChatCompletion>("choices");
  const embeddingSchema = withArray<CreateEmbeddingResponse>("data");
  const modelsSchema = withArray<{ data: Model[] }>("data");

  function checkParams(params: unknown, what: string): asserts params is Record<string, unknown> {
    if (
      typeof params !== "object" || params === null ||
      typeof (params as { model?: unknown }).model !== "string"
    ) {
      throw new TypeError(`Cannot create ${what}: params must be an object with a model`);
    }
  }

  function streamError(data: unknown): HttpClientError {
    const problem = new UpstreamProblem(200, JSON.stringify(data));
    return new HttpClientError(
      `Cannot POST ${upstream}/chat/completions: the upstream sent an error in the stream`,
      { code: "upstream_error", upstream, upstreamCode: problem.upstreamCode, cause: problem },
    );
  }

  async function stream(
    params: ChatCompletionCreateParams,
    o: OpenAICallOptions,
  ): Promise<ChatCompletionStream> {
    const controller = new AbortController();
    const caller = o.signal;
    const signal = caller === undefined
      ? controller.signal
      : typeof AbortSignal.any === "function"
      ? AbortSignal.any([caller, controller.signal])
      : (caller.addEventListener("abort", () => controller.abort(caller.reason), { once: true }),
        controller.signal);
    const body = {
      ...params,
      stream: true,
      stream_options: params.stream_options ?? { include_usage: true },
    };
    const requestHeaders = new Headers(o.headers);
    requestHeaders.set("accept", "text/event-stream");
    const response = await http.post("chat/completions", {
      json: body,
      signal,
      headers: requestHeaders,
    });
    let usage: Usage | undefined;
    let idle = false;
    async function* chunks(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
      let finished = false;
      try {
        if (response.body === null) return;
        const events = readServerSentEvents(response.body, {
          idleTimeout,
          maxEventSize: maxResponseSize,
          onIdle: () => {
            idle = true;
            controller.abort();
            return new HttpClientError(
              `Cannot POST ${upstream}/chat/completions: the stream stalled for the idleTimeout`,
              { code: "upstream_timeout", upstream, upstreamStatus: response.status },
            );
          },
        });
        for await (const event of events) {
          if (event.data === "[DONE]") break;
          let data: unknown;
          try {
            data = JSON.parse(event.data);
          } catch {
            throw new HttpClientError(
              `Cannot POST ${upstream}/chat/completions: a stream event is not JSON`,
              { code: "upstream_invalid_response", upstream, upstreamStatus: response.status },
            );
          }
          if (
            event.event === "error" ||
            (typeof data === "object" && data !== null && "error" in data)
          ) {
            throw streamError(data);
          }
          const chunk = data as ChatCompletionChunk;
          const reported = usageOf(chunk.usage);
          if (reported !== undefined) usage = reported;
          yield chunk;
        }
        finished = true;
      } catch (error) {
        if (caller?.aborted && !idle) throw caller.reason;
        if (error instanceof RangeError) {
          throw new HttpClientError(
            `Cannot POST ${upstream}/chat/completions: a stream event exceeds maxResponseSize`,
            { code: "upstream_response_too_large", upstream, cause: error },
          );
        }
        if (error instanceof HttpClientError) throw error;
        throw new HttpClientError(`Cannot POST ${upstream}/chat/completions: the stream broke`, {
          code: "upstream_unreachable",
          upstream,
          upstreamStatus: response.status,
          cause: error,
        });
      } finally {
        if (!finished) controller.abort();
      }
    }
    const iterator = chunks();
    async function close(): Promise<void> {
      controller.abort();
      await iterator.return(undefined);
      await response.body?.cancel().catch(() => {});
    }
    return {
      get usage() {
        return usage;
      },
      response,
      [Symbol.asyncIterator]: () => iterator,
      close,
      [Symbol.asyncDispose]: close,
    };
  }

  function create(
    params: ChatCompletionCreateParams & { readonly stream: true },
    o?: OpenAICallOptions,
  ): Promise<ChatCompletionStream>;
  function create(
    params: ChatCompletionCreateParams & { readonly stream?: false | undefined },
    o?: OpenAICallOptions,
  ): Promise<ChatCompletion>;
  async function create(
    params: ChatCompletionCreateParams,
    o: OpenAICallOptions = {},
  ): Promise<ChatCompletion | ChatCompletionStream> {
    checkParams(params, "chat completion");
    if (params.stream === true) return await stream(params, o);
    const completion = await http.json(completionSchema).post("chat/completions", {
      json: params,
      signal: o.signal,
      headers: o.headers,
    });
    const usage = usageOf(completion.usage);
    return usage === undefined ? completion : { ...completion, usage };
  }

  async function proxy(request: Request, o: ProxyOptions = {}): Promise<Response> {
    if (!(request instanceof Request)) {
      throw new TypeError("Cannot proxy: request must be a Request");
    }
    const incoming = new URL(request.url);
    const path = o.path ?? (incoming.pathname.replace(/^\/(v1\/)?/, "") + incoming.search);
    const headers = filterHeaders(request.headers, REQUEST_CREDENTIALS);
    const hasBody = request.body !== null && request.method !== "GET" && request.method !== "HEAD";
    const response = await http.request(request.method, path, {
      headers,
      body: hasBody ? request.body : undefined,
      signal: o.signal ?? request.signal,
      throwHttpErrors: false,
    });
    const outHeaders = filterHeaders(response.headers, RESPONSE_DROPPED);
    const onUsage = o.onUsage;
    if (onUsage === undefined || response.body === null) {
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: outHeaders,
      });
    }
    return new Response(response.body.pipeThrough(usageTap(response, onUsage, maxResponseSize)), {
      status: response.status,
      statusText: response.statusText,
      headers: outHeaders,
    });
  }

  return {
    baseUrl,
    chat: { completions: { create } },
    embeddings: {
      async create(params, o = {}) {
        checkParams(params, "embeddings");
        const result = await http.json(embeddingSchema).post("embeddings", {
          json: params,
          signal: o.signal,
          headers: o.headers,
        });
        return {
          ...result,
          usage: usageOf(result.usage) ??
            { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        };
      },
    },
    models: {
      async list(o = {}) {
        const result = await http.json(modelsSchema).get("models", {
          signal: o.signal,
          headers: o.headers,
        });
        return result.data;
      },
    },
    proxy,
  };
}

/** Passes bytes through unchanged, reading the usage from a copy as they go. */
function usageTap(
  response: Response,
  onUsage: (usage: Usage) => void,
  max: number,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const sse = (response.headers.get("content-type") ?? "").includes("text/event-stream");
  let usage: Usage | undefined;
  let text = "";
  let size = 0;
  const parser = sse
    ? createSseParser((event) => {
      if (event.data === "[DONE]") return;
      try {
        const reported = usageOf((JSON.parse(event.data) as { usage?: unknown }).usage);
        if (reported !== undefined) usage = reported;
      } catch {
        // Not JSON: the client sees it as it is; there is no usage in it.
      }
    }, { maxEventSize: max })
    : undefined;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      size += chunk.byteLength;
      if (size > max && parser === undefined) return;
      const piece = decoder.decode(chunk, { stream: true });
      try {
        if (parser !== undefined) parser.feed(piece);
        else text += piece;
      } catch {
        // An oversized event: keep passing bytes through.
      }
    },
    flush() {
      if (parser === undefined && size <= max) {
        try {
          usage = usageOf((JSON.parse(text + decoder.decode()) as { usage?: unknown }).usage);
        } catch {
          usage = undefined;
        }
      }
      if (usage !== undefined) onUsage(usage);
    },
  });
}
