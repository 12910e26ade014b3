'use strict';
/*
 * One cold start, in a fresh `node` process: load a handler module, run one invocation, exit.
 * argv: <module file> <event JSON file>. Prints a line `BENCH_RESULT {"loadMs","invokeMs","statusCode"}` on stdout (handler logs go there too).
 * Plain CommonJS so nothing is compiled before the clock the parent holds starts.
 */
const t0 = performance.now();
const mod = require(process.argv[2]);
const t1 = performance.now();
const event = JSON.parse(require('fs').readFileSync(process.argv[3], 'utf8'));
const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 10000 };
Promise.resolve(mod.handler(event, context)).then(
  (result) => {
    const t2 = performance.now();
    process.stdout.write('\nBENCH_RESULT ' + JSON.stringify({ loadMs: t1 - t0, invokeMs: t2 - t1, statusCode: result && result.statusCode }) + '\n');
    process.exit(0);
  },
  (err) => {
    process.stderr.write(String(err && err.stack ? err.stack : err));
    process.exit(1);
  },
);
