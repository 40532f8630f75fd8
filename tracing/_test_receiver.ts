// Test support: an OTLP/HTTP receiver on loopback that decodes what arrives (JSON encoding).
import { createServer, type Server } from "node:http";

/** An OTLP attribute as JSON encodes it. */
interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

/** One received span, with its resource's and scope's names. */
export interface ReceivedSpan {
  readonly service: unknown;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly status: { code?: number; message?: string };
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** A running receiver. */
export interface Receiver {
  /** The base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** Every `Content-Type` that arrived at `/v1/traces`. */
  readonly contentTypes: string[];
  /** Every span received so far. */
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

function attributeMap(list: readonly OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    const [kind, raw] = Object.entries(value)[0] ?? [];
    out[key] = kind === "intValue" ? Number(raw) : raw;
  }
  return out;
}

/** Starts a receiver on a free loopback port. */
export async function startReceiver(): Promise<Receiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        contentTypes.push(String(req.headers["content-type"]));
        const text = new TextDecoder().decode(Buffer.concat(chunks));
        const body = JSON.parse(text);
        for (const resourceSpans of body.resourceSpans ?? []) {
          const resource = attributeMap(resourceSpans.resource?.attributes);
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              spans.push({
                service: resource["service.name"],
                scope: scopeSpans.scope?.name,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? "",
                name: span.name,
                kind: span.kind,
                status: span.status ?? {},
                attributes: attributeMap(span.attributes),
              });
            }
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    contentTypes,
    spans: () => [...spans],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
