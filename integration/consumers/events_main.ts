// @plinth/events from the installed tarball against the real NATS JetStream: a publish →
// subscribe round trip on a throwaway memory stream. Prints the results as one JSON line.
import { connectEvents } from "@plinth/events";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const stream = `CONSUMER_${id}`.toUpperCase();
const subject = `consumer_${id}.created`;

const bus = await connectEvents({
  servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  source: "consumer-test",
  streams: [{ name: stream, subjects: [`consumer_${id}.>`], storage: "memory" }],
  deadLetter: false,
  logger: quiet,
});
try {
  const received = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("No event within 10 s")), 10_000);
    void bus.subscribe(subject, (payload: unknown) => {
      clearTimeout(timer);
      resolve(payload);
    }, { durable: `consumer_${id}` });
  });
  const ack = await bus.publish(subject, { id: "o1", name: "Acme" }, { id: `evt-${id}` });
  console.log(JSON.stringify({ ack, received: await received }));
} finally {
  await bus.deleteStream(stream);
  await bus.close();
}
