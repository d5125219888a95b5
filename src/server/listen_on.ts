// Listening on host:port, the one way for every server renorm-tune starts: a port in use or an address not of this
// machine is a ConfigError naming the flag that set it, and the bound address comes back as a URL's host and port.
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';

export interface ListenFlags {
  /** The fields named when the port is taken or the host is not this machine's. */
  port: string;
  host: string;
  /** What to do about a port in use. */
  portFix: string;
}

/** Resolves with `host:port` as a URL writes it (IPv6 in brackets) once `server` listens. */
export function listenOn(server: Server, host: string, port: number, flags: ListenFlags): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new ConfigError(flags.port, `${host}:${port} is already in use`, flags.portFix)
        : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
          ? new ConfigError(flags.host, `cannot listen on ${host} (${err.code})`, 'use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0')
          : err);
    });
    server.listen(port, host, () => {
      const addr = server.address() as AddressInfo;
      resolve(`${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);
    });
  });
}
