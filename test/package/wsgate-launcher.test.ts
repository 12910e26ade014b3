/**
 * cli/wsgate.cjs, the `wsgate` command of the construct package: it runs @wsgate/local's CLI when that package is
 * installed and otherwise says how to install it. Each test lays out an app folder as npm would install it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const LAUNCHER = path.resolve(__dirname, '../../cli/wsgate.cjs');
let work: string;

/** An app folder with node_modules/wsgate holding a copy of the launcher (so the repository's own workspace link is not found). */
function appWithWsgate(): { app: string; launcher: string } {
  const app = fs.mkdtempSync(path.join(work, 'app-'));
  const pkg = path.join(app, 'node_modules', 'wsgate', 'cli');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(LAUNCHER, path.join(pkg, 'wsgate.cjs'));
  return { app, launcher: path.join(pkg, 'wsgate.cjs') };
}

/**
 * A stand-in @wsgate/local whose CLI prints its arguments as JSON and exits with the status given in WSGATE_FAKE_EXIT:
 * as a script run by path (`script`), or exporting `main(argv)` like the real CLI (`module`).
 */
function installFakeEmulator(app: string, kind: 'script' | 'module' = 'script'): void {
  const dir = path.join(app, 'node_modules', '@wsgate', 'local');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@wsgate/local', version: '0.0.0', bin: { 'wsgate-local': 'cli.js' } }));
  const report = "JSON.stringify({ args, cwd: process.cwd(), inProcess: require.main !== module })";
  fs.writeFileSync(
    path.join(dir, 'cli.js'),
    kind === 'script'
      ? `if (require.main === module) { const args = process.argv.slice(2); process.stdout.write(${report}); process.exit(Number(process.env.WSGATE_FAKE_EXIT || 0)); }\n`
      : `exports.main = async (args) => { process.stdout.write(${report}); return Number(process.env.WSGATE_FAKE_EXIT || 0); };\n`,
  );
}

beforeAll(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-launcher-')));
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('wsgate command', () => {
  test('WHEN @wsgate/local is not installed THEN it prints how to install it and exits with 1', () => {
    // GIVEN an app with only the construct package
    const { app, launcher } = appWithWsgate();
    // WHEN the user runs `wsgate local cdk.out`
    const result = spawnSync(process.execPath, [launcher, 'local', 'cdk.out'], { cwd: app, encoding: 'utf8' });
    // THEN the exact install command is printed on stderr and nothing runs
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm install -D @wsgate/local');
    expect(result.stderr).toMatch(/separate package @wsgate\/local, which is not installed/);
    expect(result.stdout).toBe('');
  });

  test("WHEN @wsgate/local is installed in the app THEN its CLI runs with the same arguments and the launcher exits with the CLI's status", () => {
    // GIVEN an app with both packages
    const { app, launcher } = appWithWsgate();
    installFakeEmulator(app);
    // WHEN the user runs commands through the launcher
    const ok = spawnSync(process.execPath, [launcher, 'local', 'cdk.out', '--port', '4000'], { cwd: app, encoding: 'utf8' });
    const failed = spawnSync(process.execPath, [launcher, 'invoke', 'Publisher'], { cwd: app, encoding: 'utf8', env: { ...process.env, WSGATE_FAKE_EXIT: '3' } });
    // THEN the emulator's CLI saw exactly those arguments, in the user's folder, and its exit status is passed on
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ args: ['local', 'cdk.out', '--port', '4000'], cwd: app, inProcess: false });
    expect(failed.status).toBe(3);
    expect(JSON.parse(failed.stdout).args).toEqual(['invoke', 'Publisher']);
  });

  test("WHEN the CLI exports main(argv), as @wsgate/local's does, THEN it runs in the launcher's process and its result is the exit status", () => {
    // GIVEN an app whose @wsgate/local CLI exports main
    const { app, launcher } = appWithWsgate();
    installFakeEmulator(app, 'module');
    // WHEN the launcher runs it
    const result = spawnSync(process.execPath, [launcher, 'local', '--stack', 'Realtime'], { cwd: app, encoding: 'utf8', env: { ...process.env, WSGATE_FAKE_EXIT: '2' } });
    // THEN main got the arguments in this process, and its number became the exit status
    expect(JSON.parse(result.stdout)).toEqual({ args: ['local', '--stack', 'Realtime'], cwd: app, inProcess: true });
    expect(result.status).toBe(2);
  });

  test('WHEN @wsgate/local is installed but its CLI file is missing THEN it says so and exits with 1', () => {
    // GIVEN an installed @wsgate/local without its built cli.js (an unbuilt checkout)
    const { app, launcher } = appWithWsgate();
    installFakeEmulator(app);
    fs.rmSync(path.join(app, 'node_modules', '@wsgate', 'local', 'cli.js'));
    // WHEN the launcher runs
    const result = spawnSync(process.execPath, [launcher, 'local'], { cwd: app, encoding: 'utf8' });
    // THEN it names the missing file
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/@wsgate\/local is installed but .*cli\.js is missing/);
  });
});
