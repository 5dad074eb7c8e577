// The answer page reads POST /v1/query's server-sent events from a fetch stream (EventSource cannot
// POST or send a bearer header): events split across reads, comments and multi-line data.
import { describe, expect, it } from 'vitest';
import { parseSse } from '../../src/web/api.js';

/** Feeds the text in pieces of `size` characters, as a network stream might deliver it. */
function feed(text: string, size: number): Array<{ event: string; data: string }> {
  const out: Array<{ event: string; data: string }> = [];
  let rest = '';
  for (let i = 0; i < text.length; i += size) {
    const parsed = parseSse(rest + text.slice(i, i + size));
    rest = parsed.rest;
    out.push(...parsed.events);
  }
  return out;
}

const STREAM = [
  ': keep-alive',
  '',
  'event: token',
  'data: {"text":"Speakers have "}',
  '',
  'event: token',
  'data: {"text":"three minutes [1]."}',
  '',
  'event: citation',
  'data: {"n":1,"quote":"each speaker will be allotted three (3) minutes"}',
  '',
  'event: done',
  'data: {"answer":"Speakers have three minutes [1].","citations":[]}',
  '',
  '',
].join('\n');

describe('parseSse', () => {
  it.each([1, 2, 7, 64, STREAM.length])('yields the same events whatever the read size (%i)', (size) => {
    const events = feed(STREAM, size);
    expect(events.map((e) => e.event)).toEqual(['token', 'token', 'citation', 'done']);
    expect(JSON.parse(events[1].data)).toEqual({ text: 'three minutes [1].' });
  });

  it.each([
    { name: 'CRLF line ends', text: 'event: error\r\ndata: {"x":1}\r\n\r\n', want: [{ event: 'error', data: '{"x":1}' }] },
    { name: 'data without a name is a message', text: 'data: 1\n\n', want: [{ event: 'message', data: '1' }] },
    { name: 'multi-line data joins with newlines', text: 'event: a\ndata: x\ndata: y\n\n', want: [{ event: 'a', data: 'x\ny' }] },
    { name: 'a comment alone is no event', text: ': ping\n\n', want: [] },
    { name: 'no space after the colon', text: 'event:done\ndata:{}\n\n', want: [{ event: 'done', data: '{}' }] },
  ])('$name', ({ text, want }) => {
    expect(parseSse(text)).toEqual({ events: want, rest: '' });
  });

  it('keeps an unfinished event for the next read', () => {
    expect(parseSse('event: token\ndata: {"te')).toEqual({ events: [], rest: 'event: token\ndata: {"te' });
  });
});
