import { createRequire as __claudeOtelRequire } from 'node:module'; const require = __claudeOtelRequire(import.meta.url);
import{b as r,c as a}from"./chunk-RPYWVA3J.js";import"./chunk-724HFJK6.js";import"./chunk-EQIQAOPQ.js";import"./chunk-UY2C3U2T.js";async function i(g,s){let{info:e,token:o}=r(s.env);if(!e||!o)return s.stderr(`agent: not running (no agent.json under CLAUDE_OTEL_HOME)
`),1;let n;try{n=await a(e.url,"/v1/status",o)}catch(t){return s.stderr(`agent: not reachable at ${e.url} (${t.message})
`),1}if(g.includes("--json"))return s.stdout(`${JSON.stringify(n,null,2)}
`),0;let u=s.now?.()??Date.now();return s.stdout([`agent       pid ${n.pid}, version ${n.version}, ${e.url}`,`export      ${n.otlp??"local store only"}; pending ${n.exportPending}, retrying ${n.retryBacklog}`,`spool       ${n.spoolBacklog} waiting`,`open spans  ${n.openSpans}; gaps marked ${n.gaps}`,`sessions    ${n.sessions.length} open`,...n.sessions.map(t=>`  ${t.sessionId}  turns ${t.openTurns}  tools ${t.openTools}  agents ${t.openAgents}  last event ${Math.round((u-t.lastEventMs)/1e3)}s ago`)].join(`
`)+`
`),0}export{i as runStatusCommand};
