import { renderSupportReply, SUPPORT_REPLY_MAX } from '../../lambdas/report/support-reply';
import { ACCOUNT, SAMPLE_KEY } from '../fixtures/events';
import { aContainedResult, anIncident } from '../fixtures/incidents';
import {
  aLargeReportInput,
  aReportInput,
  MINTED_KEY,
  OUTSIDE_ACCOUNT,
} from '../fixtures/report/report-input';

describe('renderSupportReply', () => {
  it('answers what AWS asks: keys, timeline, activity, resources with their removal, what remains', () => {
    // Act
    const text = renderSupportReply(aReportInput());

    // Assert
    expect(text.split('\n')[0]).toBe(
      `Subject: Re: exposed access key ${SAMPLE_KEY} in account ${ACCOUNT} [case id: fill in]`,
    );
    const headings = text.split('\n').filter((l) => /^\d\. [A-Z ]+$/.test(l));
    expect(headings).toEqual([
      '1. ACCESS KEYS',
      '2. TIMELINE',
      '3. UNAUTHORIZED ACTIVITY FOUND',
      '4. UNAUTHORIZED RESOURCES AND THEIR REMOVAL',
      '5. WHAT REMAINS TO CHECK',
      '6. BILLING',
    ]);
    expect(text).toContain(
      `- ${SAMPLE_KEY} (IAM user ci-deployer): deactivated 2025-02-12 00:38:36Z, 42 seconds after your detection. Temporary credentials issued with it before then are revoked`,
    );
    expect(text).toContain('- 2025-02-12 00:34:32Z First call by the unauthorized party.');
    expect(text).toContain(`ModifySnapshotAttribute in us-east-1 (snap-0example000001, ${OUTSIDE_ACCOUNT})`);
    expect(text).toContain(
      `Removal: aws iam update-access-key --user-name deploy-bot --access-key-id ${MINTED_KEY} --status Inactive`,
    );
    expect(text).toContain('[status: removed / in progress]');
    expect(text).toContain('- CloudTrail in me-central-1 was not fully read (States.Timeout: no detail).');
    expect(text).toContain('S3 object reads cannot be ruled out.');
    expect(text).toContain('The key was exposed at https://github.com/example/repo');
    expect(text).not.toMatch(/attacker/i);
  });

  it('fits a support case message with 500 findings and 300 resources, keeping what remains to check', () => {
    // Act
    const text = renderSupportReply(aLargeReportInput());

    // Assert
    expect(text.length).toBeLessThanOrEqual(SUPPORT_REPLY_MAX);
    expect(text).toMatch(/- \.\.\. and \d+ more changes, listed in our incident report\./);
    expect(text).toMatch(/- \.\.\. and \d+ more, with their removal commands, in our incident report\./);
    expect(text).toContain('5. WHAT REMAINS TO CHECK');
    expect(text.trimEnd().endsWith('[name, role, phone]')).toBe(true);
  });

  it('asks a person to fill in what the evidence does not show', () => {
    // Act
    const text = renderSupportReply(
      aReportInput({
        containment: [
          aContainedResult({
            decision: 'manual-required',
            containedAt: undefined,
            keyStatusAfter: 'Active',
            owner: { type: 'root' },
          }),
        ],
        activity: { skipped: 'collection failed' },
        analysis: undefined,
        inventory: undefined,
      }),
    );

    // Assert
    expect(text).toContain(`- ${SAMPLE_KEY} (ROOT user): NOT yet deactivated`);
    expect(text).toContain('[The CloudTrail review did not complete: state what was reviewed by hand.]');
    expect(text).toContain('[The automated analysis did not run: summarize the activity by hand.]');
    expect(text).toContain('[The automated inventory did not run: list what was found and removed by hand.]');
    expect(text).toContain('- Analysis is missing: no result reached the report.');
    expect(text).not.toContain('6. BILLING');
  });

  it('says a drill has no case to answer', () => {
    // Act
    const text = renderSupportReply(aReportInput({ incident: anIncident({ trigger: 'drill' }) }));

    // Assert
    expect(text.split('\n')[0]).toMatch(/^\[DRILL: .* do not send\.\]$/);
  });
});
