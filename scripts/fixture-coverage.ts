/**
 * Sessions recorded by scripts/record-fixtures.ts only to make Claude Code fire the hook events and
 * payload shapes the lifecycles do not (tool failures, API errors, permission modes, instructions,
 * cwd and config changes), so that test/fixtures/claude-code-<version>/hooks/ covers them.
 */
import type { Lifecycle } from '../test/support/lifecycle-scenarios.js';
import { apiError, bash, scenario, text, tool, tools } from '../test/support/model-server.js';

const agentCall = (prompt: string) => tool('Agent', { description: prompt.slice(0, 12), prompt, subagent_type: 'general-purpose', run_in_background: false });

export const COVERAGE: Lifecycle[] = [
  {
    name: 'tools-and-subagent',
    about: 'Bash, Read, Write; a failing Bash (exit 3); Grep; a foreground subagent running Bash; CLAUDE.md present',
    allowedTools: ['Bash', 'Read', 'Write', 'Grep', 'Agent'],
    files: () => ({ 'a.txt': 'hello\n', 'CLAUDE.md': '# Project notes\n' }),
    script: (p) =>
      scenario({
        main: (req) =>
          [
            tools(bash('echo hi'), tool('Read', { file_path: `${p.dir}/a.txt` }), tool('Write', { file_path: `${p.dir}/b.txt`, content: 'x' })),
            tools(bash('exit 3', 'fail on purpose')),
            tools(tool('Grep', { pattern: 'hello', path: p.dir })),
            tools(agentCall('SUB: look')),
            text('all done'),
          ][req.step] ?? text('all done'),
        subagents: { 'SUB:': [tools(bash('echo in-sub')), text('sub done')] },
      }),
    segments: [{ prompt: 'use tools' }],
  },
  {
    name: 'api-error-529',
    about: 'a Bash, then the next model call answers 529: StopFailure server_error',
    allowedTools: ['Bash'],
    script: () => scenario({ main: [tools(bash('echo x')), apiError(529, 'Overloaded')] }),
    segments: [{ prompt: 'overload' }],
  },
  {
    name: 'api-error-400',
    about: 'the first model call answers 400: StopFailure unknown',
    allowedTools: ['Bash'],
    script: () => scenario({ main: [apiError(400, 'bad request')] }),
    segments: [{ prompt: 'bad' }],
  },
  {
    name: 'auto-mode-denied',
    about: '--permission-mode auto, a Bash touching a file outside the project: PermissionDenied',
    allowedTools: [],
    extraArgs: ['--permission-mode', 'auto'],
    script: (p) => scenario({ main: [tools(bash(`touch ${p.root}/outside.txt`, 'touch outside project')), text('done')] }),
    segments: [{ prompt: 'touch' }],
  },
  {
    name: 'cwd-and-config',
    about: 'a Bash that cds into a subdirectory (CwdChanged), one writing outside the project (PermissionRequest:Bash), one that rewrites .claude/settings.local.json with node (ConfigChange)',
    allowedTools: ['Bash'],
    files: () => ({ 'sub/.keep': '', '.claude/settings.local.json': '{}' }),
    script: (p) =>
      scenario({
        main: [tools(bash('cd sub')), tools(bash(`mkdir -p ${p.home}/.claude && echo '{"env":{"X":"1"}}' > ${p.home}/.claude/settings.json`)), tools(bash(`node -e "require('fs').writeFileSync('${p.dir}/.claude/settings.local.json', JSON.stringify({ env: { Y: '2' } }))"; sleep 2; echo written`)), text('done')],
      }),
    segments: [{ prompt: 'move around' }],
  },
  {
    name: 'model-switch',
    about: 'stream-json: a turn, the SDK `set_model` control request (sonnet), another turn',
    allowedTools: ['Bash'],
    script: () => scenario({ main: [text('ok')] }),
    segments: [{ inputs: ['hello', JSON.stringify({ type: 'control_request', request_id: 'model-1', request: { subtype: 'set_model', model: 'sonnet' } }), 'again'] }],
  },
];
