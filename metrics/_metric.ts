// The metric handles a Metrics hands out. Counters and gauges keep their series in their own
// cells (the cardinality guard's table) and register on the prom-client registry as metrics of
// its public shape (`name`, `help`, `type`, `get()`, `reset()`), so prom-client renders them
// while a sample costs one table lookup and one addition. Histograms are prom-client's own,
// fed canonical labels. Values are checked here: a RangeError, never prom-client's Error.
import type client from "prom-client";
import { type Cell, SeriesTable } from "./_series.ts";
import type { Counter, Gauge, Histogram } from "./metric_types.ts";

/** Called with the metric's name when a new label set is dropped. */
export type OnDrop = (metric: string) => void;

/** What every metric handle is built from. */
export interface Common {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  readonly registry: client.Registry;
  readonly onDrop: OnDrop;
}

function valueError(name: string, counter: boolean): RangeError {
  return new RangeError(
    `Cannot record metric "${name}": the value must be a finite number${
      counter ? " ≥ 0 (a counter only goes up)" : ""
    }`,
  );
}

function noLabels(name: string): TypeError {
  return new TypeError(`Cannot record metric "${name}": it has no labels`);
}

/** A counter's or gauge's series, registered on prom-client's registry. */
class StoredMetric {
  name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly aggregator = "sum";
  readonly labelNames: readonly string[];
  readonly #table: SeriesTable | undefined;
  #single: Cell;
  readonly #collect: (() => void | Promise<void>) | undefined;

  constructor(
    common: Common,
    type: "counter" | "gauge",
    collect?: () => void | Promise<void>,
  ) {
    this.name = common.name;
    this.help = common.help;
    this.type = type;
    this.labelNames = common.labelNames;
    this.#table = common.labelNames.length === 0 ? undefined : new SeriesTable<Cell>(
      common.name,
      common.labelNames,
      common.maxSeries,
      (labels) => ({ value: 0, labels }),
    );
    this.#single = { value: 0, labels: {} };
    this.#collect = collect;
    common.registry.registerMetric(this as unknown as client.Metric);
  }

  /** The cell for a sample's arguments; undefined when the set was dropped. */
  cell(labels: unknown): Cell | undefined {
    return this.#table === undefined ? this.#single : this.#table.find(labels);
  }

  get table(): SeriesTable | undefined {
    return this.#table;
  }

  /** prom-client's registry reads this at each render. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: Cell[];
    aggregator: string;
  }> {
    if (this.#collect !== undefined) await this.#collect();
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.#table === undefined ? [this.#single] : [...this.#table.cells],
      aggregator: this.aggregator,
    };
  }

  /** `registry.resetMetrics()`: forgets every series. */
  reset(): void {
    this.#single = { value: 0, labels: {} };
    this.#table?.clear();
  }
}

/** A checked counter. */
export function makeCounter<L extends readonly string[]>(common: Common): Counter<L> {
  const metric = new StoredMetric(common, "counter");
  const { name, onDrop } = common;
  const inc = metric.table === undefined
    ? (a?: unknown, b?: unknown): void => {
      if (b !== undefined || (typeof a === "object" && a !== null)) throw noLabels(name);
      const value = a === undefined ? 1 : a;
      if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
        throw valueError(name, true);
      }
      metric.cell(undefined)!.value += value;
    }
    : (a?: unknown, b?: unknown): void => {
      const value = b === undefined ? 1 : b;
      if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
        throw valueError(name, true);
      }
      const cell = metric.cell(a);
      if (cell === undefined) onDrop(name);
      else cell.value += value;
    };
  return Object.freeze({ name, labelNames: common.labelNames as L, inc }) as unknown as Counter<L>;
}

type Apply = (cell: Cell, value: number) => void;

/** A checked gauge; `collect` runs at each render. */
export function makeGauge<L extends readonly string[]>(
  common: Common,
  collect?: (gauge: Gauge<L>) => void | Promise<void>,
): Gauge<L> {
  const ref: { gauge?: Gauge<L> } = {};
  const metric = new StoredMetric(
    common,
    "gauge",
    collect === undefined ? undefined : () => collect(ref.gauge!),
  );
  const { name, onDrop } = common;
  const labelled = metric.table !== undefined;
  const operation = (fallback: number | undefined, apply: Apply) =>
    labelled
      ? (a?: unknown, b?: unknown): void => {
        const value = b === undefined ? fallback : b;
        if (typeof value !== "number" || !Number.isFinite(value)) throw valueError(name, false);
        const cell = metric.cell(a);
        if (cell === undefined) onDrop(name);
        else apply(cell, value);
      }
      : (a?: unknown, b?: unknown): void => {
        if (b !== undefined || (typeof a === "object" && a !== null)) throw noLabels(name);
        const value = a === undefined ? fallback : a;
        if (typeof value !== "number" || !Number.isFinite(value)) throw valueError(name, false);
        apply(metric.cell(undefined)!, value);
      };
  const handle = Object.freeze({
    name,
    labelNames: common.labelNames as L,
    set: operation(undefined, (cell, value) => void (cell.value = value)),
    inc: operation(1, (cell, value) => void (cell.value += value)),
    dec: operation(1, (cell, value) => void (cell.value -= value)),
  }) as unknown as Gauge<L>;
  ref.gauge = handle;
  return handle;
}

/** One series of a histogram: counts per bucket (not cumulative; the last is above all). */
interface HistogramCell {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName: string;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A histogram's series, registered on prom-client's registry with what its own Histogram gives
 * the registry (`getForPromString()`: one value per bucket with its `le`, then `+Inf`, `_sum` and
 * `_count`, the series' labels as shared labels), so the page is the same as prom-client's.
 */
class HistogramMetric {
  name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly labelNames: readonly string[];
  readonly #bounds: readonly number[];
  readonly #les: readonly Readonly<Record<string, string | number>>[];
  readonly #table: SeriesTable<HistogramCell> | undefined;
  #single: HistogramCell;

  constructor(common: Common, bounds: readonly number[]) {
    this.name = common.name;
    this.help = common.help;
    this.labelNames = common.labelNames;
    this.#bounds = bounds;
    this.#les = [...bounds.map((le) => Object.freeze({ le })), Object.freeze({ le: "+Inf" })];
    const make = (labels: Readonly<Record<string, string>>): HistogramCell => ({
      labels,
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
    });
    this.#table = common.labelNames.length === 0
      ? undefined
      : new SeriesTable<HistogramCell>(common.name, common.labelNames, common.maxSeries, make);
    this.#single = make(NO_LABELS);
    common.registry.registerMetric(this as unknown as client.Metric);
  }

  get table(): SeriesTable<HistogramCell> | undefined {
    return this.#table;
  }

  observe(cell: HistogramCell, value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    cell.counts[i]!++;
    cell.sum += value;
    cell.count++;
  }

  single(): HistogramCell {
    return this.#single;
  }

  /** What prom-client's registry renders. */
  getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    values: ExportedValue[];
    aggregator: string;
  }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    const sum = `${this.name}_sum`;
    const count = `${this.name}_count`;
    const cells = this.#table === undefined ? [this.#single] : this.#table.cells;
    const les = this.#les;
    for (const cell of cells) {
      const shared = cell.labels;
      let acc = 0;
      for (let i = 0; i < les.length; i++) {
        acc += cell.counts[i]!;
        values.push({ labels: les[i]!, sharedLabels: shared, value: acc, metricName: bucket });
      }
      values.push({ labels: NO_LABELS, sharedLabels: shared, value: cell.sum, metricName: sum });
      values.push({
        labels: NO_LABELS,
        sharedLabels: shared,
        value: cell.count,
        metricName: count,
      });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  /** `registry.getMetricsAsJSON()`: each value's labels with the series' labels in. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
    aggregator: string;
  }> {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map((v) => ({
        labels: { ...v.labels, ...v.sharedLabels },
        value: v.value,
        metricName: v.metricName,
      })),
    };
  }

  /** `registry.resetMetrics()`: forgets every series. */
  reset(): void {
    this.#single = {
      labels: NO_LABELS,
      counts: new Float64Array(this.#bounds.length + 1),
      sum: 0,
      count: 0,
    };
    this.#table?.clear();
  }
}

/** A checked histogram. */
export function makeHistogram<L extends readonly string[]>(
  common: Common,
  buckets: readonly number[],
): Histogram<L> {
  const metric = new HistogramMetric(common, buckets);
  const { name, onDrop } = common;
  const table = metric.table;
  const observe = table === undefined
    ? (a?: unknown, b?: unknown): void => {
      if (b !== undefined || (typeof a === "object" && a !== null)) throw noLabels(name);
      if (typeof a !== "number" || !Number.isFinite(a)) throw valueError(name, false);
      metric.observe(metric.single(), a);
    }
    : (a?: unknown, b?: unknown): void => {
      if (typeof b !== "number" || !Number.isFinite(b)) throw valueError(name, false);
      const cell = table.find(a);
      if (cell === undefined) onDrop(name);
      else metric.observe(cell, b);
    };
  return Object.freeze({
    name,
    labelNames: common.labelNames as L,
    buckets,
    observe,
  }) as unknown as Histogram<L>;
}
