/**
 * Every message on the alert topic says what it is in a message attribute, so a subscriber can filter
 * (an SNS filter policy on `kind`: a pager for containment and failure only, a ticket queue for reports).
 */
export const MESSAGE_KIND_ATTRIBUTE = 'kind';

export type MessageKind = 'containment' | 'confirmation' | 'failure' | 'report';

export function messageKind(kind: MessageKind) {
  return { [MESSAGE_KIND_ATTRIBUTE]: { DataType: 'String', StringValue: kind } };
}
