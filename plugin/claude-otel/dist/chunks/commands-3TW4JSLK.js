import { createRequire as __claudeOtelRequire } from 'node:module'; const require = __claudeOtelRequire(import.meta.url);
import{a,b}from"./chunk-6JWMMDUJ.js";import"./chunk-5WTF5HVU.js";import"./chunk-QAIR7VZW.js";import"./chunk-7VIAMRHX.js";import"./chunk-WVP3WMTH.js";import"./chunk-UY2C3U2T.js";export{a as runSessionsCommand,b as runTraceCommand};
