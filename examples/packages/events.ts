/**
 * `@plinth/events` on the NATS JetStream server named by `NATS_URL`: a stream, a durable
 * subscriber with a zod schema, a publish, the same event published again (stored once), then a
 * graceful close. The stream's name is unique per run and it is deleted at the end.
 *
 * Permissions (README, "Deno permissions"): `NATS_URL`, and the server's host and port.
 *
 * ```sh
 * deno run --allow-env=NATS_URL --allow-net=127.0.0.1:4222 examples/packages/events.ts
 * ```
 *
 * @module
 */
import { connectEvents } from "@plinth/events";
import { z } from "zod";

const suffix = crypto.randomUUID().slice(0, 8);
const stream = `EXAMPLE_USERS_${suffix}`;
const subject = `example_${suffix}.user.created`;

// No `servers` given: connectEvents() reads NATS_URL.
await using bus = await connectEvents({
  source: "user-svc",
  streams: [{ name: stream, subjects: [`example_${suffix}.user.>`], storage: "memory" }],
  deadLetter: false,
  connectTimeout: 5_000,
});

const { promise: received, resolve } = Promise.withResolvers<string>();
const subscription = await bus.subscribe(subject, (user, meta) => {
  resolve(`${user.email} (${meta.id}, delivery ${meta.deliveryCount})`);
}, { durable: "welcome-mailer", schema: z.object({ id: z.string(), email: z.string() }) });

const first = await bus.publish(subject, { id: "u1", email: "a@example.com" }, { id: "evt-1" });
const again = await bus.publish(subject, { id: "u1", email: "a@example.com" }, { id: "evt-1" });
console.log(`published: seq ${first.seq}, duplicate ${first.duplicate}`);
console.log(`published again: seq ${again.seq}, duplicate ${again.duplicate}`);
console.log(`handled: ${await received}`);
await subscription.stop();
console.log(`stream deleted: ${await bus.deleteStream(stream)}`);
