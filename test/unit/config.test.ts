import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, otlpSignalUrl, type LoadConfigOptions } from '../../src/config/load.js';
import { formatEffectiveConfig, maskConfig } from '../../src/config/format.js';
import { detectProfile } from '../../src/config/profiles.js';
import { performanceCategory, recommendation, thresholdsFor } from '../../src/config/thresholds.js';

const HOME = '/home/dev';
const CONFIG_PATH = '/home/dev/.claude-otel/config.json';

function load(opts: { env?: Record<string, string>; flags?: LoadConfigOptions['flags']; file?: unknown } = {}) {
  return loadConfig({
    env: opts.env ?? {},
    flags: opts.flags ?? {},
    home: HOME,
    readFile: (path) =>
      path === CONFIG_PATH && opts.file !== undefined
        ? typeof opts.file === 'string'
          ? opts.file
          : JSON.stringify(opts.file)
        : undefined,
  });
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('detectProfile', () => {
  it('picks testing under CI or NODE_ENV=test, development for NODE_ENV=development, else production', () => {
    expect(detectProfile({ CI: 'true' }).profile).toBe('testing');
    expect(detectProfile({ NODE_ENV: 'test' }).profile).toBe('testing');
    expect(detectProfile({ NODE_ENV: 'development' }).profile).toBe('development');
    expect(detectProfile({}).profile).toBe('production');
    expect(detectProfile({ CI: 'false', NODE_ENV: 'production' }).profile).toBe('production');
  });
});

describe('loadConfig profiles', () => {
  it('production: throughput batching, capture off, strict thresholds', () => {
    const { config, sources } = load();
    expect(config.profile).toBe('production');
    expect(sources.profile).toBe('default');
    expect(config.home).toBe('/home/dev/.claude-otel');
    expect(config.agent).toEqual({
      host: '127.0.0.1',
      port: 4319,
      idleExitSeconds: 1800,
      sessionIdleCloseSeconds: 7200,
      reaperIntervalSeconds: 60,
    });
    expect(config.transport.mode).toBe('http');
    expect(config.export).toMatchObject({ serviceName: 'claude-code', flushDelayMs: 500, maxExportBatchSize: 512, maxQueueSize: 2048 });
    expect(config.export.otlpEndpoint).toBeUndefined();
    expect(config.capture).toEqual({ prompts: false, toolInputs: false, toolOutputs: false, modelMessages: false, maxValueBytes: 4096 });
    expect(config.thresholds.perTool.Bash).toEqual({ fastMs: 1000, slowMs: 30000, verySlowMs: 120000 });
    expect(config.log.level).toBe('info');
    expect(sources['export.flushDelayMs']).toBe('profile');
    expect(sources['agent.port']).toBe('default');
  });

  it('development: fast flush, debug logs, looser thresholds', () => {
    const { config } = load({ env: { NODE_ENV: 'development' } });
    expect(config.profile).toBe('development');
    expect(config.export.flushDelayMs).toBe(500);
    expect(config.log.level).toBe('debug');
    expect(config.thresholds.perTool.Bash?.slowMs).toBe(60000);
  });

  it('testing: immediate flush, quiet, small store', () => {
    const { config } = load({ env: { CI: 'true' } });
    expect(config.profile).toBe('testing');
    expect(config.export.flushDelayMs).toBe(50);
    expect(config.export.maxExportBatchSize).toBe(64);
    expect(config.log.level).toBe('warn');
    expect(config.store.maxAgeHours).toBe(24);
  });

  it('takes the profile from CLAUDE_OTEL_PROFILE over the file and auto-detection', () => {
    expect(load({ env: { CI: 'true', CLAUDE_OTEL_PROFILE: 'development' } }).config.profile).toBe('development');
    expect(load({ env: { CI: 'true' }, file: { profile: 'production' } }).config.profile).toBe('production');
    expect(load({ env: { CLAUDE_OTEL_PROFILE: 'testing' }, file: { profile: 'production' } }).config.profile).toBe('testing');
  });
});

describe('loadConfig precedence', () => {
  it('flags > env > file > profile', () => {
    const file = { agent: { port: 5001 }, export: { flushDelayMs: 1234, serviceName: 'from-file' }, log: { level: 'error' } };
    const env = { CLAUDE_OTEL_PORT: '5002', CLAUDE_OTEL_FLUSH_DELAY_MS: '2222' };
    const r = load({ env, file, flags: { port: '5003' } });
    expect(r.config.agent.port).toBe(5003);
    expect(r.sources['agent.port']).toBe('flag');
    expect(r.config.export.flushDelayMs).toBe(2222);
    expect(r.sources['export.flushDelayMs']).toBe('env');
    expect(r.origins['export.flushDelayMs']).toBe('env CLAUDE_OTEL_FLUSH_DELAY_MS');
    expect(r.config.export.serviceName).toBe('from-file');
    expect(r.sources['export.serviceName']).toBe('file');
    expect(r.config.log.level).toBe('error');
    expect(r.config.export.maxExportBatchSize).toBe(512);
    expect(r.sources['export.maxExportBatchSize']).toBe('profile');
  });

  it('reads the standard OTEL_* variables, with our own prefix winning', () => {
    const r = load({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=acme',
        OTEL_SERVICE_NAME: 'svc',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=dev,team=ai',
        CLAUDE_OTEL_SERVICE_NAME: 'ours',
      },
    });
    expect(r.config.export.otlpEndpoint).toBe('http://collector:4318');
    expect(r.config.export.otlpHeaders).toEqual({ authorization: 'Bearer abc', 'x-tenant': 'acme' });
    expect(r.config.export.resourceAttributes).toEqual({ 'deployment.environment': 'dev', team: 'ai' });
    expect(r.config.export.serviceName).toBe('ours');
    expect(otlpSignalUrl(r.config, 'traces')).toBe('http://collector:4318/v1/traces');
    const t = load({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' } });
    expect(otlpSignalUrl(t.config, 'traces')).toBe('http://c:4318/custom');
  });

  it('merges per-tool thresholds key by key and fills gaps from thresholds.default', () => {
    const r = load({ file: { thresholds: { perTool: { Bash: { slowMs: 45000 }, mcp__github__search: { slowMs: 2000 } } } } });
    expect(r.config.thresholds.perTool.Bash).toEqual({ fastMs: 1000, slowMs: 45000, verySlowMs: 120000 });
    expect(r.sources['thresholds.perTool.Bash.slowMs']).toBe('file');
    expect(r.sources['thresholds.perTool.Bash.fastMs']).toBe('default');
    expect(r.config.thresholds.perTool.mcp__github__search).toEqual({ fastMs: 500, slowMs: 2000, verySlowMs: 60000 });
  });

  it('reads CLAUDE_OTEL_HOME (with ~) to locate the state dir and config file', () => {
    const r = loadConfig({
      env: { CLAUDE_OTEL_HOME: '~/otel-state' },
      home: HOME,
      readFile: (p) => (p === '/home/dev/otel-state/config.json' ? '{"capture":{"prompts":true}}' : undefined),
    });
    expect(r.config.home).toBe('/home/dev/otel-state');
    expect(r.config.capture.prompts).toBe(true);
    expect(r.configFile).toEqual({ path: '/home/dev/otel-state/config.json', found: true });
  });

  it('parses booleans from env', () => {
    const r = load({ env: { CLAUDE_OTEL_CAPTURE_PROMPTS: 'yes', CLAUDE_OTEL_CAPTURE_TOOL_INPUTS: '1', CLAUDE_OTEL_CAPTURE_TOOL_OUTPUTS: 'false' } });
    expect(r.config.capture).toMatchObject({ prompts: true, toolInputs: true, toolOutputs: false });
  });
});

describe('loadConfig errors name the field, the problem and the fix', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['profile (env)', () => load({ env: { CLAUDE_OTEL_PROFILE: 'staging' } }), /profile \(from env CLAUDE_OTEL_PROFILE\): "staging" is not a profile\. Fix: use production/],
    ['profile (file)', () => load({ file: { profile: 'prod' } }), /profile \(from file .*config\.json\)/],
    ['agent.host', () => load({ env: { CLAUDE_OTEL_HOST: '0.0.0.0' } }), /agent\.host \(from env CLAUDE_OTEL_HOST\): "0\.0\.0\.0" must be a loopback address.*Fix: set the environment variable CLAUDE_OTEL_HOST to a loopback/],
    ['agent.port (not a number)', () => load({ env: { CLAUDE_OTEL_PORT: 'abc' } }), /agent\.port \(from env CLAUDE_OTEL_PORT\): "abc" is not a whole number\. Fix: set the environment variable CLAUDE_OTEL_PORT to a free TCP port/],
    ['agent.port (range)', () => load({ flags: { port: 70000 } }), /agent\.port \(from flag --port\): 70000 .*Fix: pass --port a free TCP port/],
    ['agent.idleExitSeconds', () => load({ file: { agent: { idleExitSeconds: -1 } } }), /agent\.idleExitSeconds \(from file/],
    ['agent.sessionIdleCloseSeconds', () => load({ file: { agent: { sessionIdleCloseSeconds: 'long' } } }), /agent\.sessionIdleCloseSeconds .*"long" is not a number/],
    ['agent.reaperIntervalSeconds', () => load({ env: { CLAUDE_OTEL_REAPER_INTERVAL_SECONDS: '0' } }), /agent\.reaperIntervalSeconds/],
    ['transport.mode', () => load({ env: { CLAUDE_OTEL_TRANSPORT: 'grpc' } }), /transport\.mode \(from env CLAUDE_OTEL_TRANSPORT\): "grpc".*Fix: set the environment variable CLAUDE_OTEL_TRANSPORT to http or durable/],
    ['export.otlpEndpoint', () => load({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' } }), /export\.otlpEndpoint \(from env OTEL_EXPORTER_OTLP_ENDPOINT\).*http/],
    ['export.otlpTracesEndpoint', () => load({ file: { export: { otlpTracesEndpoint: 'ftp://x' } } }), /export\.otlpTracesEndpoint/],
    ['export.otlpHeaders (env)', () => load({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'novalue' } }), /export\.otlpHeaders \(from env OTEL_EXPORTER_OTLP_HEADERS\): the entry "novalue" is not key=value/],
    ['export.otlpHeaders (file)', () => load({ file: { export: { otlpHeaders: { a: 1 } } } }), /export\.otlpHeaders\.a/],
    ['export.serviceName', () => load({ file: { export: { serviceName: '' } } }), /export\.serviceName/],
    ['export.resourceAttributes', () => load({ file: { export: { resourceAttributes: 'a=b' } } }), /export\.resourceAttributes .*is not an object/],
    ['export.flushDelayMs', () => load({ env: { OTEL_BSP_SCHEDULE_DELAY: '1.5' } }), /export\.flushDelayMs \(from env OTEL_BSP_SCHEDULE_DELAY\)/],
    ['export.maxExportBatchSize', () => load({ file: { export: { maxExportBatchSize: 5000, maxQueueSize: 100 } } }), /export\.maxExportBatchSize .*must not exceed export\.maxQueueSize/],
    ['export.maxQueueSize', () => load({ env: { CLAUDE_OTEL_MAX_QUEUE_SIZE: '0' } }), /export\.maxQueueSize/],
    ['export.exportTimeoutMs', () => load({ file: { export: { exportTimeoutMs: 1 } } }), /export\.exportTimeoutMs/],
    ['capture.prompts', () => load({ env: { CLAUDE_OTEL_CAPTURE_PROMPTS: 'maybe' } }), /capture\.prompts \(from env CLAUDE_OTEL_CAPTURE_PROMPTS\): "maybe" is not a boolean\. Fix: set the environment variable CLAUDE_OTEL_CAPTURE_PROMPTS to true or false/],
    ['capture.toolInputs', () => load({ file: { capture: { toolInputs: 'yes' } } }), /capture\.toolInputs .*is not a boolean/],
    ['capture.toolOutputs', () => load({ env: { CLAUDE_OTEL_CAPTURE_TOOL_OUTPUTS: '2' } }), /capture\.toolOutputs/],
    ['capture.maxValueBytes', () => load({ file: { capture: { maxValueBytes: 1 } } }), /capture\.maxValueBytes/],
    ['redaction.extraPatterns', () => load({ file: { redaction: { extraPatterns: ['ok', '(unclosed'] } } }), /redaction\.extraPatterns\.1 .*not a valid regular expression/],
    ['thresholds.default', () => load({ file: { thresholds: { default: { fastMs: 5000, slowMs: 100 } } } }), /thresholds\.default .*fastMs < slowMs < verySlowMs/],
    ['thresholds.perTool', () => load({ file: { thresholds: { perTool: { Bash: { slowMs: 500000 } } } } }), /thresholds\.perTool\.Bash .*fastMs < slowMs < verySlowMs/],
    ['store.maxBytes', () => load({ env: { CLAUDE_OTEL_STORE_MAX_BYTES: '-5' } }), /store\.maxBytes/],
    ['store.maxAgeHours', () => load({ file: { store: { maxAgeHours: 0 } } }), /store\.maxAgeHours/],
    ['log.level', () => load({ env: { CLAUDE_OTEL_LOG_LEVEL: 'verbose' } }), /log\.level \(from env CLAUDE_OTEL_LOG_LEVEL\): "verbose".*Fix: set the environment variable CLAUDE_OTEL_LOG_LEVEL to one of debug/],
    ['unknown key', () => load({ file: { capture: { prompt: true } } }), /capture\.prompt \(from file .*\): is not a known setting/],
    ['unknown flag', () => load({ flags: { 'agent.prot': '1' } }), /agent\.prot .*not a known setting/],
    ['home in file', () => load({ file: { home: '/x' } }), /home .*CLAUDE_OTEL_HOME/],
    ['invalid JSON', () => load({ file: '{ "capture": ' }), /config\.json is not valid JSON/],
  ];
  for (const [name, fn, pattern] of cases) {
    it(name, () => {
      expect(errorOf(fn).message).toMatch(pattern);
    });
  }

  it('reports every bad field at once', () => {
    const err = errorOf(() => load({ file: { agent: { port: 0 }, log: { level: 'loud' } } }));
    expect(err.issues.map((i) => i.path).sort()).toEqual(['agent.port', 'log.level']);
  });
});

describe('formatEffectiveConfig', () => {
  it('shows each value with its source and masks secrets', () => {
    const r = load({
      env: {
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20supersecretvalue123,x-honeycomb-team=hcteamkey999',
        CLAUDE_OTEL_OTLP_ENDPOINT: 'https://user:pa55word@otel.example.com:4318?api_key=abc123',
        CLAUDE_OTEL_PORT: '4400',
      },
    });
    const text = formatEffectiveConfig(r);
    expect(text).not.toContain('supersecretvalue123');
    expect(text).not.toContain('hcteamkey999');
    expect(text).not.toContain('pa55word');
    expect(text).not.toContain('abc123');
    expect(text).toMatch(/export\.otlpHeaders\s+\{"authorization":"\*\*\*\*","x-honeycomb-team":"\*\*\*\*"\}\s+\[env OTEL_EXPORTER_OTLP_HEADERS\]/);
    expect(text).toMatch(/agent\.port\s+4400\s+\[env CLAUDE_OTEL_PORT\]/);
    expect(text).toMatch(/export\.flushDelayMs\s+500\s+\[profile production\]/);
    expect(text).toMatch(/profile:\s+production \(auto-detected/);
    expect(maskConfig(r.config).export.otlpHeaders.authorization).toBe('****');
    expect(r.config.export.otlpHeaders.authorization).toBe('Bearer supersecretvalue123');
  });
});

describe('thresholds', () => {
  const { config } = load();

  it('categorizes by per-tool thresholds, wildcard entries and the default', () => {
    expect(performanceCategory('Bash', 500, config)).toBe('fast');
    expect(performanceCategory('Bash', 5000, config)).toBe('normal');
    expect(performanceCategory('Bash', 30000, config)).toBe('slow');
    expect(performanceCategory('Bash', 120000, config)).toBe('very_slow');
    expect(performanceCategory('Read', 20, config)).toBe('fast');
    expect(performanceCategory('Read', 2000, config)).toBe('slow');
    expect(thresholdsFor('mcp__github__search', config)).toEqual(config.thresholds.perTool['mcp__*']);
    expect(thresholdsFor('SomethingNew', config)).toEqual(config.thresholds.default);
  });

  it('recommends only where there is something to say', () => {
    expect(recommendation('Bash', 'slow', { durationMs: 45000 })).toMatch(/run_in_background/);
    expect(recommendation('Bash', 'slow', { input: { run_in_background: true } })).toBeUndefined();
    expect(recommendation('Bash', 'normal', { error: 'Command timed out after 2m 0.0s' })).toMatch(/timed out/);
    expect(recommendation('WebFetch', 'very_slow', { durationMs: 50000 })).toMatch(/Slow WebFetch \(50s\)/);
    expect(recommendation('Agent', 'slow')).toMatch(/subagent/);
    expect(recommendation('mcp__github__search', 'slow')).toMatch(/"github"/);
    expect(recommendation('Read', 'normal')).toBeUndefined();
    expect(recommendation('Bash', 'slow', { isInterrupt: true })).toBeUndefined();
  });
});
