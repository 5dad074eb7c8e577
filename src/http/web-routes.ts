import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type RequestHandler } from 'express';

/** The answer page's own files (plain ES modules, no build step). */
export const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');

/** pdfjs-dist as installed: pinned to the version pdf-parse extracts with, so text items match. */
export function pdfjsRoot(): string {
  return dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
}

/**
 * Only this origin's scripts, styles, workers and images: no inline script, no eval (pdf.js runs with
 * isEvalSupported false), nothing fetched from elsewhere. blob:/data: images cover pdf.js's
 * annotation icons; inline `style` attributes stay forbidden (pdf.js positions text through the CSSOM).
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * GET / and its assets, and pdf.js under /assets/pdfjs/. Served without a credential: the page holds no
 * data; every call it makes for data goes to /v1 with the caller's token.
 */
export function createWebRouter(opts: { guard: RequestHandler; webRoot?: string; pdfjs?: string }): Router {
  const web = Router();
  const pdfjs = opts.pdfjs ?? pdfjsRoot();
  const headers: RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
    // Assets change with the install; revalidating is cheap on a LAN and never serves a stale page.
    res.setHeader('Cache-Control', 'no-cache');
    next();
  };
  const files = { index: false, dotfiles: 'deny', fallthrough: true, redirect: false } as const;
  const page = [opts.guard, headers];
  const webRoot = opts.webRoot ?? WEB_ROOT;
  web.get(['/', '/index.html'], ...page, (_req, res) => res.sendFile(join(webRoot, 'index.html')));
  for (const dir of ['build', 'cmaps', 'standard_fonts', 'iccs']) {
    web.use(`/assets/pdfjs/${dir}`, ...page, express.static(join(pdfjs, dir), files));
  }
  web.use('/assets/app', ...page, express.static(webRoot, files));
  return web;
}
