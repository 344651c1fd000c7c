import { countStates } from '../../src/demo/report-index.js';

describe('reports/index.md counts', () => {
  it('counts last states by status, most first, with error codes when asked', () => {
    const states = [
      { id: 'a', status: 'ok' },
      { id: 'b', status: 'failed', error: 'http_404' },
      { id: 'c', status: 'ok' },
      { id: 'd', status: 'failed', error: 'not_image' },
      { id: 'e', status: 'skipped', error: 'robots_disallowed' },
      { id: 'f', status: 'failed', error: 'http_404' },
    ];
    expect(countStates(states, true)).toBe('3 failed (http_404 2, not_image 1), 2 ok, 1 skipped (robots_disallowed 1)');
    expect(countStates(states, false)).toBe('3 failed, 2 ok, 1 skipped');
    expect(countStates([], true)).toBe('');
  });
});
