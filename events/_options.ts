import { log } from "@plinth/logging";
import type {
  DeliverPolicy,
  EventBusOptions,
  EventHandler,
  EventLogger,
  EventMeta,
  EventSchema,
  StreamOptions,
  StreamRetention,
  StreamStorage,
  SubscribeOptions,
} from "./event_bus.ts";
import type { IdempotencyStore } from "./idempotency.ts";
import { checkSubscribeSubject, isName, subjectProblem } from "./_subject.ts";

/** A stream with every field filled in. */
export interface ResolvedStream {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly storage: StreamStorage;
  readonly retention: StreamRetention;
  readonly maxAge: number;
  readonly replicas: number;
  readonly duplicateWindow: number;
}

/** The dead-letter settings with every field filled in. */
export interface ResolvedDeadLetter {
  readonly stream: string;
  readonly prefix: string;
}

/** The bus's logger, with `isLevelEnabled` always there. */
export interface BusLogger extends EventLogger {
  isLevelEnabled(level: "debug" | "info" | "warn" | "error"): boolean;
}

/** Bus options with every field filled in. */
export interface ResolvedBusOptions {
  readonly source: string;
  readonly streams: readonly ResolvedStream[];
  readonly deadLetter: ResolvedDeadLetter | undefined;
  readonly logger: BusLogger;
  readonly closeTimeout: number;
}

/** Subscribe options with every field filled in. */
export interface ResolvedSubscribe<T> {
  readonly durable: string;
  readonly concurrency: number;
  readonly ackWait: number;
  readonly handlerTimeout: number;
  readonly maxDeliver: number;
  readonly backoff: readonly number[];
  readonly schema: EventSchema<T> | undefined;
  readonly deliverPolicy: DeliverPolicy;
  readonly idempotency:
    | {
      readonly key: (payload: T, meta: EventMeta) => string;
      readonly store: IdempotencyStore;
      readonly ttl: number;
    }
    | undefined;
  readonly stream: string | undefined;
}

/** Throws a `RangeError` unless `value` is a whole number of milliseconds within bounds. */
export function checkMillis(
  value: unknown,
  name: string,
  action: string,
  min = 0,
  max = 2_147_483_647,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${action}: ${name} must be an integer number of milliseconds from ${min} to ${max}`,
    );
  }
  return value;
}

/** Throws a `RangeError` unless `value` is an integer within bounds. */
export function checkInt(
  value: unknown,
  name: string,
  action: string,
  min: number,
  max: number,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${action}: ${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function checkSchema<T>(schema: unknown, name: string, action: string): EventSchema<T> | undefined {
  if (schema === undefined) return undefined;
  const standard = typeof schema === "object" && schema !== null
    ? (schema as { "~standard"?: { validate?: unknown } })["~standard"]
    : undefined;
  if (typeof standard?.validate !== "function") {
    throw new TypeError(`${action}: ${name} must be a Standard Schema (such as a zod schema)`);
  }
  return schema as EventSchema<T>;
}

/** Throws unless `schema` is undefined or a Standard Schema. */
export function checkPublishSchema<T>(schema: unknown, action: string): EventSchema<T> | undefined {
  return checkSchema<T>(schema, "schema", action);
}

const STORAGES: readonly string[] = ["file", "memory"];
const RETENTIONS: readonly string[] = ["limits", "interest", "workqueue"];

function resolveStream(stream: StreamOptions, index: number, action: string): ResolvedStream {
  const where = `streams[${index}]`;
  if (typeof stream !== "object" || stream === null) {
    throw new TypeError(`${action}: ${where} must be an object`);
  }
  if (!isName(stream.name)) {
    throw new TypeError(
      `${action}: ${where}.name must be 1 to 200 letters, digits, "_" or "-"`,
    );
  }
  if (!Array.isArray(stream.subjects) || stream.subjects.length === 0) {
    throw new TypeError(`${action}: ${where}.subjects must be a non-empty array`);
  }
  for (const subject of stream.subjects) {
    const problem = subjectProblem(subject, true);
    if (problem !== undefined) {
      throw new TypeError(`${action}: ${where}.subjects: ${JSON.stringify(subject)} ${problem}`);
    }
  }
  const storage = stream.storage ?? "file";
  if (!STORAGES.includes(storage)) {
    throw new TypeError(`${action}: ${where}.storage must be "file" or "memory"`);
  }
  const retention = stream.retention ?? "limits";
  if (!RETENTIONS.includes(retention)) {
    throw new TypeError(
      `${action}: ${where}.retention must be "limits", "interest" or "workqueue"`,
    );
  }
  return Object.freeze({
    name: stream.name,
    subjects: Object.freeze([...stream.subjects]),
    storage,
    retention,
    maxAge: checkMillis(stream.maxAge ?? 0, `${where}.maxAge`, action, 0, Number.MAX_SAFE_INTEGER),
    replicas: checkInt(stream.replicas ?? 1, `${where}.replicas`, action, 1, 5),
    duplicateWindow: checkMillis(
      stream.duplicateWindow ?? 120_000,
      `${where}.duplicateWindow`,
      action,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
  });
}

const LOGGER_METHODS = ["debug", "info", "warn", "error"] as const;

/**
 * Checks that `logger` has `debug`, `info`, `warn` and `error` methods; when it has no
 * `isLevelEnabled`, returns a logger that delegates to it and counts every level as enabled.
 */
function resolveLogger(logger: unknown, action: string): BusLogger {
  const methods = logger as Record<string, unknown>;
  if (
    typeof logger !== "object" || logger === null ||
    LOGGER_METHODS.some((name) => typeof methods[name] !== "function")
  ) {
    throw new TypeError(`${action}: logger must have debug, info, warn and error methods`);
  }
  const given = logger as EventLogger;
  if (typeof given.isLevelEnabled === "function") return given as BusLogger;
  if (given.isLevelEnabled !== undefined) {
    throw new TypeError(`${action}: logger.isLevelEnabled must be a function when present`);
  }
  return Object.freeze({
    debug: given.debug.bind(given),
    info: given.info.bind(given),
    warn: given.warn.bind(given),
    error: given.error.bind(given),
    isLevelEnabled: () => true,
  });
}

/** Validates the options both buses share and fills in the defaults. */
export function resolveBusOptions(options: EventBusOptions, action: string): ResolvedBusOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options must be an object`);
  }
  const source = options.source ?? "unknown_service";
  if (typeof source !== "string" || source === "" || /[\r\n]/.test(source)) {
    throw new TypeError(`${action}: source must be a non-empty string without CR or LF`);
  }
  const given = options.streams ?? [];
  if (!Array.isArray(given)) throw new TypeError(`${action}: streams must be an array`);
  const streams = given.map((s: StreamOptions, i: number) => resolveStream(s, i, action));
  let deadLetter: ResolvedDeadLetter | undefined;
  if (options.deadLetter !== false) {
    const dl = options.deadLetter ?? {};
    if (typeof dl !== "object" || dl === null) {
      throw new TypeError(`${action}: deadLetter must be an object or false`);
    }
    const prefix = dl.prefix ?? "dlq";
    if (!isName(prefix)) {
      throw new TypeError(`${action}: deadLetter.prefix must be letters, digits, "_" or "-"`);
    }
    const stream = resolveStream(
      {
        name: dl.stream ?? "DLQ",
        subjects: [`${prefix}.>`],
        maxAge: dl.maxAge ?? 0,
        storage: dl.storage ?? "file",
      },
      streams.length,
      action,
    );
    streams.push(stream);
    deadLetter = Object.freeze({ stream: stream.name, prefix });
  }
  const names = new Set<string>();
  for (const stream of streams) {
    if (names.has(stream.name)) {
      throw new TypeError(`${action}: stream ${stream.name} is configured twice`);
    }
    names.add(stream.name);
  }
  return Object.freeze({
    source,
    streams: Object.freeze(streams),
    deadLetter,
    logger: resolveLogger(options.logger ?? log, action),
    closeTimeout: checkMillis(options.closeTimeout ?? 10_000, "closeTimeout", action),
  });
}

/** Validates the arguments of `subscribe()` and fills in the defaults. */
export function resolveSubscribe<T>(
  subject: string,
  handler: EventHandler<T>,
  options: SubscribeOptions<T>,
  defaultStore: IdempotencyStore,
): ResolvedSubscribe<T> {
  const action = `Cannot subscribe to "${String(subject)}"`;
  checkSubscribeSubject(subject, "Cannot subscribe");
  if (typeof handler !== "function") throw new TypeError(`${action}: handler must be a function`);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options with a durable name are required`);
  }
  if (!isName(options.durable)) {
    throw new TypeError(`${action}: durable must be 1 to 200 letters, digits, "_" or "-"`);
  }
  const backoff = options.backoff ?? [1000, 5000, 30_000];
  if (!Array.isArray(backoff) || backoff.length === 0) {
    throw new RangeError(`${action}: backoff must be a non-empty array of milliseconds`);
  }
  backoff.forEach((delay: unknown, i: number) => checkMillis(delay, `backoff[${i}]`, action));
  const deliverPolicy = options.deliverPolicy ?? "all";
  if (deliverPolicy !== "all" && deliverPolicy !== "new") {
    throw new TypeError(`${action}: deliverPolicy must be "all" or "new"`);
  }
  if (options.stream !== undefined && !isName(options.stream)) {
    throw new TypeError(`${action}: stream must be letters, digits, "_" or "-"`);
  }
  let idempotency: ResolvedSubscribe<T>["idempotency"];
  if (options.idempotencyKey !== undefined) {
    if (typeof options.idempotencyKey !== "function") {
      throw new TypeError(`${action}: idempotencyKey must be a function`);
    }
    const store = options.idempotencyStore ?? defaultStore;
    if (typeof store?.has !== "function" || typeof store.set !== "function") {
      throw new TypeError(`${action}: idempotencyStore must have has() and set()`);
    }
    idempotency = {
      key: options.idempotencyKey,
      store,
      ttl: checkMillis(options.idempotencyTtl ?? 86_400_000, "idempotencyTtl", action, 1),
    };
  }
  const ackWait = checkMillis(options.ackWait ?? 30_000, "ackWait", action, 100);
  const handlerTimeout = options.handlerTimeout === undefined
    ? defaultHandlerTimeout(ackWait)
    : checkMillis(options.handlerTimeout, "handlerTimeout", action, 1);
  return Object.freeze({
    durable: options.durable,
    concurrency: checkInt(options.concurrency ?? 1, "concurrency", action, 1, 10_000),
    ackWait,
    handlerTimeout,
    maxDeliver: checkInt(options.maxDeliver ?? 5, "maxDeliver", action, 1, 1000),
    backoff: Object.freeze([...backoff]),
    schema: checkSchema<T>(options.schema, "schema", action),
    deliverPolicy,
    idempotency,
    stream: options.stream,
  });
}

/**
 * The handler timeout for an `ackWait`: a tenth (at most a second) below it, so the bus naks
 * a stuck delivery before the server redelivers it.
 */
export function defaultHandlerTimeout(ackWait: number): number {
  return ackWait - Math.min(Math.ceil(ackWait / 10), 1000);
}

/** The delay before redelivery after the `deliveryCount`-th failure. */
export function backoffDelay(backoff: readonly number[], deliveryCount: number): number {
  return backoff[Math.min(Math.max(deliveryCount, 1), backoff.length) - 1]!;
}
