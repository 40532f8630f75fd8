import type { EventBus, PublishEvent, PublishManyOptions, PublishResult } from "./event_bus.ts";
import { checkInt } from "./_options.ts";

/** Publishes `events` through `bus.publish`, at most `concurrency` at once, results in order. */
export async function publishAll(
  bus: EventBus,
  events: readonly PublishEvent[],
  options: PublishManyOptions,
): Promise<PublishResult[]> {
  const action = "Cannot publish events";
  if (!Array.isArray(events)) throw new TypeError(`${action}: events must be an array`);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options must be an object`);
  }
  const concurrency = checkInt(options.concurrency ?? 256, "concurrency", action, 1, 100_000);
  const results = new Array<PublishResult>(events.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < events.length) {
      const index = next++;
      const event = events[index]!;
      const subject = event?.subject;
      try {
        const ack = await bus.publish(subject, event.payload, event);
        results[index] = { ok: true, subject, id: ack.id, ack };
      } catch (error) {
        results[index] = {
          ok: false,
          subject,
          id: event?.id,
          error: error instanceof Error ? error : new Error(String(error)),
        };
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(concurrency, events.length); i++) workers.push(worker());
  await Promise.all(workers);
  return results;
}
