/**
 * `@plinth/logging`: a logger configured from the environment (`SERVICE_NAME`, `LOG_LEVEL`,
 * `LOG_FORMAT`) writing JSON lines to stdout — a child with bound fields, a request context
 * carried across an `await`, a redacted secret and an error with its cause.
 *
 * Permissions (README, "Deno permissions"): the three variables. Without them the logger does not
 * fail: it uses its defaults (`unknown_service`, `info`, `json`).
 *
 * ```sh
 * deno run --allow-env=SERVICE_NAME,LOG_LEVEL,LOG_FORMAT examples/packages/logging.ts
 * ```
 *
 * @module
 */
import { createLogger, withRequestId } from "@plinth/logging";

const logger = createLogger(); // service, level and format from the environment
const orders = logger.child({ module: "orders" });

orders.debug("pricing rules loaded", { rules: 12 });
await withRequestId("req-42", async () => {
  await Promise.resolve();
  orders.info("order placed", { order_id: 7, api_key: "plk_not_for_logs" });
  orders.error("payment failed", new Error("card declined", { cause: new Error("issuer down") }));
});
await logger.flush();
