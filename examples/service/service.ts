/**
 * Starts the whole service from its settings, and stops it in order.
 *
 * Start: the database (PostgreSQL at `DATABASE_URL`, else the embedded PGlite), migrations under
 * the advisory lock (the shared models, the analytics tables, the outbox table), the seeded
 * system administrator, the event bus (NATS at `NATS_URL`, else in memory), the outbox relay,
 * the analytics consumer, metrics, tokens, the upstream client (`UPSTREAM_URL`, else the fake
 * upstream started here), then the HTTP server.
 *
 * Stop (`close()`): stop accepting connections and finish the requests in flight, stop the
 * consumer after its events in flight, close the relay (its batch in flight published), the bus,
 * the upstream, metrics and the pool — each step bounded, so a stop always ends.
 *
 * @module
 */
import { createTokenIssuer, createTokenVerifier } from "@plinth/auth";
import { AppError } from "@plinth/errors";
import { connectDatabase, type Database, runMigrations } from "@plinth/database";
import { connectEvents, createMemoryBus, type EventBus } from "@plinth/events";
import { createOpenAIClient } from "@plinth/httpclient/openai";
import { createLogger, type Logger } from "@plinth/logging";
import { createMetrics, instrumentDatabase, instrumentEvents } from "@plinth/metrics";
import {
  createCachedTokenStore,
  createLastUsedTracker,
  createUser,
  findUserByEmail,
  getUser,
  MODELS_MIGRATIONS,
} from "@plinth/models";
import { migrateOutbox, outboxLag, type Relay, startRelay } from "@plinth/outbox";
import type { Hono } from "hono";
import { ANALYTICS_MIGRATIONS, type AnalyticsConsumer, startAnalytics } from "./analytics.ts";
import { type AppDeps, createApp, type Readiness } from "./app.ts";
import { createFakeUpstream, type FakeUpstreamStats } from "./fake_upstream.ts";
import { serve, type Server } from "./serve.ts";
import type { Settings } from "./settings.ts";

/** A running service. */
export interface Service {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly app: Hono;
  readonly db: Database;
  readonly bus: EventBus;
  readonly relay: Relay;
  readonly analytics: AnalyticsConsumer;
  readonly logger: Logger;
  /** The subject of `usage.recorded`. */
  readonly usageSubject: string;
  /** The fake upstream's counters, when it runs here. */
  readonly fakeUpstream: FakeUpstreamStats | undefined;
  /** Whether the embedded defaults are in use (PGlite, memory bus, generated secret). */
  readonly embedded: { database: boolean; bus: boolean; secret: boolean; upstream: boolean };
  /** How long start-up took, milliseconds. */
  readonly startMs: number;
  /**
   * Stops the service in order, each step bounded by `timeout` (default `SHUTDOWN_TIMEOUT_MS`).
   * Resolves `true` when every request and event in flight finished in time.
   */
  close(timeout?: number): Promise<boolean>;
}

/** Options of {@linkcode startService}. */
export interface StartServiceOptions {
  /** The logger (default: JSON lines on stdout for `SERVICE_NAME`). */
  readonly logger?: Logger;
  /** The environment name (`production` refuses the embedded defaults). */
  readonly environment?: string;
  /** Listen (default true); false builds everything but the HTTP server (benchmarks, tests). */
  readonly listen?: boolean;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(48));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

async function bounded<T>(what: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      what,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the service.
 *
 * @param settings The loaded settings (`loadSettings()`).
 * @param options Logger, environment, whether to listen.
 */
export async function startService(
  settings: Settings,
  options: StartServiceOptions = {},
): Promise<Service> {
  const started = performance.now();
  const logger = options.logger ?? createLogger({ service: settings.SERVICE_NAME });
  const production = options.environment === "production";
  const embedded = {
    database: settings.DATABASE_URL === undefined,
    bus: settings.NATS_URL === undefined,
    secret: settings.JWT_SECRET === undefined,
    upstream: settings.UPSTREAM_URL === undefined,
  };
  if (production) {
    const missing = Object.entries({
      DATABASE_URL: embedded.database,
      NATS_URL: embedded.bus,
      JWT_SECRET: embedded.secret,
      UPSTREAM_URL: embedded.upstream,
    }).filter(([, unset]) => unset).map(([key]) => key);
    if (missing.length > 0) {
      throw new AppError(`Cannot start in production without ${missing.join(", ")}`, {
        status: 500,
        code: "config_invalid",
      });
    }
    if (settings.DEV_SIGN_IN === true) {
      throw new AppError("Cannot start in production with DEV_SIGN_IN: sign-in by e-mail alone", {
        status: 500,
        code: "config_invalid",
      });
    }
  }
  const devSignIn = settings.DEV_SIGN_IN ?? !production;
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) await Promise.resolve().then(step).catch(() => {});
  };
  try {
    // --- Database and migrations -----------------------------------------------------------
    let db: Database;
    if (embedded.database) {
      logger.warn("DATABASE_URL is not set: using the embedded PGlite (development only)");
      const { connectEmbedded } = await import("@plinth/database/embedded");
      db = await connectEmbedded({ logger, dataDir: settings.EMBEDDED_DATA_DIR });
    } else {
      const schema = settings.DATABASE_SCHEMA;
      db = await connectDatabase(settings.DATABASE_URL!, {
        max: settings.DATABASE_POOL_MAX,
        logger,
        applicationName: settings.SERVICE_NAME,
        ...(schema === undefined ? {} : { connection: { search_path: schema } }),
      });
      if (schema !== undefined) {
        // `create schema if not exists` races with itself (a unique violation on
        // pg_namespace): replicas starting together take turns.
        await db.transaction(async (sql) => {
          await sql`select pg_advisory_xact_lock(hashtext('plinth-service:create-schema'))`;
          await sql.unsafe(`create schema if not exists ${schema}`);
        });
      }
    }
    cleanup.push(() => db.close());
    await runMigrations(db, { dir: MODELS_MIGRATIONS, logger });
    await runMigrations(db, { dir: ANALYTICS_MIGRATIONS, table: "service_migrations", logger });
    await migrateOutbox(db);
    await seedAdmin(db, settings.ADMIN_EMAIL);

    // --- Events, relay, consumer -------------------------------------------------------------
    const prefix = settings.EVENTS_SUBJECT_PREFIX;
    const streams = [{ name: settings.EVENTS_STREAM, subjects: [`${prefix}.>`] }];
    let bus: EventBus;
    if (embedded.bus) {
      logger.warn("NATS_URL is not set: using the in-memory event bus (development only)");
      bus = createMemoryBus({ source: settings.SERVICE_NAME, streams, logger });
    } else {
      bus = await connectEvents({
        servers: settings.NATS_URL!,
        source: settings.SERVICE_NAME,
        streams,
        logger,
      });
    }
    cleanup.push(() => bus.close());
    const usageSubject = `${prefix}.usage.recorded`;
    const relay = await startRelay({ db, bus, logger });
    cleanup.push(() => relay.close());
    const analytics = await startAnalytics({ db, bus, subject: usageSubject, logger });
    cleanup.push(() => analytics.subscription.stop());

    // --- Metrics, tokens, upstream -----------------------------------------------------------
    const metrics = createMetrics({ service: settings.SERVICE_NAME });
    cleanup.push(() => metrics.close());
    const dbMetrics = instrumentDatabase(metrics, db);
    const busMetrics = instrumentEvents(metrics, bus);
    cleanup.push(() => dbMetrics.close(), () => busMetrics.close());

    let secret = settings.JWT_SECRET;
    if (secret === undefined) {
      logger.warn(
        "JWT_SECRET is not set: using a secret generated for this process; tokens die with it " +
          "and replicas cannot share them (development only)",
      );
      secret = randomSecret();
    }
    // Revocations answered from memory (the verifier asks twice per request), kept current by
    // NOTIFY from every replica; PGlite cannot LISTEN, so there it reloads every second.
    const store = await createCachedTokenStore(db.sql, { listen: !db.embedded, logger });
    cleanup.push(() => store.close());
    const tokenOptions = {
      secret,
      issuer: settings.JWT_ISSUER,
      audience: settings.JWT_AUDIENCE,
      store,
    };
    const issuer = createTokenIssuer({
      ...tokenOptions,
      kid: "hs-1",
      accessTtl: settings.ACCESS_TOKEN_TTL_MS,
      reuseGrace: settings.REFRESH_REUSE_GRACE_MS,
      logger,
      // A suspended or changed user gets no new tokens on rotation.
      refreshSubject: async (claims) => {
        const user = await getUser(db.sql, claims.sub).catch(() => null);
        if (user === null || user.status !== "active") return null;
        return { userId: user.id, orgId: user.org_id, role: user.role };
      },
    });
    const verifier = createTokenVerifier(tokenOptions);
    const lastUsed = createLastUsedTracker(db.sql);
    cleanup.push(() => lastUsed.close());

    let baseUrl = settings.UPSTREAM_URL;
    let fakeUpstream: FakeUpstreamStats | undefined;
    let fakeServer: Server | undefined;
    if (baseUrl === undefined) {
      const fake = createFakeUpstream({
        delayMs: settings.FAKE_UPSTREAM_DELAY_MS,
        logger: logger.child({ component: "fake-upstream" }),
      });
      const started = await serve(fake.app.fetch, { hostname: "127.0.0.1", port: 0 });
      fakeServer = started;
      cleanup.push(() => started.stop(1000));
      baseUrl = `http://127.0.0.1:${fakeServer.port}/v1/`;
      fakeUpstream = fake.stats;
    }
    const upstream = createOpenAIClient({
      baseUrl,
      apiKey: settings.UPSTREAM_API_KEY,
      totalTimeout: settings.UPSTREAM_TIMEOUT_MS,
      idleTimeout: settings.UPSTREAM_IDLE_TIMEOUT_MS,
      logger,
    });

    // --- Readiness, the app, the server ------------------------------------------------------
    const ready = async (): Promise<Readiness> => {
      const [health, lag] = await Promise.all([
        db.health({ timeout: 2000 }),
        outboxLag(db).catch(() => undefined),
      ]);
      const nats = bus as { connected?: boolean };
      const busOk = !bus.closed && nats.connected !== false;
      const lagOk = lag !== undefined && lag.oldestAge <= settings.READY_MAX_OUTBOX_LAG_MS;
      return {
        ok: health.ok && busOk && lagOk,
        checks: {
          database: { ok: health.ok, latency_ms: health.latency_ms },
          events: { ok: busOk, embedded: embedded.bus },
          outbox: {
            ok: lagOk,
            pending: lag?.pending ?? null,
            oldest_age_ms: lag?.oldestAge ?? null,
          },
        },
      };
    };
    const deps: AppDeps = {
      settings,
      devSignIn,
      db,
      logger,
      metrics,
      issuer,
      verifier,
      upstream,
      lastUsed,
      usageSubject,
      ready,
    };
    const app = createApp(deps);
    let server: Server | undefined;
    if (options.listen !== false) {
      server = await serve(app.fetch, { hostname: settings.HOST, port: settings.PORT });
    }
    const port = server?.port ?? 0;
    const startMs = performance.now() - started;
    logger.info("service ready", {
      url: `http://${settings.HOST}:${port}`,
      start_ms: Math.round(startMs),
      database: embedded.database ? "embedded" : "postgresql",
      bus: embedded.bus ? "memory" : "nats",
      upstream: embedded.upstream ? "fake" : "configured",
    });

    let closing: Promise<boolean> | undefined;
    const close = (timeout = settings.SHUTDOWN_TIMEOUT_MS): Promise<boolean> => {
      closing ??= (async () => {
        logger.info("service stopping", { in_flight: server?.inFlight ?? 0 });
        const served = server === undefined ? true : await server.stop(timeout);
        // The consumer finishes the events it is handling; the relay the batch it publishes.
        const consumed = await bounded(analytics.subscription.stop({ timeout }), timeout + 1000)
          .then(() => true, () => false);
        await bounded(relay.close(), timeout).catch(() => {});
        await bounded(lastUsed.close(), timeout).catch(() => {});
        await store.close();
        dbMetrics.close();
        busMetrics.close();
        await bounded(bus.close({ timeout }), timeout + 1000).catch(() => {});
        await fakeServer?.stop(1000);
        metrics.close();
        await bounded(db.close({ timeout }), timeout + 1000).catch(() => {});
        logger.info("service stopped", { served_all: served, consumer_finished: consumed });
        await logger.flush();
        return served && consumed === true;
      })();
      return closing;
    };
    return {
      url: `http://${settings.HOST}:${port}`,
      port,
      app: app as unknown as Hono,
      db,
      bus,
      relay,
      analytics,
      logger,
      usageSubject,
      fakeUpstream,
      embedded,
      startMs,
      close,
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

async function seedAdmin(db: Database, email: string): Promise<void> {
  if (await findUserByEmail(db.sql, email) !== null) return;
  try {
    await createUser(db.sql, { org_id: null, email, name: "Administrator", role: "system_admin" });
  } catch (error) {
    // Another replica seeded it at the same moment.
    if (await findUserByEmail(db.sql, email) === null) throw error;
  }
}
