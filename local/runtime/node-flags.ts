/**
 * The Node.js flags a function's process starts with.
 *
 * AWS Lambda's Node.js runtime starts `node` with `--expose-gc` and `--max-http-header-size 81920`; the emulator
 * passes the same two, so a handler finds `gc()` and Lambda's header limit (`http.maxHeaderSize`).
 *
 * Lambda also sizes the heap from the function's MemorySize: two semi-spaces of MemorySize / 20 MB each for the young
 * generation (12 MB for a 256 MB function) and the rest for the old one. The emulator makes its own choice for both:
 * - the semi-space is LOCAL_MAX_SEMI_SPACE_MB, half of Node.js's default. On Lambda each instance has its own memory;
 *   here all instances share one machine, and once a burst has grown an instance's young generation it stays at that
 *   size while the instance idles (32 MB per instance with the default). A handler sees more frequent minor
 *   collections and nothing else. (4 MB saved more memory, but fan-outs to 100 and 1,000 clients ran about a quarter
 *   slower in alternating runs of the peer bench's app; 8 MB measured no slower than the default.)
 * - no old-generation limit: the emulator does not enforce a function's memory (nor count its RSS), and that limit
 *   alone made a 3,000-connection fan-out of the peer bench a quarter slower (docs/emulator-performance.md).
 */

/** A function process's V8 semi-space, in MB (Lambda's own: MemorySize / 20; Node.js's default: 16). */
export const LOCAL_MAX_SEMI_SPACE_MB = 8;

/** Lambda's HTTP header limit for Node.js functions, in bytes. */
export const LAMBDA_MAX_HTTP_HEADER_SIZE = 81920;

export const NODE_FUNCTION_FLAGS: readonly string[] = [
  '--expose-gc',
  `--max-http-header-size=${LAMBDA_MAX_HTTP_HEADER_SIZE}`,
  `--max-semi-space-size=${LOCAL_MAX_SEMI_SPACE_MB}`,
];
