// cdp.mjs - a headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, answers and events on fd 4,
// each message JSON ending with a NUL byte), so no debugging port is opened.
import { spawn } from 'node:child_process';

export class Browser {
  constructor(proc) {
    this.proc = proc;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, method}
    this.listeners = []; // {method, sessionId, fn}
    this.buffer = Buffer.alloc(0);
    proc.stdio[4].on('data', (chunk) => this.receive(chunk));
    this.exited = new Promise((resolve) => proc.on('exit', resolve));
  }

  static launch(chromium, userDataDir, extraArgs) {
    const args = [
      '--headless=new', '--remote-debugging-pipe', '--no-first-run',
      '--no-default-browser-check', '--disable-gpu', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--mute-audio', '--hide-scrollbars', '--disable-dev-shm-usage',
      `--user-data-dir=${userDataDir}`,
    ];
    // Chromium's own sandbox refuses to start as root (CI containers).
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    const proc = spawn(chromium, args.concat(extraArgs || [], ['about:blank']), {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    proc.stdio[2].on('data', () => {}); // chromium's own log: not ours to judge
    return new Browser(proc);
  }

  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf(0);
      if (end < 0) break;
      const msg = JSON.parse(this.buffer.subarray(0, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
      if (msg.id && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners)
          if (l.method === msg.method && (l.sessionId === undefined || l.sessionId === msg.sessionId))
            l.fn(msg.params, msg.sessionId);
      }
    }
  }

  send(method, params, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  on(method, fn, sessionId) {
    this.listeners.push({ method, fn, sessionId });
  }

  async close() {
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]);
    } catch (e) { /* closing anyway */ }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
