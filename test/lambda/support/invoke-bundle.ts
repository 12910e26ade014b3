/**
 * Invokes a built handler bundle (assets/handlers/<name>/index.js) in a fresh Node.js process, as the Lambda
 * runtime would load it (CommonJS, `index.handler`), with the given environment. A child process rather than
 * jest's module registry: the bundled SDK uses dynamic `import()` of Node built-ins, which jest's VM refuses.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const DRIVER = `
const [bundle, event] = process.argv.slice(1);
require(bundle).handler(JSON.parse(event), {}).then(
  (result) => process.stderr.write('\\n@@RESULT@@' + JSON.stringify(result ?? null)),
  (err) => { process.stderr.write('\\n@@THROWN@@' + String(err && err.message)); process.exitCode = 1; },
);`;

export function bundlePath(name: string): string {
  return join(__dirname, '..', '..', '..', 'assets', 'handlers', name, 'index.js');
}

export function invokeBundle(name: string, event: unknown, env: NodeJS.ProcessEnv): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', DRIVER, bundlePath(name), JSON.stringify(event)], { env, timeout: 20000 }, (err, _stdout, stderr) => {
      const result = /@@RESULT@@(.*)$/s.exec(stderr);
      if (result) resolve(JSON.parse(result[1]));
      else reject(new Error(`bundle ${name} failed: ${err?.message ?? ''}\n${stderr.slice(-2000)}`));
    });
  });
}
