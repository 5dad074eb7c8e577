import type { Response } from 'express';

/**
 * Server-sent events on an Express response: headers that keep proxies from buffering, each event
 * written as soon as it exists, and keep-alive comments while nothing else is sent so idle proxies do
 * not cut a long generation.
 */
export interface SseWriter {
  /** A named event (`event: name`) with JSON data. */
  event(name: string, data: unknown): void;
  /** An unnamed event (OpenAI style `data: ...`); strings are sent as they are. */
  data(data: unknown): void;
  end(): void;
  /** True once the client went away or end() was called. */
  readonly closed: boolean;
}

export function openSse(res: Response, opts: { keepAliveMs?: number } = {}): SseWriter {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  let closed = false;
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), opts.keepAliveMs ?? 15_000);
  keepAlive.unref();
  res.on('close', () => {
    closed = true;
    clearInterval(keepAlive);
  });

  function write(chunk: string): void {
    if (closed || res.writableEnded) return;
    res.write(chunk);
  }
  const encode = (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data));

  return {
    event(name, data) {
      write(`event: ${name}\ndata: ${encode(data)}\n\n`);
    },
    data(data) {
      write(`data: ${encode(data)}\n\n`);
    },
    end() {
      clearInterval(keepAlive);
      if (!res.writableEnded) res.end();
      closed = true;
    },
    get closed() {
      return closed || res.writableEnded;
    },
  };
}
