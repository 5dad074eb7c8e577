import type { GenerateInput } from './port.js';
import { NOT_FOUND_ANSWER } from './extractive.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const SYSTEM_PROMPT = [
  'You answer questions using only the numbered sources you are given.',
  'After every claim, cite the sources that support it with their numbers in square brackets, like [1] or [2][3].',
  'Stay close to the wording of the sources and add nothing that they do not say.',
  `If the sources do not contain the answer, reply exactly: ${NOT_FOUND_ANSWER}`,
].join(' ');

function sourceLabel(title: string, page: number | undefined): string {
  return page === undefined ? `(${title})` : `(${title}, p. ${page})`;
}

/** Chat messages for a question over chunks numbered 1..n, as the citation markers expect. */
export function buildChatMessages({ question, chunks }: GenerateInput): ChatMessage[] {
  const sources = chunks
    .map((c, i) => `[${i + 1}] ${sourceLabel(c.payload.title, c.payload.page)} ${c.payload.text.trim()}`)
    .join('\n\n');
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: `Sources:\n${sources}\n\nQuestion: ${question.trim()}` },
  ];
}
