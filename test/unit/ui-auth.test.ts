import { describe, expect, it } from 'vitest';
import { cookieValueFor, decideAccess, hostAllowed, readCookie, COOKIE_NAME } from '../../src/ui/auth.js';

const SECRET = 'a'.repeat(64);
const PORT = 4321;
const cookie = `${COOKIE_NAME}=${cookieValueFor(SECRET)}`;

describe('hostAllowed', () => {
  it('takes only loopback names with our port', () => {
    for (const h of ['127.0.0.1:4321', 'localhost:4321', 'LOCALHOST:4321', '[::1]:4321']) expect(hostAllowed(h, PORT), h).toBe(true);
    for (const h of [undefined, '', '127.0.0.1', '127.0.0.1:4322', 'evil.example:4321', 'localhost.evil.example:4321', '127.0.0.2:4321', '0.0.0.0:4321']) expect(hostAllowed(h, PORT), String(h)).toBe(false);
  });
});

describe('decideAccess', () => {
  it('exchanges the right token for a cookie and a redirect to the clean URL', () => {
    const d = decideAccess({ url: `/?token=${SECRET}&x=1`, host: '127.0.0.1:4321', cookie: undefined }, SECRET, PORT);
    expect(d).toEqual({ kind: 'login', location: '/?x=1', cookie: `${COOKIE_NAME}=${cookieValueFor(SECRET)}; HttpOnly; SameSite=Strict; Path=/` });
  });
  it('refuses a wrong token even with a good cookie, and no token without the cookie', () => {
    expect(decideAccess({ url: '/?token=b', host: 'localhost:4321', cookie }, SECRET, PORT).kind).toBe('refused');
    expect(decideAccess({ url: '/api/sessions', host: 'localhost:4321', cookie: undefined }, SECRET, PORT).kind).toBe('refused');
    expect(decideAccess({ url: '/api/sessions', host: 'localhost:4321', cookie: `${COOKIE_NAME}=${SECRET}` }, SECRET, PORT).kind).toBe('refused');
    expect(decideAccess({ url: '/api/sessions', host: 'localhost:4321', cookie: `other=1; ${cookie}` }, SECRET, PORT).kind).toBe('allowed');
  });
  it('checks the Host before anything else', () => {
    expect(decideAccess({ url: `/?token=${SECRET}`, host: 'evil.example:4321', cookie }, SECRET, PORT).kind).toBe('bad_host');
    expect(decideAccess({ url: '/', host: 'evil.example:4321', cookie }, SECRET, PORT).kind).toBe('bad_host');
  });
});

describe('readCookie', () => {
  it('finds one cookie among several', () => {
    expect(readCookie('a=1; b=2;c=3', 'b')).toBe('2');
    expect(readCookie('ab=1', 'b')).toBeUndefined();
    expect(readCookie(undefined, 'b')).toBeUndefined();
  });
});
