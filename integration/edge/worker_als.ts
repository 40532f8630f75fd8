/**
 * The Worker of `worker.ts` for workerd with only the `nodejs_als` flag: `node:async_hooks`
 * can be imported but there is no `process`, so `@plinth/logging` cannot find
 * `AsyncLocalStorage` on its own. Putting it on `globalThis` before the first request is
 * enough: the logging context is looked up on first use.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import worker from "./worker.ts";

(globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage ??= AsyncLocalStorage;

export default worker;
