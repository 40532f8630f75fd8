// Checks of metric names, label names, help texts and buckets, shared by the metric factories.
// Every failure is a TypeError or RangeError naming the metric and the rule it breaks, raised
// when the metric is created, so that nothing malformed ever reaches the exposition text.

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The kinds of metric a {@linkcode Metrics} creates. */
export type MetricKind = "counter" | "gauge" | "histogram";

/** Throws unless `name` is a valid metric name for `kind` (promtool's naming rules included). */
export function checkMetricName(kind: MetricKind, name: unknown): asserts name is string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `Cannot create ${kind}: option name must match ${NAME.source}, got ${describe(name)}`,
    );
  }
  if (name.startsWith("__")) {
    throw new TypeError(`Cannot create ${kind} "${name}": names starting with "__" are reserved`);
  }
  if (kind === "counter" && !name.endsWith("_total")) {
    throw new TypeError(`Cannot create counter "${name}": a counter's name must end in "_total"`);
  }
  if (kind !== "counter" && name.endsWith("_total")) {
    throw new TypeError(
      `Cannot create ${kind} "${name}": only a counter's name may end in "_total"`,
    );
  }
  if (kind === "histogram" && /_(bucket|count|sum)$/.test(name)) {
    throw new TypeError(
      `Cannot create histogram "${name}": the suffixes _bucket, _count and _sum are its series'`,
    );
  }
}

/** Throws unless `help` is a non-empty string. */
export function checkHelp(kind: MetricKind, name: string, help: unknown): asserts help is string {
  if (typeof help !== "string" || help.trim() === "") {
    throw new TypeError(`Cannot create ${kind} "${name}": option help must be a non-empty string`);
  }
}

/** Checks a label name list and returns a frozen copy. */
export function checkLabelNames(
  kind: MetricKind,
  name: string,
  labelNames: unknown,
): readonly string[] {
  if (labelNames === undefined) return Object.freeze([]);
  if (!Array.isArray(labelNames)) {
    throw new TypeError(`Cannot create ${kind} "${name}": option labelNames must be an array`);
  }
  const seen = new Set<string>();
  for (const label of labelNames as unknown[]) {
    checkLabelName(`Cannot create ${kind} "${name}"`, label);
    if (kind === "histogram" && label === "le") {
      throw new TypeError(`Cannot create histogram "${name}": label "le" is the bucket's own`);
    }
    if (seen.has(label)) {
      throw new TypeError(`Cannot create ${kind} "${name}": label "${label}" is listed twice`);
    }
    seen.add(label);
  }
  return Object.freeze([...seen]);
}

/** Throws unless `label` is a valid label name that does not start with `__`. */
export function checkLabelName(context: string, label: unknown): asserts label is string {
  if (typeof label !== "string" || !NAME.test(label)) {
    throw new TypeError(
      `${context}: label names must match ${NAME.source}, got ${describe(label)}`,
    );
  }
  if (label.startsWith("__")) {
    throw new TypeError(`${context}: label "${label}" starts with "__", which is reserved`);
  }
}

/** Checks histogram buckets (finite, strictly increasing, at least one) and returns a copy. */
export function checkBuckets(name: string, buckets: unknown): readonly number[] {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new TypeError(
      `Cannot create histogram "${name}": option buckets must be a non-empty array`,
    );
  }
  let previous = -Infinity;
  for (const bound of buckets as unknown[]) {
    if (typeof bound !== "number" || !Number.isFinite(bound)) {
      throw new RangeError(
        `Cannot create histogram "${name}": bucket bounds must be finite numbers (+Inf is implied)`,
      );
    }
    if (bound <= previous) {
      throw new RangeError(
        `Cannot create histogram "${name}": bucket bounds must be strictly increasing`,
      );
    }
    previous = bound;
  }
  return Object.freeze([...(buckets as number[])]);
}

/** Checks a `maxSeries` value. */
export function checkMaxSeries(context: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${context}: option maxSeries must be a positive integer`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value.slice(0, 64)) : typeof value;
}
