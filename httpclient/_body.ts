// Reading upstream bodies with a size cap, and turning an error response into a cause.
import { HttpClientError } from "./http_client_error.ts";

/** Bytes read from an error response to describe it: enough for any problem document. */
export const ERROR_BODY_LIMIT = 65_536;

/**
 * The body as text, at most `max` bytes. More throws `upstream_response_too_large` (or, with
 * `truncate`, stops there). The body is cancelled whenever it is not read to the end.
 */
export async function readText(
  response: Response,
  max: number,
  upstream: string,
  truncate = false,
): Promise<string> {
  const body = response.body;
  if (body === null) return "";
  const declared = Number(response.headers.get("content-length"));
  if (!truncate && Number.isFinite(declared) && declared > max) {
    await body.cancel().catch(() => {});
    throw tooLarge(upstream, response.status);
  }
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return text + decoder.decode();
      }
      size += value.byteLength;
      if (size > max) {
        if (!truncate) throw tooLarge(upstream, response.status);
        return text + decoder.decode(value.subarray(0, value.byteLength - (size - max)));
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}

function tooLarge(upstream: string, status: number): HttpClientError {
  return new HttpClientError(
    `Cannot read the response of ${upstream}: the body exceeds maxResponseSize`,
    { code: "upstream_response_too_large", upstream, upstreamStatus: status },
  );
}

/** What an upstream said in an error response: the cause of an {@linkcode HttpClientError}. */
export class UpstreamProblem extends Error {
  /** The upstream's status. */
  readonly status: number;
  /** The upstream's own code (`error.code`, `error.type` or a problem's `code`), if any. */
  readonly upstreamCode: string | undefined;
  /** The parsed JSON body, when it was JSON. */
  readonly problem: unknown;

  constructor(status: number, text: string) {
    let problem: unknown;
    try {
      problem = text === "" ? undefined : JSON.parse(text);
    } catch {
      problem = undefined;
    }
    const described = describe(problem);
    super(described.message ?? `HTTP ${status}`);
    this.name = "UpstreamProblem";
    this.status = status;
    this.upstreamCode = described.code;
    this.problem = problem;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The message and code of an OpenAI error body or an RFC 9457 problem. */
function describe(problem: unknown): { message?: string | undefined; code?: string | undefined } {
  if (typeof problem !== "object" || problem === null) return {};
  const record = problem as Record<string, unknown>;
  const error = record.error;
  if (typeof error === "object" && error !== null) {
    const e = error as Record<string, unknown>;
    return { message: str(e.message), code: str(e.code) ?? str(e.type) };
  }
  if (typeof error === "string") return { message: error, code: str(record.code) };
  return { message: str(record.detail) ?? str(record.title), code: str(record.code) };
}

/** Whether a 429's body says the quota is spent, so a retry cannot help. */
export function quotaSpent(problem: UpstreamProblem): boolean {
  if (problem.upstreamCode === "insufficient_quota") return true;
  const error = (problem.problem as { error?: { type?: unknown; code?: unknown } } | undefined)
    ?.error;
  return typeof error === "object" && error !== null &&
    (error.type === "insufficient_quota" || error.code === "insufficient_quota");
}
