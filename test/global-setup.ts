// Builds dist/ once per test run: end-to-end tests run the real CLI (dist/cli.js, bin/claude-otel-hook).
import { execFileSync } from 'node:child_process';

export default function setup() {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
