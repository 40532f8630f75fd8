import { runWithContext } from "@plinth/logging";
import { extractTraceContext, withSpan } from "@plinth/tracing";
import type { EventMeta, EventSchema, SchemaIssue } from "./event_bus.ts";
import { backoffDelay, type BusLogger, type ResolvedSubscribe } from "./_options.ts";
import { contextFromHeaders, describeError, metaFromHeaders } from "./_envelope.ts";
import type { EventObservers } from "./_observers.ts";

/** One delivery of one event to a subscription, whatever the transport. */
export interface Delivery {
  readonly subject: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string;
  readonly deliveryCount: number;
  readonly stream: string;
  readonly sequence: number;
  ack(): void;
  nak(delay: number): void;
  term(): void;
}

/** Sends a dead letter: resolves once the dead-letter stream stored it. */
export type SendDeadLetter = (
  subject: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
  id: string,
) => Promise<void>;

/** What the dispatcher needs to know about the subscription. */
export interface DispatchTarget<T> {
  readonly options: ResolvedSubscribe<T>;
  readonly handler: (payload: T, meta: EventMeta) => void | Promise<void>;
  readonly logger: BusLogger;
  readonly deadLetterPrefix: string | undefined;
  readonly sendDeadLetter: SendDeadLetter;
  /** The bus's `onEvent()` listeners. */
  readonly observers?: EventObservers | undefined;
}

/** Why an event went to the dead-letter queue (the `dlq-reason` header). */
export type DeadLetterReason =
  | "handler_failed"
  | "handler_timeout"
  | "schema_violation"
  | "invalid_payload"
  | "max_deliver_exceeded";

const decoder = new TextDecoder();

function issueText(issue: SchemaIssue): string {
  const path = (issue.path ?? []).map((p) =>
    typeof p === "object" && p !== null ? String(p.key) : String(p)
  ).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}

/** Validates `value`: the (possibly transformed) value, or the issues as `path: message`. */
export async function validate<T>(
  schema: EventSchema<T>,
  value: unknown,
): Promise<{ ok: true; value: T } | { ok: false; issues: string[] }> {
  let result = schema["~standard"].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues !== undefined) return { ok: false, issues: result.issues.map(issueText) };
  return { ok: true, value: result.value };
}

function logFields(delivery: Delivery, durable: string, id: string): Record<string, unknown> {
  return {
    subject: delivery.subject,
    event_id: id,
    stream: delivery.stream,
    stream_seq: delivery.sequence,
    delivery_count: delivery.deliveryCount,
    durable,
  };
}

async function deadLetter<T>(
  delivery: Delivery,
  target: DispatchTarget<T>,
  id: string,
  reason: DeadLetterReason,
  error: unknown,
): Promise<void> {
  const { logger, options } = target;
  const fields = { ...logFields(delivery, options.durable, id), reason };
  if (target.deadLetterPrefix === undefined) {
    delivery.term();
    observeDeadLetter(target, delivery.subject, reason);
    logger.error("Event dropped: it failed and no dead-letter queue is configured", {
      ...fields,
      err: error,
    });
    return;
  }
  const headers: Record<string, string> = { ...delivery.headers };
  delete headers["nats-msg-id"];
  headers["dlq-reason"] = reason;
  headers["dlq-error"] = describeError(error);
  headers["dlq-delivery-count"] = String(delivery.deliveryCount);
  headers["dlq-subject"] = delivery.subject;
  headers["dlq-stream"] = delivery.stream;
  headers["dlq-sequence"] = String(delivery.sequence);
  headers["dlq-durable"] = options.durable;
  headers["dlq-time"] = new Date().toISOString();
  const subject = `${target.deadLetterPrefix}.${delivery.subject}`;
  try {
    await target.sendDeadLetter(subject, delivery.body, headers, `dlq:${options.durable}:${id}`);
  } catch (sendError) {
    const delay = options.backoff[options.backoff.length - 1]!;
    delivery.nak(delay);
    logger.error("Cannot dead-letter event: will retry", {
      ...fields,
      err: sendError,
      dlq_subject: subject,
      retry_in_ms: delay,
    });
    return;
  }
  delivery.term();
  observeDeadLetter(target, delivery.subject, reason);
  logger.error("Event sent to the dead-letter queue", {
    ...fields,
    dlq_subject: subject,
    err: error,
  });
}

function observeDeadLetter<T>(target: DispatchTarget<T>, subject: string, reason: string): void {
  if (target.observers?.active !== true) return;
  target.observers.emit({
    kind: "dead_lettered",
    subject,
    durable: target.options.durable,
    reason,
  });
}

/**
 * Processes one delivery: parse, then validate, deduplicate and run the handler inside the
 * event's logging context (the three bounded together by `handlerTimeout`), then ack, nak with
 * backoff or dead-letter. All of it runs in a CONSUMER span under the event's trace, so every
 * line it logs carries the publisher's trace id. Never throws.
 */
export function dispatch<T>(delivery: Delivery, target: DispatchTarget<T>): Promise<void> {
  const headers = delivery.headers;
  const id = headers["ce-id"] ?? headers["nats-msg-id"] ??
    `${delivery.stream}:${delivery.sequence}`;
  return runTraced(
    delivery,
    target.options.durable,
    id,
    () => processDelivery(delivery, target, id),
  );
}

async function processDelivery<T>(
  delivery: Delivery,
  target: DispatchTarget<T>,
  id: string,
): Promise<void> {
  const { logger, options } = target;
  const headers = delivery.headers;
  const debug = logger.isLevelEnabled("debug");
  if (debug) logger.debug("Event received", logFields(delivery, options.durable, id));
  if (delivery.deliveryCount > options.maxDeliver) {
    const error = new Error(
      `Delivered ${delivery.deliveryCount} times, more than maxDeliver ${options.maxDeliver}`,
    );
    return await deadLetter(delivery, target, id, "max_deliver_exceeded", error);
  }
  let payload: unknown;
  try {
    const text = typeof delivery.body === "string" ? delivery.body : decoder.decode(delivery.body);
    payload = JSON.parse(text);
  } catch (error) {
    return await deadLetter(delivery, target, id, "invalid_payload", error);
  }
  const controller = new AbortController();
  const meta = metaFromHeaders(
    headers,
    delivery.subject,
    delivery.deliveryCount,
    delivery.stream,
    delivery.sequence,
    controller.signal,
  );
  await runWithContext(contextFromHeaders(headers), async () => {
    const started = performance.now();
    const outcome = await runHandler(target, payload, meta, controller);
    if (outcome.kind === "invalid") {
      const error = new Error(`Payload does not match the schema: ${outcome.issues.join("; ")}`);
      return await deadLetter(delivery, target, id, "schema_violation", error);
    }
    const observers = target.observers;
    if (observers?.active === true && outcome.kind !== "skipped") {
      const subject = delivery.subject;
      const duration = performance.now() - started;
      observers.emit(
        outcome.kind === "handled"
          ? { kind: "handled", subject, durable: options.durable, duration }
          : {
            kind: "failed",
            subject,
            durable: options.durable,
            duration,
            timedOut: outcome.kind === "timed_out",
          },
      );
    }
    if (outcome.kind === "skipped" || outcome.kind === "handled") {
      delivery.ack();
      if (!debug) return;
      const fields = logFields(delivery, options.durable, id);
      if (outcome.kind === "skipped") {
        logger.debug("Event skipped: already processed", {
          ...fields,
          idempotency_key: outcome.key,
        });
      } else {
        logger.debug("Event handled", {
          ...fields,
          duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        });
      }
      return;
    }
    const timedOut = outcome.kind === "timed_out";
    if (delivery.deliveryCount >= options.maxDeliver) {
      const reason = timedOut ? "handler_timeout" : "handler_failed";
      return await deadLetter(delivery, target, id, reason, outcome.error);
    }
    const delay = backoffDelay(options.backoff, delivery.deliveryCount);
    delivery.nak(delay);
    const fields = {
      ...logFields(delivery, options.durable, id),
      error: describeError(outcome.error),
      retry_in_ms: delay,
    };
    if (timedOut) {
      logger.warn("Event handler timed out: will retry", {
        ...fields,
        timeout_ms: options.handlerTimeout,
      });
    } else {
      logger.warn("Event handler failed: will retry", fields);
    }
  });
}

/**
 * Runs `fn` with the delivery's request id in the logging context, in a CONSUMER span that is a
 * child of the publisher's (the event's `traceparent`), with OpenTelemetry messaging attributes.
 */
function runTraced(
  delivery: Delivery,
  durable: string,
  id: string,
  fn: () => Promise<void>,
): Promise<void> {
  const headers = delivery.headers;
  return runWithContext(
    contextFromHeaders(headers),
    () =>
      withSpan(`process ${delivery.subject}`, fn, {
        kind: "consumer",
        parent: extractTraceContext(headers) ?? null,
        attributes: {
          "messaging.system": "nats",
          "messaging.operation.type": "process",
          "messaging.destination.name": delivery.subject,
          "messaging.consumer.group.name": durable,
          "messaging.message.id": id,
        },
      }),
  );
}

/** How a handler run ended. */
type Outcome =
  | { readonly kind: "invalid"; readonly issues: readonly string[] }
  | { readonly kind: "handled" }
  | { readonly kind: "skipped"; readonly key: string }
  | { readonly kind: "failed"; readonly error: unknown }
  | { readonly kind: "timed_out"; readonly error: Error };

/**
 * Runs the schema validation (which may be asynchronous), the idempotency check and the
 * handler, bounded together by `handlerTimeout`. At the timeout it aborts `meta.signal` and
 * resolves `timed_out`; what happens afterwards is ignored (the key is not recorded, a result
 * or an error is dropped).
 */
function runHandler<T>(
  target: DispatchTarget<T>,
  parsed: unknown,
  meta: EventMeta,
  controller: AbortController,
): Promise<Outcome> {
  const { options } = target;
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const work = (async (): Promise<Outcome> => {
    let payload = parsed as T;
    if (options.schema !== undefined) {
      let result: Awaited<ReturnType<typeof validate<T>>>;
      try {
        result = await validate(options.schema, parsed);
      } catch (error) {
        result = { ok: false, issues: [describeError(error)] };
      }
      if (!result.ok) return { kind: "invalid", issues: result.issues };
      payload = result.value;
    }
    let key: string | undefined;
    if (options.idempotency !== undefined) {
      key = `${options.durable}:${options.idempotency.key(payload, meta)}`;
      if (await options.idempotency.store.has(key)) return { kind: "skipped", key };
    }
    await target.handler(payload, meta);
    if (key !== undefined && !expired) {
      await options.idempotency!.store.set(key, options.idempotency!.ttl);
    }
    return { kind: "handled" };
  })().catch((error: unknown): Outcome => ({ kind: "failed", error }));
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      const error = new DOMException(
        `Event handler timed out after ${options.handlerTimeout} ms`,
        "TimeoutError",
      );
      resolve({ kind: "timed_out", error });
      controller.abort(error);
    }, options.handlerTimeout);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
