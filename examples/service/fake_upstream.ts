/**
 * A fake OpenAI-compatible model server, so the demo and the tests need no account: `GET
 * /v1/models`, and `POST /v1/chat/completions` answering a canned reply one token (one word) at
 * a time, whole or as Server-Sent Events with the final usage, honouring `max_tokens`. Prompt
 * tokens are counted as `ceil(bytes / 4) + 3` per message. It logs each request with the trace
 * id it received, and counts what it did (`stats`), so tests can see a cancelled stream stop.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { fromZod } from "@plinth/errors";
import { problemHandler } from "@plinth/errors/hono";
import type { Logger } from "@plinth/logging";
import { requestId } from "@plinth/logging/hono";
import { tracing } from "@plinth/tracing/hono";

const REPLY = (
  "plinth is the shared foundation of the platform : configuration , logging , errors , " +
  "PostgreSQL , events , authentication , authorisation , metrics , tracing , an HTTP client , " +
  "the shared models and the transactional outbox , each a package of its own ."
).split(" ");

const Body = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.string(), content: z.string() })).min(1),
  stream: z.boolean().optional(),
  max_tokens: z.number().int().positive().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
});

/** What the fake upstream has done. */
export interface FakeUpstreamStats {
  /** Chat completion requests received. */
  requests: number;
  /** Streams the client stopped reading before the end. */
  cancelled: number;
  /** Tokens sent in streams (whole answers not included). */
  streamedTokens: number;
  /** The `traceparent` of the last request. */
  lastTraceparent: string | null;
}

/** The fake upstream: its Hono app and counters. */
export interface FakeUpstream {
  readonly app: Hono;
  readonly stats: FakeUpstreamStats;
}

/** Prompt tokens of a conversation, as the fake upstream counts them. */
export function promptTokens(messages: readonly { content: string }[]): number {
  const encoder = new TextEncoder();
  return messages.reduce((n, m) => n + Math.ceil(encoder.encode(m.content).length / 4) + 3, 0);
}

/**
 * Makes the fake upstream.
 *
 * @param options `delayMs` between streamed tokens; the logger of its request lines.
 */
export function createFakeUpstream(
  options: { delayMs?: number; logger?: Logger } = {},
): FakeUpstream {
  const delay = options.delayMs ?? 5;
  const log = options.logger;
  const stats: FakeUpstreamStats = {
    requests: 0,
    cancelled: 0,
    streamedTokens: 0,
    lastTraceparent: null,
  };
  const app = new Hono();
  app.onError(problemHandler());
  app.use(requestId(), tracing());
  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: [{ id: "fake-small", object: "model", created: 1_764_547_200, owned_by: "plinth" }],
    }));
  app.post("/v1/chat/completions", async (c) => {
    const parsed = Body.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw fromZod(parsed.error);
    const body = parsed.data;
    stats.requests++;
    stats.lastTraceparent = c.req.header("traceparent") ?? null;
    const prompt = promptTokens(body.messages);
    const words = REPLY.slice(0, body.max_tokens ?? REPLY.length);
    log?.info("fake upstream: chat completion", {
      model: body.model,
      stream: body.stream === true,
      prompt_tokens: prompt,
      completion_tokens: words.length,
    });
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: words.length,
      total_tokens: prompt + words.length,
    };
    if (body.stream !== true) {
      return c.json({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: words.join(" ") },
          finish_reason: "stop",
        }],
        usage,
      });
    }
    const encoder = new TextEncoder();
    const signal = c.req.raw.signal;
    const chunk = (delta: Record<string, string>, finish: string | null) =>
      encoder.encode(
        `data: ${
          JSON.stringify({
            id,
            object: "chat.completion.chunk",
            created,
            model: body.model,
            choices: [{ index: 0, delta, finish_reason: finish }],
          })
        }\n\n`,
      );
    let stopped = false;
    // The client stopped reading (the body was cancelled) or went away (the request aborted):
    // counted once, whichever the runtime reports first.
    const stop = () => {
      if (!stopped) {
        stopped = true;
        stats.cancelled++;
      }
    };
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          controller.enqueue(chunk({ role: "assistant" }, null));
          for (let i = 0; i < words.length; i++) {
            if (delay > 0) await new Promise((r) => setTimeout(r, delay));
            if (stopped || signal.aborted) return;
            controller.enqueue(chunk({ content: (i === 0 ? "" : " ") + words[i] }, null));
            stats.streamedTokens++;
          }
          controller.enqueue(chunk({}, "stop"));
          if (body.stream_options?.include_usage === true) {
            controller.enqueue(
              encoder.encode(
                `data: ${
                  JSON.stringify({
                    id,
                    object: "chat.completion.chunk",
                    created,
                    model: body.model,
                    choices: [],
                    usage,
                  })
                }\n\n`,
              ),
            );
          }
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          stopped = true; // finished: a later abort of the request is not a cancellation
          controller.close();
        } catch {
          // The reader went away between two tokens.
        }
      },
      cancel: stop,
    });
    signal.addEventListener("abort", stop, { once: true });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });
  return { app, stats };
}
