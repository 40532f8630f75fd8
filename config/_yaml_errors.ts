// Fixed wordings of the YAML parser's error codes. The parser's own messages can quote the
// file (an alias name, an unexpected token), and a file can hold secrets: ours never do.

const REASONS: Readonly<Record<string, string>> = {
  ALIAS_PROPS: "an alias cannot have an anchor or a tag",
  BAD_ALIAS: "an alias refers to an anchor that is not defined before it",
  BAD_COLLECTION_TYPE: "a collection does not match its tag",
  BAD_DIRECTIVE: "invalid directive",
  BAD_DQ_ESCAPE: "invalid escape sequence in a double-quoted value",
  BAD_INDENT: "bad indentation",
  BAD_PROP_ORDER: "an anchor or tag is in the wrong place",
  BAD_SCALAR_START: "a plain value cannot start with this character",
  BLOCK_AS_IMPLICIT_KEY: "nested mappings are not allowed in compact mappings",
  BLOCK_IN_FLOW: "block collections are not allowed inside flow collections",
  DUPLICATE_KEY: "duplicate key",
  IMPOSSIBLE: "the parser failed",
  KEY_OVER_1024_CHARS: "an implicit key is longer than 1024 characters",
  MISSING_CHAR: "a closing quote or bracket is missing",
  MULTILINE_IMPLICIT_KEY: "an implicit key cannot span lines",
  MULTIPLE_ANCHORS: "a value has more than one anchor",
  MULTIPLE_DOCS: "the file holds more than one document",
  MULTIPLE_TAGS: "a value has more than one tag",
  NON_STRING_KEY: "keys must be plain scalars",
  RESOURCE_EXHAUSTION: "too many alias expansions",
  TAB_AS_INDENT: "tabs cannot be used for indentation",
  TAG_RESOLVE_FAILED: "a value does not match its tag",
  UNEXPECTED_TOKEN: "unexpected token",
};

/** `invalid YAML: <kind> (<CODE>)`, with no text from the file. */
export function yamlReason(code: string | undefined): string {
  const known = code !== undefined && Object.hasOwn(REASONS, code);
  return known ? `invalid YAML: ${REASONS[code]} (${code})` : "invalid YAML: syntax error";
}
