// Bodies kiln made from a string itself (htmlResponse, and so render): the
// ETag is hashed from the string, instead of being read back out of the
// Response's stream, which costs a turn of the event loop per chunk.

const known = new WeakMap<Response, string>();

export function withKnownBody(response: Response, text: string): Response {
  known.set(response, text);
  return response;
}

export function knownBody(response: Response): string | undefined {
  return known.get(response);
}
