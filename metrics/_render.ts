// Renders a prom-client registry in the format the scraper asked for. prom-client writes both
// formats; its OpenMetrics path renames every counter in place (`foo_total` → `foo`) and never
// renames it back, so OpenMetrics is rendered through a second registry holding the same
// metrics, the names are restored afterwards, and renders of one Metrics run one at a time.
import client from "prom-client";

/** The Content-Type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** The Content-Type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** Whether an `Accept` header prefers OpenMetrics to the Prometheus text format. */
export function wantsOpenMetrics(accept: string | null | undefined): boolean {
  if (typeof accept !== "string" || accept === "") return false;
  let open = 0;
  let text = 0;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      const eq = param.indexOf("=");
      if (eq === -1) continue;
      const key = param.slice(0, eq).trim();
      const value = param.slice(eq + 1).trim().replace(/^"|"$/g, "");
      if (key === "q") q = Number(value);
      else if (key === "version") version = value;
    }
    if (!(q > 0)) continue;
    if (type === "application/openmetrics-text") {
      // prom-client writes 1.0.0, which 0.0.1 parsers read too.
      if (version === undefined || version === "1.0.0" || version === "0.0.1") {
        open = Math.max(open, q);
      }
    } else if (type === "text/plain" || type === "*/*" || type === "text/*") {
      text = Math.max(text, type === "text/plain" ? q : q / 2);
    }
  }
  return open > 0 && open >= text;
}

/** Renders `registry` in one of the two formats, one render at a time per {@linkcode Renderer}. */
export class Renderer {
  readonly #registry: client.Registry;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(registry: client.Registry) {
    this.#registry = registry;
  }

  render(openMetrics: boolean): Promise<{ body: string; contentType: string }> {
    const run = this.#queue.then(() => this.#render(openMetrics));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #render(openMetrics: boolean): Promise<{ body: string; contentType: string }> {
    if (!openMetrics) {
      return { body: await this.#registry.metrics(), contentType: PROMETHEUS_CONTENT_TYPE };
    }
    const metrics = this.#registry.getMetricsAsArray();
    const names = metrics.map((metric) => (metric as { name: string }).name);
    const open = new client.Registry<client.OpenMetricsContentType>();
    open.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    for (const metric of metrics) open.registerMetric(metric as unknown as client.Metric);
    const labels = defaultLabelsOf(this.#registry);
    if (labels !== undefined) open.setDefaultLabels(labels);
    try {
      return { body: await open.metrics(), contentType: OPENMETRICS_CONTENT_TYPE };
    } finally {
      metrics.forEach((metric, i) => {
        (metric as { name: string }).name = names[i]!;
      });
    }
  }
}

/** The registry's default labels, which prom-client only lets one set, not read. */
const defaults = new WeakMap<client.Registry, Record<string, string>>();

/** Sets `labels` as `registry`'s default labels and remembers them for OpenMetrics renders. */
export function setDefaultLabels(
  registry: client.Registry,
  labels: Record<string, string>,
): void {
  registry.setDefaultLabels(labels);
  defaults.set(registry, labels);
}

function defaultLabelsOf(registry: client.Registry): Record<string, string> | undefined {
  return defaults.get(registry);
}
