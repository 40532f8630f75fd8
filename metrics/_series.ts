// The cardinality guard and the value store of a metric's series: every label set the metric
// has seen, in one nested Map per label (no string is built per sample), each leading to one
// cell holding the series' canonical labels and its values. A new set past `max` is refused,
// and the caller counts the drop.

/** One series of a counter or gauge: its value and its canonical labels. */
export interface Cell {
  value: number;
  readonly labels: Readonly<Record<string, string>>;
}

type Node<C> = Map<string, Node<C> | C>;

/** The label sets of one metric, and their cells (made by `make` on first sight). */
export class SeriesTable<C extends { readonly labels: Readonly<Record<string, string>> } = Cell> {
  readonly #metric: string;
  readonly #names: readonly string[];
  readonly #max: number;
  readonly #make: (labels: Readonly<Record<string, string>>) => C;
  #root: Node<C> = new Map();
  #cells: C[] = [];

  constructor(
    metric: string,
    names: readonly string[],
    max: number,
    make: (labels: Readonly<Record<string, string>>) => C,
  ) {
    this.#metric = metric;
    this.#names = names;
    this.#max = max;
    this.#make = make;
  }

  /** How many label sets the metric holds. */
  get size(): number {
    return this.#cells.length;
  }

  /** Every cell, in creation order. */
  get cells(): readonly C[] {
    return this.#cells;
  }

  /** Forgets every series. */
  clear(): void {
    this.#root = new Map();
    this.#cells = [];
  }

  /**
   * The cell of `labels`, made on first sight; `undefined` when the set is new and the table is
   * full. Throws a TypeError for labels that are not exactly the metric's.
   */
  find(labels: unknown): C | undefined {
    if (typeof labels !== "object" || labels === null) {
      throw new TypeError(
        `Cannot record metric "${this.#metric}": labels must be an object with ${this.#list()}`,
      );
    }
    const record = labels as Record<string, unknown>;
    const names = this.#names;
    let keys = 0;
    for (const _ in record) keys++;
    if (keys !== names.length) this.#unknown(record);
    const last = names.length - 1;
    let node = this.#root;
    for (let i = 0; i < last; i++) {
      const value = this.#value(record, names[i]!);
      let next = node.get(value) as Node<C> | undefined;
      if (next === undefined) {
        if (this.#cells.length >= this.#max) return undefined;
        next = new Map();
        node.set(value, next);
      }
      node = next;
    }
    const value = this.#value(record, names[last]!);
    const found = node.get(value) as C | undefined;
    if (found !== undefined) return found;
    if (this.#cells.length >= this.#max) return undefined;
    const canonical: Record<string, string> = {};
    for (const name of names) canonical[name] = this.#value(record, name);
    const cell = this.#make(Object.freeze(canonical));
    node.set(value, cell);
    this.#cells.push(cell);
    return cell;
  }

  #value(record: Record<string, unknown>, name: string): string {
    const value = record[name];
    if (typeof value === "string") return value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (value === undefined) {
      this.#unknown(record);
      throw new TypeError(`Cannot record metric "${this.#metric}": label "${name}" is missing`);
    }
    throw new TypeError(
      `Cannot record metric "${this.#metric}": label "${name}" must be a string or a finite number`,
    );
  }

  #unknown(record: Record<string, unknown>): void {
    for (const key in record) {
      if (!this.#names.includes(key)) {
        throw new TypeError(
          `Cannot record metric "${this.#metric}": unknown label "${
            key.slice(0, 64)
          }" (expected ${this.#list()})`,
        );
      }
    }
  }

  #list(): string {
    return this.#names.length === 0 ? "no labels" : this.#names.map((n) => `"${n}"`).join(", ");
  }
}
