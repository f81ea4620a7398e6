import { formatDuration, formatMetric, runDuration, statusClass } from '../format';

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [42_000, '42 s'],
    [185_000, '3m 05s'],
    [7_800_000, '2h 10m'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d 4h']
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('is empty for unknown or negative durations', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(-5)).toBe('');
    expect(formatDuration(NaN)).toBe('');
  });
});

describe('runDuration', () => {
  it('runs to the end time, or to now while running', () => {
    expect(runDuration(1000, 4000, 9000)).toBe(3000);
    expect(runDuration(1000, null, 9000)).toBe(8000);
    expect(runDuration(null, null, 9000)).toBeNull();
  });
});

describe('formatMetric', () => {
  it('keeps four significant digits', () => {
    expect(formatMetric(0.912345)).toBe('0.9123');
    expect(formatMetric(12)).toBe('12');
    expect(formatMetric(123456.7)).toBe('1.235e+5');
    expect(formatMetric(0.00001234)).toBe('1.234e-5');
  });

  it('shows non-finite values the server sent as text', () => {
    expect(formatMetric('nan')).toBe('nan');
    expect(formatMetric(undefined)).toBe('');
  });
});

describe('statusClass', () => {
  it('gives each status its dot', () => {
    expect(statusClass('RUNNING')).toBe('kf-lab-running');
    expect(statusClass('FINISHED')).toBe('kf-lab-finished');
    expect(statusClass('FAILED')).toBe('kf-lab-failed');
    expect(statusClass('KILLED')).toBe('kf-lab-killed');
    expect(statusClass('SCHEDULED')).toBe('kf-lab-scheduled');
  });
});
