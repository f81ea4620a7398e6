/**
 * The runs panel's content, drawn with plain DOM from the server extension's JSON.
 * No JupyterLab imports: the unit tests render it in jsdom.
 */
import { formatDuration, formatMetric, runDuration, statusClass } from './format';

/** An experiment as `GET kernelflow-lab/experiments` lists it. */
export interface IExperiment {
  id: string;
  name: string;
  runs: number;
}

/** The answer of `GET kernelflow-lab/experiments`. */
export interface IExperiments {
  experiments: IExperiment[];
  current: string | null;
  store: string;
}

/** One run as `GET kernelflow-lab/runs` lists it. */
export interface IRunRow {
  id: string;
  name: string;
  status: string;
  start_time: number | null;
  end_time: number | null;
  metrics: { [key: string]: number | string };
}

/** The answer of `GET kernelflow-lab/runs`. */
export interface IRuns {
  experiment: { id: string; name: string };
  key_metrics: string[];
  runs: IRunRow[];
  /** the server's clock (ms), for the durations of running runs */
  now: number;
}

/** A short, comparable summary of what the runs answer shows (to detect changes). */
export function fingerprint(data: IRuns): string {
  return JSON.stringify([data.experiment.id, data.key_metrics, data.runs]);
}

/** Whether any run is running (the panel then polls at its fastest). */
export function anyRunning(data: IRuns): boolean {
  return data.runs.some(r => r.status === 'RUNNING');
}

/** Fill `select` with the experiments, selecting `selected`. */
export function renderExperiments(
  select: HTMLSelectElement,
  experiments: IExperiment[],
  selected: string | null
): void {
  const wanted = experiments.map(e => `${e.id}\u0000${e.name}\u0000${e.runs}`).join('\u0001');
  if (select.dataset.options !== wanted) {
    select.textContent = '';
    for (const e of experiments) {
      const option = document.createElement('option');
      option.value = e.id;
      option.textContent = `${e.name} (${e.runs})`;
      select.appendChild(option);
    }
    select.dataset.options = wanted;
  }
  if (selected !== null) {
    select.value = selected;
  }
}

/** Draw the runs list into `list`; clicking a run calls `onOpen(runId)`. */
export function renderRuns(
  list: HTMLElement,
  data: IRuns,
  onOpen: (runId: string) => void,
  clientNow: number = Date.now()
): void {
  list.textContent = '';
  if (!data.runs.length) {
    const empty = document.createElement('div');
    empty.className = 'kf-lab-empty';
    empty.textContent = 'No runs yet. Log one from a notebook: %%kf run';
    list.appendChild(empty);
    return;
  }
  for (const run of data.runs) {
    list.appendChild(runRow(run, data, onOpen, clientNow));
  }
}

function runRow(
  run: IRunRow,
  data: IRuns,
  onOpen: (runId: string) => void,
  clientNow: number
): HTMLElement {
  const row = document.createElement('li');
  row.className = 'kf-lab-run';
  row.dataset.runId = run.id;
  row.dataset.status = run.status;
  row.tabIndex = 0;
  row.title = `${run.name} (${run.status.toLowerCase()}): open its page`;

  const dot = document.createElement('span');
  dot.className = `kf-lab-dot ${statusClass(run.status)}`;
  dot.setAttribute('aria-label', run.status.toLowerCase());

  const name = document.createElement('span');
  name.className = 'kf-lab-run-name';
  name.textContent = run.name;

  const duration = document.createElement('span');
  duration.className = 'kf-lab-run-duration';
  // the server's clock for running runs, so a skewed client clock shows no negative time
  const now = data.now || clientNow;
  duration.textContent = formatDuration(runDuration(run.start_time, run.end_time, now));

  const head = document.createElement('div');
  head.className = 'kf-lab-run-head';
  head.append(dot, name, duration);

  const metrics = document.createElement('div');
  metrics.className = 'kf-lab-run-metrics';
  for (const key of data.key_metrics) {
    if (!(key in run.metrics)) {
      continue;
    }
    const metric = document.createElement('span');
    metric.className = 'kf-lab-metric';
    metric.dataset.key = key;
    metric.textContent = `${key} ${formatMetric(run.metrics[key])}`;
    metrics.appendChild(metric);
  }
  row.append(head, metrics);
  row.addEventListener('click', () => onOpen(run.id));
  row.addEventListener('keydown', event => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(run.id);
    }
  });
  return row;
}
