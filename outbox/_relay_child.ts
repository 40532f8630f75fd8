// Test-only (excluded from publish): a relay process that stops between publishing and marking.
// argv: <databaseUrl> <natsUrl> <table> <stream> <subjects prefix>. After the first publish the
// stream acknowledged, it prints "published <id>" and waits, holding its transaction open, for
// the test to kill it.
import { connectDatabase } from "@plinth/database";
import { connectEvents, type EventBus } from "@plinth/events";
import { startRelay } from "./start_relay.ts";

const [databaseUrl, natsUrl, table, stream, prefix] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const db = await connectDatabase(databaseUrl, { max: 2 });
const inner = await connectEvents({
  servers: natsUrl,
  streams: [{ name: stream, subjects: [`${prefix}.>`], storage: "memory" }],
  deadLetter: false,
});
const bus: EventBus = Object.create(inner);
bus.publish = async (subject, payload, options) => {
  const ack = await inner.publish(subject, payload, options);
  process.stdout.write(`published ${ack.id} duplicate=${ack.duplicate}\n`);
  await new Promise(() => {}); // the crash point: published, not marked
  return ack;
};
await startRelay({ db, bus, table, idle: 20 });
