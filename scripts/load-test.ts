/**
 * Load test of the example chat in the local emulator (issue 4), not part of `npm test`:
 *
 *   npm run load [-- --connections 5000 --rooms 50 --concurrency 100 --deadline-seconds 900]
 *
 * Synthesizes ChatStack, runs `wsgate local` on it in its own process, opens N authorized connections (dev tokens,
 * at most --concurrency handshakes/joins in flight), joins each to one of R rooms, sends one message per room and
 * one broadcast, then checks every client got each message meant for it exactly once. Records the emulator's
 * memory (its process and the function instances it forks) and writes bench/load-results.json.
 * Stops by itself at the deadline; exit status 0 only when every connection was made and nothing was lost,
 * duplicated or misrouted.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { ChatStack } from '../bin/chat-stack';
import { signDevToken } from '../local/dev-token';
import { mapBounded } from './load/bounded';
import { ChatClient } from './load/chat-client';
import { tallyDeliveries, waitForProgress, waitUntil } from './load/delivery-tally';
import { startEmulatorProcess, type EmulatorProcess } from './load/emulator-process';
import { MemoryRecorder } from './load/process-memory';

interface Options {
  connections: number;
  rooms: number;
  concurrency: number;
  sendConcurrency: number;
  deadlineSeconds: number;
  out: string;
  emulatorLog?: string;
}

const USAGE = 'Usage: npm run load -- [--connections N] [--rooms N] [--concurrency N] [--send-concurrency N] [--deadline-seconds N] [--out FILE] [--emulator-log FILE]';

function parseOptions(argv: string[]): Options {
  const options: Options = {
    connections: 5000,
    rooms: 50,
    concurrency: 100,
    sendConcurrency: 5,
    deadlineSeconds: 900,
    out: path.resolve(__dirname, '..', 'bench', 'load-results.json'),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if ((flag === '--out' || flag === '--emulator-log') && value) {
      options[flag === '--out' ? 'out' : 'emulatorLog'] = path.resolve(value);
      continue;
    }
    const key = { '--connections': 'connections', '--rooms': 'rooms', '--concurrency': 'concurrency', '--send-concurrency': 'sendConcurrency', '--deadline-seconds': 'deadlineSeconds' }[flag];
    const number = Number(value);
    if (!key || !Number.isInteger(number) || number < 1) throw new Error(`Bad option ${flag} ${value ?? ''}\n${USAGE}`);
    (options as unknown as Record<string, number>)[key] = number;
  }
  if (options.rooms > options.connections) throw new Error(`--rooms (${options.rooms}) must not exceed --connections (${options.connections})`);
  return options;
}

/** Counts rejection reasons ("handshake refused with HTTP 500": 3, …). */
function reasons(results: Array<PromiseSettledResult<unknown>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    if (result.status === 'rejected') {
      const reason = String((result.reason as Error)?.message ?? result.reason);
      counts[reason] = (counts[reason] ?? 0) + 1;
    }
  }
  return counts;
}

/** A delivery phase gives up when no client received anything new for this long. */
const STALL_MS = 30_000;

const seconds = (fromMs: number): number => Math.round((Date.now() - fromMs) / 100) / 10;

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = Date.now();
  const deadline = startedAt + options.deadlineSeconds * 1000;
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const runId = randomUUID().slice(0, 8);
  const phases: Record<string, number> = {};
  const log = (line: string): void => void process.stderr.write(`[load ${seconds(startedAt)}s] ${line}\n`);

  // GIVEN the example app, synthesized, running in the emulator
  let phaseStart = Date.now();
  const assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-load-'));
  const app = new App({ outdir: assemblyDir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  new ChatStack(app, 'WsgateChat');
  app.synth();
  phases.synthSeconds = seconds(phaseStart);

  phaseStart = Date.now();
  const emulator: EmulatorProcess = await startEmulatorProcess(assemblyDir, Math.min(120_000, remaining()), options.emulatorLog);
  phases.emulatorStartSeconds = seconds(phaseStart);
  log(`emulator pid ${emulator.pid} at ${emulator.websocketUrl}`);
  const memory = new MemoryRecorder(emulator.pid, 500);
  memory.start();
  const memoryAtPhaseEnd: Record<string, unknown> = { idle: memory.take() };

  const clients = Array.from(
    { length: options.connections },
    (_, i) => new ChatClient(`load-${i}`, `room-${i % options.rooms}`),
  );
  const opened: ChatClient[] = [];
  const joined: ChatClient[] = [];
  let connectFailures: Record<string, number> = {};
  let joinFailures: Record<string, number> = {};
  const roomText = (room: string): string => `${room} ${runId}`;
  const broadcastText = `broadcast ${runId}`;
  let roomSendsComplete = false;
  let broadcastComplete = false;
  let outcome: 'completed' | 'deadline' | 'error' = 'completed';
  let failure: string | undefined;
  try {
    // WHEN every client connects with its own token, at most `concurrency` handshakes at a time
    phaseStart = Date.now();
    const connectResults = await mapBounded(clients, options.concurrency, async (client) => {
      if (remaining() === 0) throw new Error('not attempted: deadline');
      const token = await signDevToken({ user: client.user, ttlSeconds: options.deadlineSeconds + 600 });
      await client.open(emulator.websocketUrl, token, Math.min(60_000, remaining()));
      opened.push(client);
    });
    connectFailures = reasons(connectResults);
    phases.connectSeconds = seconds(phaseStart);
    memoryAtPhaseEnd.connected = memory.take();
    log(`${opened.length}/${clients.length} connected in ${phases.connectSeconds}s`);

    // AND each joins its room
    phaseStart = Date.now();
    const joinResults = await mapBounded(opened, options.concurrency, async (client) => {
      if (remaining() === 0) throw new Error('not attempted: deadline');
      await client.join(Math.min(60_000, remaining()));
      joined.push(client);
    });
    joinFailures = reasons(joinResults);
    phases.joinSeconds = seconds(phaseStart);
    memoryAtPhaseEnd.joined = memory.take();
    log(`${joined.length}/${opened.length} joined in ${phases.joinSeconds}s`);

    // AND one member of every room sends one message to it, at most `sendConcurrency` rooms in flight
    phaseStart = Date.now();
    const membersOf = new Map<string, ChatClient[]>();
    for (const client of joined) membersOf.set(client.room, [...(membersOf.get(client.room) ?? []), client]);
    const roomPhaseDeadline = Date.now() + Math.min(600_000, remaining());
    const roomResults = await mapBounded([...membersOf], options.sendConcurrency, async ([room, members]) => {
      members[0].sendMessage(roomText(room), room);
      const delivered = await waitForProgress(
        () => members.filter((m) => m.received.has(roomText(room))).length,
        members.length,
        roomPhaseDeadline,
        STALL_MS,
      );
      if (!delivered) throw new Error(`room message stopped reaching members (nothing new for ${STALL_MS / 1000} s)`);
    });
    roomSendsComplete = roomResults.every((result) => result.status === 'fulfilled');
    phases.roomSendsSeconds = seconds(phaseStart);
    memoryAtPhaseEnd.roomSends = memory.take();
    log(`room messages reached ${joined.filter((c) => c.received.has(roomText(c.room))).length}/${joined.length} members in ${phases.roomSendsSeconds}s`);

    // AND one client broadcasts to every connection
    phaseStart = Date.now();
    joined[0]?.sendMessage(broadcastText);
    broadcastComplete = await waitForProgress(
      () => opened.filter((client) => client.received.has(broadcastText)).length,
      opened.length,
      Date.now() + Math.min(300_000, remaining()),
      STALL_MS,
    );
    phases.broadcastSeconds = seconds(phaseStart);
    memoryAtPhaseEnd.broadcast = memory.take();
    log(`broadcast reached ${opened.filter((c) => c.received.has(broadcastText)).length}/${opened.length} in ${phases.broadcastSeconds}s`);

    // Late duplicates would arrive now; a short quiet period before counting.
    await new Promise((resolve) => setTimeout(resolve, Math.min(3000, remaining())));
    if (remaining() === 0) outcome = 'deadline';
  } catch (err) {
    outcome = 'error';
    failure = (err as Error).stack ?? String(err);
    log(`failed: ${failure}`);
  }

  // THEN every client received each message meant for it exactly once, and nothing else
  const joinedSet = new Set(joined);
  const tally = tallyDeliveries(opened, (client) =>
    joinedSet.has(client) ? [roomText(client.room), broadcastText] : [broadcastText],
  );
  const onlyRoomMessages = tallyDeliveries(joined, (client) => [roomText(client.room)]);
  const onlyBroadcast = tallyDeliveries(opened, () => [broadcastText]);
  const byKind = {
    room: { expected: onlyRoomMessages.expected, delivered: onlyRoomMessages.delivered },
    broadcast: { expected: onlyBroadcast.expected, delivered: onlyBroadcast.delivered },
  };
  const stillOpen = opened.filter((client) => client.isOpen).length;
  const unexpectedCloses = opened.filter((client) => client.unexpectedClose).length;
  const errorFrames = opened.reduce((sum, client) => sum + client.errors.length, 0);
  const errorExamples = [...new Set(opened.flatMap((client) => client.errors))].slice(0, 5);

  phaseStart = Date.now();
  await mapBounded(opened, options.concurrency * 5, (client) => client.close(5000));
  // Let the $disconnect calls drain: until the emulator has written nothing (each one logs a line) for 5 s, at most 2 min.
  let lastLines = -1;
  let quietSince = Date.now();
  await waitUntil(() => {
    const lines = emulator.stderrLines();
    if (lines !== lastLines) {
      lastLines = lines;
      quietSince = Date.now();
    }
    return Date.now() - quietSince >= 5000;
  }, Date.now() + Math.min(120_000, remaining()), 500);
  memoryAtPhaseEnd.disconnected = memory.take();
  const memoryPeaks = memory.stop();
  await emulator.stop();
  phases.closeSeconds = seconds(phaseStart);
  fs.rmSync(assemblyDir, { recursive: true, force: true });

  const passed =
    outcome === 'completed' &&
    opened.length === options.connections &&
    joined.length === options.connections &&
    tally.lost === 0 &&
    tally.duplicates === 0 &&
    tally.misrouted === 0 &&
    unexpectedCloses === 0;
  const results = {
    benchmark: 'load: concurrent authorized connections, room sends and a broadcast in the local emulator',
    command: `npm run load -- --connections ${options.connections} --rooms ${options.rooms} --concurrency ${options.concurrency} --send-concurrency ${options.sendConcurrency} --deadline-seconds ${options.deadlineSeconds}`,
    recordedAt: new Date().toISOString(),
    passed,
    outcome,
    failure,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20), node: process.version, loadAverage1m: os.loadavg()[0] },
    options: { connections: options.connections, rooms: options.rooms, connectConcurrency: options.concurrency, sendConcurrency: options.sendConcurrency, deadlineSeconds: options.deadlineSeconds },
    connections: { attempted: clients.length, opened: opened.length, joined: joined.length, stillOpenAtEnd: stillOpen, unexpectedCloses, connectFailures, joinFailures },
    messages: {
      roomMessagesSent: new Set(joined.map((client) => client.room)).size,
      broadcastsSent: joined.length > 0 ? 1 : 0,
      roomSendsComplete,
      broadcastComplete,
      ...tally,
      byKind,
      errorFrames,
      errorExamples,
    },
    emulatorMemoryMiB: {
      note: 'process = the emulator (gateway, dynalite, @connections); tree = process + its function instances; peakProcessMiB is the kernel high-water mark (VmHWM)',
      ...memoryPeaks,
      atPhaseEnd: memoryAtPhaseEnd,
    },
    phasesSeconds: phases,
    totalSeconds: seconds(startedAt),
    emulatorStderrTail: emulator.stderrTail.slice(-20),
  };
  // One entry per scale ("5000 connections, 50 rooms"), so a smaller run does not replace the full one.
  const runKey = `${options.connections} connections, ${options.rooms} rooms`;
  let previous: { runs?: Record<string, unknown> } = {};
  try {
    previous = JSON.parse(fs.readFileSync(options.out, 'utf8'));
  } catch {
    // first run, or not ours: start afresh
  }
  const file = { description: 'npm run load (scripts/load-test.ts): latest run per scale', runs: { ...(previous.runs ?? {}), [runKey]: results } };
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(file, null, 2)}\n`);
  log(`${passed ? 'PASSED' : 'FAILED'}: ${tally.delivered}/${tally.expected} delivered, lost ${tally.lost}, duplicates ${tally.duplicates}, misrouted ${tally.misrouted}; emulator peak ${memoryPeaks.peakProcessMiB} MiB (with functions ${memoryPeaks.peakTreeMiB} MiB) → ${path.relative(process.cwd(), options.out)}`);
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`load-test: ${(err as Error).stack ?? err}\n`);
    process.exit(2);
  },
);
