export * from './types.js';
export { parseAdmissionReview, type ParsedReview } from './review.js';
export { admissionReviewResponse, MAX_WARNING_LENGTH } from './response.js';
export { reviewAdmission, type ReviewOutcome, type ReviewSummary } from './webhook.js';
export { parseTimeoutParameter } from './timeout.js';
