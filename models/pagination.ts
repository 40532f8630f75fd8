/**
 * A page of a keyset listing: the rows, and the cursor of the next page (`null` on the last).
 *
 * @example
 * ```ts
 * import type { Page } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const page: Page<{ id: string }> = { items: [], next: null };
 * assert.equal(page.next, null);
 * ```
 */
export interface Page<T> {
  /** The rows, ordered by id. */
  items: T[];
  /** Pass as `after` for the next page; `null` when this page is the last. */
  next: string | null;
}

/**
 * Options of the keyset listings (`listOrganizations()`, `listUsers()`).
 *
 * @example
 * ```ts
 * import type { ListOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const options: ListOptions = { limit: 20 };
 * assert.equal(options.after, undefined);
 * ```
 */
export interface ListOptions {
  /** The `next` of the previous page. @default {undefined (the first page)} */
  readonly after?: string | null | undefined;
  /** Rows per page, 1 to 1000. @default {50} */
  readonly limit?: number | undefined;
}
