// Status phrases (RFC 9110 §15) and the stable machine codes plinth uses for them.

const PHRASES: Readonly<Record<number, readonly [title: string, code: string]>> = {
  400: ["Bad Request", "bad_request"],
  401: ["Unauthorized", "unauthorized"],
  402: ["Payment Required", "payment_required"],
  403: ["Forbidden", "forbidden"],
  404: ["Not Found", "not_found"],
  405: ["Method Not Allowed", "method_not_allowed"],
  406: ["Not Acceptable", "not_acceptable"],
  407: ["Proxy Authentication Required", "proxy_authentication_required"],
  408: ["Request Timeout", "request_timeout"],
  409: ["Conflict", "conflict"],
  410: ["Gone", "gone"],
  411: ["Length Required", "length_required"],
  412: ["Precondition Failed", "precondition_failed"],
  413: ["Content Too Large", "content_too_large"],
  414: ["URI Too Long", "uri_too_long"],
  415: ["Unsupported Media Type", "unsupported_media_type"],
  416: ["Range Not Satisfiable", "range_not_satisfiable"],
  417: ["Expectation Failed", "expectation_failed"],
  421: ["Misdirected Request", "misdirected_request"],
  422: ["Unprocessable Content", "validation_failed"],
  423: ["Locked", "locked"],
  424: ["Failed Dependency", "failed_dependency"],
  425: ["Too Early", "too_early"],
  426: ["Upgrade Required", "upgrade_required"],
  428: ["Precondition Required", "precondition_required"],
  429: ["Too Many Requests", "too_many_requests"],
  431: ["Request Header Fields Too Large", "request_header_fields_too_large"],
  451: ["Unavailable For Legal Reasons", "unavailable_for_legal_reasons"],
  500: ["Internal Server Error", "internal_error"],
  501: ["Not Implemented", "not_implemented"],
  502: ["Bad Gateway", "bad_gateway"],
  503: ["Service Unavailable", "service_unavailable"],
  504: ["Gateway Timeout", "gateway_timeout"],
  505: ["HTTP Version Not Supported", "http_version_not_supported"],
  507: ["Insufficient Storage", "insufficient_storage"],
  508: ["Loop Detected", "loop_detected"],
  511: ["Network Authentication Required", "network_authentication_required"],
};

/** Codes plinth's own constructors use beyond the status codes, with their status. */
const EXTRA_CODES: Readonly<Record<string, number>> = {
  invalid_json: 400,
  budget_exceeded: 429,
};

/**
 * Every code `AppError` and its constructors can produce, ordered by status: the code of each
 * status from 400 to 599 (`http_<status>` for one with no name), each followed by the extra
 * codes of that status.
 */
export function allCodes(): string[] {
  const codes: string[] = [];
  for (let status = 400; status <= 599; status++) {
    codes.push(statusCode(status));
    for (const [code, extra] of Object.entries(EXTRA_CODES)) {
      if (extra === status) codes.push(code);
    }
  }
  return codes;
}

/** The status a code stands for, or `undefined` for a code plinth does not produce. */
export function codeStatus(code: string): number | undefined {
  const extra = EXTRA_CODES[code];
  if (extra !== undefined) return extra;
  const generic = /^http_([45]\d\d)$/.exec(code);
  if (generic !== null) {
    const status = Number(generic[1]);
    return statusCode(status) === code ? status : undefined;
  }
  for (const [status, [, named]] of Object.entries(PHRASES)) {
    if (named === code) return Number(status);
  }
  return undefined;
}

/** The RFC 9110 reason phrase for an error status, or a generic one by class. */
export function statusTitle(status: number): string {
  return PHRASES[status]?.[0] ?? (status >= 500 ? "Server Error" : "Client Error");
}

/** The plinth machine code for an error status (`http_<status>` when it has none). */
export function statusCode(status: number): string {
  return PHRASES[status]?.[1] ?? `http_${status}`;
}

/** The text a client sees for a 5xx, or for a 4xx whose message is not exposed. */
export function genericDetail(status: number): string {
  switch (status) {
    case 503:
      return "The service is temporarily unavailable; try again later";
    case 504:
      return "An upstream service did not answer in time";
    case 502:
      return "An upstream service returned an invalid response";
    case 413:
      return "Request body is too large";
    default:
      return status >= 500
        ? "An unexpected error occurred"
        : `The request failed: ${statusTitle(status).toLowerCase()}`;
  }
}
