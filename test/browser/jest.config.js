// The browser tests as their own jest project, reusing the root config's transform.
// They need a running local API (API_URL, default http://localhost:3000) and
// /usr/bin/chromium (bash scripts/browser.sh installs it):
//   bash scripts/dev.sh jest --config test/browser/jest.config.js
//   bash scripts/dev.sh run test/browser/run.ts        (same, prints "N passed, N failed")
import root from '../../jest.config.js';

const { displayName: _d, testMatch: _t, ...common } = root.projects[0];

export default {
  ...common,
  rootDir: '../..',
  displayName: 'browser',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  // One browser at a time on a 2-core machine; the page tests share one pipeline.
  maxWorkers: 1,
  testTimeout: 120_000,
};
