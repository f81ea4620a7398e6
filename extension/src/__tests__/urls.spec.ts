import {
  dashboardLinkPath,
  dashboardUrl,
  join,
  pagePath,
  relativeToDashboard,
  tabLabel
} from '../urls';

describe('dashboard URLs', () => {
  it('puts pages under {baseUrl}kernelflow/', () => {
    expect(dashboardUrl('/', '')).toBe('/kernelflow/');
    expect(dashboardUrl('/user/ann/', 'runs?experiment=digits')).toBe(
      '/user/ann/kernelflow/runs?experiment=digits'
    );
    expect(dashboardUrl('/user/ann', '/models')).toBe('/user/ann/kernelflow/models');
  });

  it('joins with single slashes and keeps the last trailing slash', () => {
    expect(join('/a/', '/b/', 'c/')).toBe('/a/b/c/');
    expect(join('/', 'kernelflow/', '')).toBe('/kernelflow/');
  });

  it('quotes query arguments', () => {
    expect(pagePath({ page: 'run', query: { id: 'a b&c' } })).toBe('run?id=a%20b%26c');
    expect(pagePath({ page: 'runs', query: { experiment: 'my exp/1' } })).toBe(
      'runs?experiment=my%20exp%2F1'
    );
    expect(pagePath({ page: 'models' })).toBe('models');
  });

  it('follows navigation inside the dashboard only', () => {
    expect(relativeToDashboard('/user/ann/', '/user/ann/kernelflow/run', '?id=1')).toBe('run?id=1');
    expect(relativeToDashboard('/', '/kernelflow/', '')).toBe('');
    expect(relativeToDashboard('/', '/lab/tree', '')).toBeNull();
  });

  it('labels tabs by page', () => {
    expect(tabLabel('')).toBe('kernelflow');
    expect(tabLabel('runs?experiment=x')).toBe('kernelflow: runs');
  });
});

describe('links printed by %kf dashboard', () => {
  const page = 'https://hub.example.org/user/ann/lab/tree/a.ipynb';
  const base = 'https://hub.example.org/user/ann/';

  it('open in a Lab tab when they point at this Lab\'s dashboard', () => {
    expect(dashboardLinkPath('/user/ann/kernelflow/', page, base)).toBe('');
    expect(dashboardLinkPath('/user/ann/kernelflow/run?id=1', page, base)).toBe('run?id=1');
  });

  it('are left alone when they point elsewhere', () => {
    expect(dashboardLinkPath('https://evil.example/user/ann/kernelflow/', page, base)).toBeNull();
    expect(dashboardLinkPath('/user/bob/kernelflow/', page, base)).toBeNull();
    expect(dashboardLinkPath('http://[bad', page, base)).toBeNull();
  });
});
