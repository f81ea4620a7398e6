/** How the runs panel writes durations, metric values and statuses. */

/** A short human duration: `850 ms`, `42 s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = Math.floor(ms / 1000);
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  }
  const h = Math.floor(m / 60);
  if (h < 24) {
    return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  }
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A run's duration: to its end, or to `now` while it runs. */
export function runDuration(start: number | null, end: number | null, now: number): number | null {
  if (start === null || start === undefined) {
    return null;
  }
  return (end ?? now) - start;
}

/** A metric value in four significant digits (`0.9123`, `1.235e+05`); strings as they are. */
export function formatMetric(value: number | string | undefined): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e6) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

/** The CSS modifier of a run status's dot. */
export function statusClass(status: string): string {
  switch (status) {
    case 'RUNNING':
      return 'kf-lab-running';
    case 'FINISHED':
      return 'kf-lab-finished';
    case 'FAILED':
      return 'kf-lab-failed';
    case 'KILLED':
      return 'kf-lab-killed';
    default:
      return 'kf-lab-scheduled';
  }
}
