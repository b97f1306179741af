import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

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
