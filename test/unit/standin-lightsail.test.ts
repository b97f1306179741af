import {
  CreateInstancesCommand,
  DeleteInstanceCommand,
  GetInstancesCommand,
  GetKeyPairsCommand,
  type Instance,
  InvalidInputException,
  LightsailClient,
  NotFoundException,
} from '@aws-sdk/client-lightsail';
import { type LightsailStandIn, startLightsailStandIn } from '../../scripts/standins/lightsail';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const T0 = Date.parse('2026-11-24T10:00:00Z');

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

/** Lightsail's JS client has no paginator: follow nextPageToken by hand, as callers must. */
async function allInstances(client: LightsailClient) {
  const pages: Instance[][] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.send(new GetInstancesCommand({ pageToken }));
    pages.push(page.instances ?? []);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return pages;
}

describe('Lightsail stand-in', () => {
  let clock = T0;
  let lightsail: LightsailStandIn;
  const clients: LightsailClient[] = [];
  const client = (region: string) => {
    const c = new LightsailClient({ endpoint: lightsail.endpoint, region, credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    lightsail = await startLightsailStandIn({ pageSize: 2, now: () => clock, pendingMs: 30_000 });
  });
  beforeEach(() => {
    lightsail.reset();
    clock = T0;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await lightsail.stop();
  });

  it('creates instances in the Region of the request and lists them there only', async () => {
    const eu = client('eu-west-1');
    const { operations } = await eu.send(
      new CreateInstancesCommand({
        instanceNames: ['miner-1', 'miner-2'],
        availabilityZone: 'eu-west-1b',
        blueprintId: 'ubuntu_22_04',
        bundleId: '2xlarge_3_0',
        tags: [{ key: 'owner', value: 'nobody' }],
      }),
    );

    expect(operations).toEqual([
      expect.objectContaining({
        resourceName: 'miner-1',
        resourceType: 'Instance',
        operationType: 'CreateInstance',
        status: 'Started',
        isTerminal: false,
        createdAt: new Date(T0),
        location: { availabilityZone: 'eu-west-1b', regionName: 'eu-west-1' },
      }),
      expect.objectContaining({ resourceName: 'miner-2' }),
    ]);
    const { instances } = await eu.send(new GetInstancesCommand({}));
    expect(instances?.[0]).toEqual({
      name: 'miner-1',
      arn: expect.stringMatching(/^arn:aws:lightsail:eu-west-1:123456789012:Instance\/[0-9a-f-]{36}$/),
      supportCode: expect.stringMatching(/^123456789012\/i-[0-9a-f]{17}$/),
      createdAt: new Date(T0),
      location: { availabilityZone: 'eu-west-1b', regionName: 'eu-west-1' },
      resourceType: 'Instance',
      tags: [{ key: 'owner', value: 'nobody' }],
      blueprintId: 'ubuntu_22_04',
      bundleId: '2xlarge_3_0',
      isStaticIp: false,
      privateIpAddress: expect.stringMatching(/^172\.26\./),
      publicIpAddress: expect.any(String),
      ipv6Addresses: [expect.any(String)],
      ipAddressType: 'dualstack',
      state: { code: 0, name: 'pending' },
      username: 'ubuntu',
      sshKeyName: 'LightsailDefaultKeyPair',
    });
    expect((await client('us-east-1').send(new GetInstancesCommand({}))).instances).toEqual([]);

    clock += 30_000;
    const later = await eu.send(new GetInstancesCommand({}));
    expect(later.instances?.map((i) => i.state)).toEqual([
      { code: 16, name: 'running' },
      { code: 16, name: 'running' },
    ]);
    expect(lightsail.instances().map((i) => `${i.region}/${i.name}`)).toEqual([
      'eu-west-1/miner-1',
      'eu-west-1/miner-2',
    ]);
  });

  it('pages GetInstances with pageToken, oldest first, without repeats when instances arrive between pages', async () => {
    lightsail.addInstances(
      ['vm-a', 'vm-b', 'vm-c', 'vm-d', 'vm-e'].map((name, i) => ({
        region: 'eu-west-1',
        name,
        createdAt: new Date(T0 - (10 - i) * 60_000),
      })),
    );
    const eu = client('eu-west-1');
    const first = await eu.send(new GetInstancesCommand({}));
    expect(first.instances?.map((i) => i.name)).toEqual(['vm-a', 'vm-b']);
    // Created now: after every listed position, so it shows up on the last page, once.
    lightsail.addInstances([{ region: 'eu-west-1', name: 'late' }]);

    const names = [...(first.instances ?? [])].map((i) => i.name);
    let pageToken = first.nextPageToken;
    const sizes = [first.instances?.length];
    while (pageToken) {
      const page = await eu.send(new GetInstancesCommand({ pageToken }));
      names.push(...(page.instances ?? []).map((i) => i.name));
      sizes.push(page.instances?.length);
      pageToken = page.nextPageToken;
    }

    expect(names).toEqual(['vm-a', 'vm-b', 'vm-c', 'vm-d', 'vm-e', 'late']);
    expect(sizes).toEqual([2, 2, 2]);
    expect(lightsail.requests('eu-west-1', 'GetInstances')).toBe(3);
    expect((await allInstances(client('us-west-2'))).flat()).toEqual([]);
  });

  it('rejects a page token that is garbage or comes from another Region', async () => {
    lightsail.addInstances(['vm-a', 'vm-b', 'vm-c'].map((name) => ({ region: 'eu-west-1', name })));
    const { nextPageToken } = await client('eu-west-1').send(new GetInstancesCommand({}));

    expect(
      await rejection(client('eu-west-1').send(new GetInstancesCommand({ pageToken: 'garbage' }))),
    ).toBeInstanceOf(InvalidInputException);
    expect(
      await rejection(client('eu-west-2').send(new GetInstancesCommand({ pageToken: nextPageToken }))),
    ).toBeInstanceOf(InvalidInputException);
  });

  it('deletes an instance, and answers NotFoundException for one that does not exist', async () => {
    lightsail.addInstances([{ region: 'eu-west-1', name: 'miner-1', state: 'running' }]);
    const eu = client('eu-west-1');

    const { operations } = await eu.send(new DeleteInstanceCommand({ instanceName: 'miner-1' }));
    expect(operations).toEqual([
      expect.objectContaining({ resourceName: 'miner-1', operationType: 'DeleteInstance' }),
    ]);
    expect(lightsail.instances('eu-west-1')).toEqual([]);

    const missing = await rejection(eu.send(new DeleteInstanceCommand({ instanceName: 'miner-1' })));
    expect(missing).toBeInstanceOf(NotFoundException);
    expect(missing.$metadata?.httpStatusCode).toBe(404);
    // Instances are per Region: the same name elsewhere is another instance.
    lightsail.addInstances([{ region: 'us-east-1', name: 'miner-1' }]);
    await expect(eu.send(new DeleteInstanceCommand({ instanceName: 'miner-1' }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it('validates CreateInstances input', async () => {
    lightsail.addInstances([{ region: 'eu-west-1', name: 'taken' }]);
    const create = (instanceNames: string[], availabilityZone = 'eu-west-1a') =>
      rejection(
        client('eu-west-1').send(
          new CreateInstancesCommand({
            instanceNames,
            availabilityZone,
            blueprintId: 'debian_12',
            bundleId: 'nano_3_0',
          }),
        ),
      );

    expect(await create(['taken'])).toBeInstanceOf(InvalidInputException);
    expect(await create(['new', 'new'])).toBeInstanceOf(InvalidInputException);
    expect(await create(['-bad-'])).toBeInstanceOf(InvalidInputException);
    expect(await create(['ok'], 'us-east-1a')).toBeInstanceOf(InvalidInputException);
    // A rejected batch creates nothing.
    expect(await create(['fresh', 'taken'])).toBeInstanceOf(InvalidInputException);
    expect(lightsail.instances().map((i) => i.name)).toEqual(['taken']);
    expect(() => lightsail.addInstances([{ region: 'eu-west-1', name: 'taken' }])).toThrow(/already in use/);
  });

  it('reports stopped seeds without a public address and a seed blueprint login user', async () => {
    lightsail.addInstances([{ region: 'eu-west-1', name: 'wp', blueprintId: 'wordpress', state: 'stopped' }]);

    const { instances } = await client('eu-west-1').send(new GetInstancesCommand({}));

    expect(instances?.[0]).toMatchObject({ state: { code: 80, name: 'stopped' }, username: 'bitnami' });
    expect(instances?.[0]?.publicIpAddress).toBeUndefined();
  });

  it('fails a Region set to fail, and answers other operations with UnknownOperationException', async () => {
    lightsail.failRegion('ap-east-1', {
      code: 'AccessDeniedException',
      message: 'Region not enabled',
      status: 403,
    });

    const denied = await rejection(client('ap-east-1').send(new GetInstancesCommand({})));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    await expect(client('eu-west-1').send(new GetInstancesCommand({}))).resolves.toBeDefined();
    lightsail.failRegion('ap-east-1', undefined);
    await expect(client('ap-east-1').send(new GetInstancesCommand({}))).resolves.toBeDefined();

    const unknown = await rejection(client('eu-west-1').send(new GetKeyPairsCommand({})));
    expect(unknown.name).toBe('UnknownOperationException');
    expect(lightsail.requests('ap-east-1')).toBe(2);
  });
});
