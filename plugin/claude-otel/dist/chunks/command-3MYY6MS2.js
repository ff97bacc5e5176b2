import { createRequire as __claudeOtelRequire } from 'node:module'; const require = __claudeOtelRequire(import.meta.url);
import{b as s,c as i}from"./chunk-ESO5O2MQ.js";import"./chunk-QSZ6CDPX.js";import{c as n,e as t}from"./chunk-3JPHM6WL.js";import"./chunk-WVP3WMTH.js";import"./chunk-UY2C3U2T.js";import{parseArgs as a}from"node:util";var f=`Usage: claude-otel config [--json] [--profile NAME] [--config FILE]

Prints the effective configuration, each value with its source
(flag > env > file > profile > default). Secrets are masked.
`;function p(l,e){let r;try{({values:r}=a({args:[...l],options:{json:{type:"boolean"},profile:{type:"string"},config:{type:"string"},help:{type:"boolean",short:"h"}},strict:!0,allowPositionals:!1}))}catch(o){return e.stderr(`claude-otel config: ${o.message}
${f}`),2}if(r.help)return e.stdout(f),0;try{let o=t({env:e.env,flags:{profile:r.profile,config:r.config},...e.homedir?{home:e.homedir()}:{}});return r.json?e.stdout(`${JSON.stringify({config:s(o.config),sources:o.sources,origins:o.origins},null,2)}
`):e.stdout(i(o)),0}catch(o){if(o instanceof n)return e.stderr(`${o.message}
`),1;throw o}}export{f as CONFIG_USAGE,p as runConfigCommand};
