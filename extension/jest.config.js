// Unit tests of the DOM-free (or plain-DOM) modules; JupyterLab's own packages are not loaded.
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testRegex: 'src/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', types: ['jest'], target: 'ES2018', strict: true, esModuleInterop: true, skipLibCheck: true } }]
  }
};
