/**
 * `claude-otel doctor [--json]`: one line per check with a fix when it fails.
 * Exit 0: all pass (warnings allowed); 1: a check failed; 2: usage.
 */
import { homedir } from 'node:os';
import { resolveHome } from '../agent/paths.js';
import type { CommandIo } from './io.js';
import { checkAgent, checkHome } from './doctor-agent.js';
import { checkInstall } from './doctor-install.js';
import {
  checkBacklog, checkClaudeVersion, checkConfig, checkEndpoint, checkExportFailures, checkHooks, checkToken,
  type CheckResult,
} from './doctor-checks.js';

const MARK = { pass: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export async function runDoctorCommand(argv: string[], io: CommandIo): Promise<number> {
  const json = argv.includes('--json');
  const dirFlag = argv.indexOf('--project-dir');
  const projectDir = dirFlag >= 0 && argv[dirFlag + 1] ? argv[dirFlag + 1]! : process.cwd();
  const userHome = io.homedir?.() ?? io.env.HOME ?? homedir();
  const base = { env: io.env, projectDir, userHome, ...(io.env.CLAUDE_BIN ? { claudeBinary: io.env.CLAUDE_BIN } : {}) };
  const home = resolveHome(io.env as NodeJS.ProcessEnv);
  const config = checkConfig(base);
  // Hooks are judged ours as install and uninstall judge them: by the configured port too.
  const ctx = { ...base, ...(config.loaded ? { agentPort: config.loaded.config.agent.port } : {}) };
  const agent = await checkAgent(ctx, { port: config.loaded?.config.agent.port, host: config.loaded?.config.agent.host });
  const results: CheckResult[] = [
    await checkClaudeVersion(ctx),
    checkHooks(ctx),
    checkInstall(ctx, config.loaded?.config.home ?? home),
    config.result,
    checkHome(config.loaded?.config.home ?? home),
    agent.result,
    checkToken(config.loaded?.config.home ?? home),
    await checkEndpoint(config.loaded, io.env),
    checkBacklog(config.loaded?.config.home ?? home, agent.status),
    checkExportFailures(agent.status),
  ];
  if (json) io.stdout(`${JSON.stringify(results, null, 2)}\n`);
  else {
    for (const r of results) {
      io.stdout(`[${MARK[r.verdict]}] ${r.name.padEnd(16)} ${r.detail}\n`);
      if (r.fix && r.verdict !== 'pass') io.stdout(`       ${''.padEnd(16)} fix: ${r.fix}\n`);
    }
  }
  return results.some((r) => r.verdict === 'fail') ? 1 : 0;
}
