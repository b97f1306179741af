import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the AWS JSON 1.1 services the stand-ins model (CloudTrail, Lightsail) have in common on the wire. */

/** The Region of the SigV4 credential scope: `Credential=AKID/20261124/us-west-2/cloudtrail/aws4_request`. */
export function signingRegion(authorization: string | undefined): string | undefined {
  const scope = /Credential=([^,\s]+)/.exec(authorization ?? '')?.[1]?.split('/');
  return scope && scope.length === 5 ? scope[2] : undefined;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

export interface LoopbackServer {
  endpoint: string;
  port: number;
  /** Closes the server and its keep-alive connections. Safe to call twice. */
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0: the OS picks one) and returns how to reach and stop the server. */
export async function listenOnLoopback(server: Server, port = 0): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    port: bound,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The SDK keeps connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
