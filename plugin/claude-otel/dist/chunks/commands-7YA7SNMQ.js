import { createRequire as __claudeOtelRequire } from 'node:module'; const require = __claudeOtelRequire(import.meta.url);
import{a,b}from"./chunk-2CTZWOJY.js";import"./chunk-IHKXTEY2.js";import"./chunk-GMRFQBTE.js";import"./chunk-WNPGMZAR.js";import"./chunk-UY2C3U2T.js";export{a as runSessionsCommand,b as runTraceCommand};
