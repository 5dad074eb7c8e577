import { describe, expect, it } from 'vitest';
import { cleanPdfTitle, layoutPages, normalizePageText, titleFitsText } from '../../src/parse/pdf-text.js';

describe('layoutPages', () => {
  it.each([
    [['a', 'bb', 'c'], 'a\n\nbb\n\nc', [[0, 3], [3, 7], [7, 8]]],
    [['', 'x', '', '', 'y', ''], 'x\n\ny', [[0, 0], [0, 3], [3, 3], [3, 3], [3, 4], [4, 4]]],
    [['only'], 'only', [[0, 4]]],
    [['', ''], '', [[0, 0], [0, 0]]],
  ])('%j', (pages, text, spans) => {
    const laid = layoutPages(pages);
    expect(laid.text).toBe(text);
    expect(laid.pages).toEqual(spans.map(([start, end], i) => ({ page: i + 1, start, end })));
  });
});

describe('normalizePageText', () => {
  it.each([
    ['a\tb   c', 'a b c'],
    ['  line one  \n\n\n\n  line two \r\n', 'line one\n\nline two'],
    ['x\u0000y\u00a0z', 'xy z'],
    ['\n \n', ''],
  ])('%j -> %j', (raw, clean) => {
    expect(normalizePageText(raw)).toBe(clean);
  });
});

describe('cleanPdfTitle', () => {
  it.each([
    [['Comité de démolition - Procès-verbal'], 'Comité de démolition - Procès-verbal'],
    [['Microsoft Word - SPECIAL BOARD AGENDA 040616.doc'], 'SPECIAL BOARD AGENDA 040616'],
    [['imagemagick-images\u0000'], undefined],
    [['10811.exe'], undefined],
    [['untitled'], undefined],
    [['88300 162..177'], undefined],
    [['', '  ', 'Sample PDF with XMP Metadata'], 'Sample PDF with XMP Metadata'],
    [[undefined, 42], undefined],
    [['Geometrie und Topologie'], 'Geometrie und Topologie'],
  ])('%j -> %j', (candidates, title) => {
    expect(cleanPdfTitle(candidates)).toBe(title);
  });
});

describe('titleFitsText', () => {
  const cover = 'Plan directeur de transport actif\nde la municipalité de Chelsea\nRapport final\nJanvier 2021\n' + 'Le réseau cyclable et piétonnier. '.repeat(8);
  it.each([
    ['Plan directeur de transport actif de Chelsea', cover, true],
    // Metadata copied from another plan: only "plan" occurs.
    ['Plan stratégique du sentier récréatif régional de Prescott et Russell', cover, false],
    // Accents and case differ between metadata and cover.
    ['PLAN DIRECTEUR DE TRANSPORT ACTIF', cover.normalize('NFD'), true],
    ['日本語の資料', '日本語の資料について説明します。'.repeat(20), true],
    ['Sample PDF with XMP Metadata', 'Hello, World!', true],
    ['Q3', cover, true],
  ])('%j', (title, text, fits) => {
    expect(titleFitsText(title, text)).toBe(fits);
  });
});

