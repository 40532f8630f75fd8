// Test-only: runs Debian's `promtool` and `prometheus` binaries when they are installed (CI
// installs them through scripts/services.sh); elsewhere the tests that need them skip with a
// printed reason.
import { spawnSync } from "node:child_process";
import { inCI, type SkipContext } from "@plinth/testing";

/** Whether `command` runs; fails in CI when it does not, else skips the test and says why. */
export function needCommand(t: SkipContext, command: string): boolean {
  const probe = spawnSync(command, ["--version"], { encoding: "utf8" });
  if (probe.error === undefined && probe.status === 0) return true;
  const reason = `${command} is not installed (Debian package prometheus; scripts/services.sh)`;
  if (inCI) throw new Error(`${reason} (required in CI)`);
  console.log(`skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/** `promtool check metrics` on `text`: its exit code and output. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
