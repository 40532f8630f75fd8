// Where loadConfig()'s warnings go: the caller's hook and logger as they happen, or by default
// JSON lines shaped like @plinth/logging's (which config does not import), written once the
// load is over so that SERVICE_NAME and LOG_LEVEL can come from any layer, `.env` included.
import type { ConfigLogger, ConfigWarning } from "./load_config.ts";

/** Collects warnings and hands each to its destination. */
export interface WarningSink {
  /** Records a warning (and passes it on to the hook and logger, if any). */
  add(warning: ConfigWarning): void;
  /** Writes the default lines, reading SERVICE_NAME and LOG_LEVEL through `setting`. */
  flush(setting: (name: string) => string | undefined): void;
}

/** Levels at which a logger would drop a `warn` line. */
const QUIET_LEVELS = new Set(["error", "fatal", "silent"]);

/** One line as @plinth/logging writes it: timestamp, level, service_name, message, fields. */
export function warningLine(warning: ConfigWarning, service: string, now: number): string {
  return JSON.stringify({
    timestamp: new Date(now).toISOString(),
    level: "warn",
    service_name: service,
    message: warning.message,
    config_source: warning.source,
  });
}

/**
 * A sink for the options' `onWarning` and `logger`; with neither, the warnings are written to
 * stdout as JSON lines when {@linkcode WarningSink.flush} is called.
 */
export function warningSink(
  onWarning: ((warning: ConfigWarning) => void) | undefined,
  logger: ConfigLogger | undefined,
  write: (line: string) => void = (line) => console.log(line),
  now: () => number = Date.now,
): WarningSink {
  const pending: ConfigWarning[] = [];
  const byDefault = onWarning === undefined && logger === undefined;
  return {
    add(warning) {
      if (byDefault) pending.push(warning);
      if (onWarning !== undefined) onWarning(warning);
      if (logger !== undefined) logger.warn(warning.message, { config_source: warning.source });
    },
    flush(setting) {
      if (pending.length === 0) return;
      const level = setting("LOG_LEVEL")?.trim().toLowerCase() ?? "";
      if (!QUIET_LEVELS.has(level)) {
        const service = setting("SERVICE_NAME") || "unknown_service";
        for (const warning of pending) write(warningLine(warning, service, now()));
      }
      pending.length = 0;
    },
  };
}
