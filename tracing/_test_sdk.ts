// Test support: the OpenTelemetry SDK with its in-memory exporter, registered globally for the
// duration of a test file (Bun runs every file in one process, so each file unregisters it).
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/** A registered SDK whose spans stay in memory. */
export interface TestSdk {
  readonly exporter: InMemorySpanExporter;
  /** The finished spans so far. */
  spans(): ReadableSpan[];
  /** The one finished span named `name` (fails when there is not exactly one). */
  span(name: string): ReadableSpan;
  close(): Promise<void>;
}

/** Registers a tracer provider with an in-memory exporter and an AsyncLocalStorage context manager. */
export function registerTestSdk(options: { sampler?: Sampler } = {}): TestSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
  });
  const manager = new AsyncLocalStorageContextManager().enable();
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(manager);
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    span(name: string): ReadableSpan {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name);
      if (found.length !== 1) {
        throw new Error(`Expected one span named ${name}, found ${found.length}`);
      }
      return found[0]!;
    },
    async close(): Promise<void> {
      trace.disable();
      context.disable();
      propagation.disable();
      manager.disable();
      await provider.shutdown();
    },
  };
}
