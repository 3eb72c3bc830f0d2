import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

/**
 * One `bicep jsonrpc --stdio` process that compiles many files. The CLI is a .NET program: each
 * `bicep build` spends seconds of CPU starting up and compiling its own compiler, so one process
 * that stays warm checks a whole directory for the price of one start. Its compile requests run
 * the same compiler, linter (bicepconfig.json included) and emitter as `bicep build`/`lint`.
 */

export interface ServerDiagnostic {
  /** Absolute path of the file the diagnostic is in. */
  source: string;
  range: { start: { line: number; char: number } };
  level: string;
  code: string;
  message: string;
}

export interface CompileResult {
  success: boolean;
  diagnostics: ServerDiagnostic[];
  /** The ARM template (bicep/compile) or the parameters file (bicep/compileParams). */
  output?: string;
}

interface Response {
  id: number;
  result?: {
    success: boolean;
    diagnostics: ServerDiagnostic[];
    contents?: string;
    parameters?: string;
  };
  error?: { message: string };
}

const REQUEST_TIMEOUT_MS = 120_000;

export class BicepServer {
  private readonly process: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<
    number,
    { resolve: (response: Response) => void; reject: (error: Error) => void }
  >();
  private buffered = Buffer.alloc(0);
  private stderr = '';
  private nextId = 0;
  private exited: Error | undefined;

  constructor(cli: string, env: Record<string, string> = {}) {
    this.process = spawn(cli, ['jsonrpc', '--stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.process.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.process.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    const fail = (error: Error) => {
      this.exited = error;
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    };
    this.process.on('error', fail);
    this.process.on('exit', (code, signal) =>
      fail(new Error(`bicep jsonrpc exited (${signal ?? code}): ${this.stderr.trim()}`)),
    );
    // Idle, the server keeps no test process alive (one that forgets close() still exits).
    this.hold(false);
  }

  /** Keeps the event loop alive while a request is pending, and only then. */
  private hold(on: boolean): void {
    for (const handle of [this.process, this.process.stdout, this.process.stderr]) {
      const refable = handle as unknown as { ref?: () => void; unref?: () => void };
      if (on) refable.ref?.();
      else refable.unref?.();
    }
  }

  /** `bicep build <path>`: the template and every diagnostic of the compilation. */
  async compile(path: string): Promise<CompileResult> {
    const result = await this.request('bicep/compile', { path });
    return { success: result.success, diagnostics: result.diagnostics, output: result.contents };
  }

  /** `bicep build-params <path>`: the parameters file and every diagnostic. */
  async compileParams(path: string): Promise<CompileResult> {
    const result = await this.request('bicep/compileParams', { path, parameterOverrides: {} });
    return { success: result.success, diagnostics: result.diagnostics, output: result.parameters };
  }

  /** Ends the process (it exits when its input closes) and waits for it. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.stdin.end();
    const killer = setTimeout(() => this.process.kill(), 10_000);
    await exited;
    clearTimeout(killer);
  }

  private request(method: string, params: object): Promise<NonNullable<Response['result']>> {
    if (this.exited) return Promise.reject(this.exited);
    const id = ++this.nextId;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    if (this.pending.size === 0) this.hold(true);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settled(id);
        reject(new Error(`bicep jsonrpc: ${method} ${JSON.stringify(params)} timed out`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (response) => {
          clearTimeout(timer);
          if (response.error || !response.result) {
            reject(new Error(`bicep jsonrpc ${method}: ${response.error?.message ?? 'no result'}`));
          } else resolve(response.result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.hold(false);
  }

  /** Reads LSP-framed messages (Content-Length header, blank line, JSON body). */
  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const headerEnd = this.buffered.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buffered.subarray(0, headerEnd).toString('ascii');
      const length = Number(/Content-Length: *(\d+)/i.exec(header)?.[1]);
      if (!Number.isInteger(length)) throw new Error(`bicep jsonrpc: bad header ${header}`);
      const end = headerEnd + 4 + length;
      if (this.buffered.length < end) return;
      const message = JSON.parse(this.buffered.subarray(headerEnd + 4, end).toString('utf8')) as
        Response | { method: string };
      this.buffered = this.buffered.subarray(end);
      if (!('id' in message) || typeof message.id !== 'number') continue; // a notification
      const waiter = this.pending.get(message.id);
      this.settled(message.id);
      waiter?.resolve(message);
    }
  }
}
