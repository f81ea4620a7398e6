import { anyRunning, fingerprint, IRuns, renderExperiments, renderRuns } from '../runsview';

const data: IRuns = {
  experiment: { id: '1', name: 'digits' },
  key_metrics: ['acc', 'loss'],
  now: 100_000,
  runs: [
    {
      id: 'r2',
      name: 'sgd-0.1',
      status: 'RUNNING',
      start_time: 40_000,
      end_time: null,
      metrics: { acc: 0.8765432, loss: 'nan' }
    },
    {
      id: 'r1',
      name: 'sgd-0.01',
      status: 'FINISHED',
      start_time: 1_000,
      end_time: 6_000,
      metrics: { loss: 0.25 }
    }
  ]
};

describe('renderRuns', () => {
  it('draws a row per run: status dot, name, duration, key metrics', () => {
    const list = document.createElement('ul');
    renderRuns(list, data, () => undefined);
    const rows = list.querySelectorAll('.kf-lab-run');
    expect(rows).toHaveLength(2);
    expect(rows[0].querySelector('.kf-lab-dot')?.classList.contains('kf-lab-running')).toBe(true);
    expect(rows[0].querySelector('.kf-lab-run-name')?.textContent).toBe('sgd-0.1');
    expect(rows[0].querySelector('.kf-lab-run-duration')?.textContent).toBe('1m 00s');
    expect(rows[0].querySelector('[data-key="acc"]')?.textContent).toBe('acc 0.8765');
    expect(rows[0].querySelector('[data-key="loss"]')?.textContent).toBe('loss nan');
    expect(rows[1].querySelector('.kf-lab-run-duration')?.textContent).toBe('5 s');
    expect(rows[1].querySelector('[data-key="acc"]')).toBeNull();
  });

  it('escapes run names (text, never HTML)', () => {
    const list = document.createElement('ul');
    const evil = { ...data, runs: [{ ...data.runs[1], name: '<img src=x onerror=alert(1)>' }] };
    renderRuns(list, evil, () => undefined);
    expect(list.querySelector('img')).toBeNull();
    expect(list.querySelector('.kf-lab-run-name')?.textContent).toBe('<img src=x onerror=alert(1)>');
  });

  it('opens a run on click and on Enter', () => {
    const list = document.createElement('ul');
    const opened: string[] = [];
    renderRuns(list, data, id => opened.push(id));
    (list.querySelectorAll('.kf-lab-run')[1] as HTMLElement).click();
    list
      .querySelectorAll('.kf-lab-run')[0]
      .dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(opened).toEqual(['r1', 'r2']);
  });

  it('says how to log a run when there is none', () => {
    const list = document.createElement('ul');
    renderRuns(list, { ...data, runs: [] }, () => undefined);
    expect(list.textContent).toContain('No runs yet');
  });
});

describe('change detection', () => {
  it('sees running runs and changed values', () => {
    expect(anyRunning(data)).toBe(true);
    expect(anyRunning({ ...data, runs: [data.runs[1]] })).toBe(false);
    const logged = { ...data, runs: [{ ...data.runs[0], metrics: { acc: 0.9 } }, data.runs[1]] };
    expect(fingerprint(logged)).not.toBe(fingerprint(data));
    expect(fingerprint({ ...data, now: 5 })).toBe(fingerprint(data));
  });
});

describe('renderExperiments', () => {
  it('lists experiments with run counts and keeps the selection', () => {
    const select = document.createElement('select');
    const experiments = [
      { id: '0', name: 'Default', runs: 0 },
      { id: '1', name: 'digits', runs: 2 }
    ];
    renderExperiments(select, experiments, '1');
    expect(Array.from(select.options).map(o => o.textContent)).toEqual(['Default (0)', 'digits (2)']);
    expect(select.value).toBe('1');
    const first = select.options[0];
    renderExperiments(select, experiments, '0');
    expect(select.options[0]).toBe(first); // unchanged list: options not redrawn
    expect(select.value).toBe('0');
  });
});
