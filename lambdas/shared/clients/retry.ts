/**
 * Adaptive retry with a few more attempts than the default: IAM throttles at low rates, and a
 * containment that gives up on the first throttle fails open.
 */
export const retryConfig = { maxAttempts: 5, retryMode: 'adaptive' } as const;
