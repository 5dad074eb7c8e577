// Types for api.js (plain JavaScript so the browser loads it as it is; tests import it from TS).
export function storedToken(): string;
export function storeToken(token: string): void;
export class ApiError extends Error {
  constructor(status: number, code: string, message: string);
  status: number;
  code: string;
}
export function getJson(path: string): Promise<any>;
export function getBytes(path: string): Promise<Uint8Array>;
export function parseSse(buffer: string): { events: Array<{ event: string; data: string }>; rest: string };
export function streamQuery(question: string, signal: AbortSignal): AsyncGenerator<{ event: string; data: any }>;
export function uploadFiles(files: unknown[], acl: string, onProgress: (fraction: number) => void): Promise<{ jobId: string }>;
