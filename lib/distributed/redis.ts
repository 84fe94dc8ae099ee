/**
 * The Redis a distributed run goes through, from a URL: `redis://[user:password@]host[:port][/db]`, or `rediss://…`
 * for TLS (certificates checked against Node's CA store; NODE_EXTRA_CA_CERTS adds a private CA). The URL's
 * password is a secret: it is never printed — every message that may hold it passes through `redact`.
 */
import { InputError } from '../errors.js';

export interface RedisTarget {
  /** The URL with its password replaced by `***` (what logs and errors show). */
  shown: string;
  /** ioredis / BullMQ connection options. */
  connection: {
    host: string;
    port: number;
    username?: string;
    password?: string;
    db: number;
    tls?: { servername: string };
    maxRetriesPerRequest: null;
    retryStrategy: (times: number) => number;
  };
  /** Strings that must never reach a log: the password, raw and URL-encoded, and the URL itself. */
  secrets: string[];
}

export const REDIS_URL_ENV = 'SCSEG_REDIS_URL';

/** The Redis URL from the flag, else $SCSEG_REDIS_URL (which keeps a password out of `ps`). */
export function redisTarget(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  const url = flag ?? env[REDIS_URL_ENV];
  if (!url) throw new InputError(`no Redis: pass --redis redis://host:port (or set ${REDIS_URL_ENV})`, 'ERR_SCSEG_REDIS');
  return parseRedisUrl(url);
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError('--redis: not a URL; expected redis://[user:password@]host[:port][/db] or rediss://… (TLS)', 'ERR_SCSEG_REDIS');
  }
  const secrets = [url, u.password, decodeURIComponent(u.password)].filter((s) => s.length > 0);
  const hide = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InputError(`--redis: ${hide(u.protocol)} URL; expected redis://host[:port][/db] or rediss://… (TLS)`, 'ERR_SCSEG_REDIS');
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isSafeInteger(db) || db < 0) throw new InputError(`--redis: the database must be a number (/0, /1, …)`, 'ERR_SCSEG_REDIS');
  const port = u.port ? Number(u.port) : 6379;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const shown = `${u.protocol}//${u.username ? `${u.username}${u.password ? ':***' : ''}@` : u.password ? ':***@' : ''}${u.host}/${db}`;
  return {
    shown,
    secrets,
    connection: {
      host,
      port,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      db,
      ...(u.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
      // BullMQ's workers need commands to wait through a reconnect rather than fail (Redis restarts are survived).
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(200 * times, 2000),
    },
  };
}

/** `text` with every secret of `target` replaced by `***`. */
export function redact(text: string, target: Pick<RedisTarget, 'secrets'>): string {
  return target.secrets.reduce((t, s) => t.split(s).join('***'), text);
}

/** A Redis client (ioredis, loaded on first use: `scseg --version` never loads it). */
export async function redisClient(target: RedisTarget): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  return new Redis({ ...target.connection, lazyConnect: true });
}

/** Connects `client`, or fails within `ms` with an error that says where (password hidden) and why. */
export async function connectOrExplain(client: import('ioredis').Redis, target: RedisTarget, ms = 10_000): Promise<void> {
  let last = '';
  const onError = (e: Error) => (last = e.message);
  client.on('error', onError);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(last || `no answer within ${ms / 1000} s`)), ms))),
    ]);
  } catch (e) {
    client.disconnect();
    throw new InputError(`cannot reach Redis at ${target.shown}: ${redact(last || (e as Error).message, target)}`, 'ERR_SCSEG_REDIS');
  } finally {
    clearTimeout(timer);
  }
}
