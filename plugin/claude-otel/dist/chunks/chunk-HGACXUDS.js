import { createRequire as __claudeOtelRequire } from 'node:module'; const require = __claudeOtelRequire(import.meta.url);
import{a as c,c as r}from"./chunk-UY2C3U2T.js";var t=r(e=>{"use strict";Object.defineProperty(e,"__esModule",{value:!0});e.execAsync=void 0;var s=c("child_process"),i=c("util");e.execAsync=i.promisify(s.exec)});export{t as a};
