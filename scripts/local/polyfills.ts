/**
 * aws-local-stepfunctions 3 targets Node >= 22 and calls Promise.withResolvers, which Node 20
 * (these machines) lacks. Lambda itself runs Node 24; this only concerns the local runner.
 */
const promise = Promise as unknown as { withResolvers?: () => unknown };
if (typeof promise.withResolvers !== 'function') {
  promise.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const p = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: p, resolve, reject };
  };
}
