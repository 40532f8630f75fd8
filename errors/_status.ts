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
