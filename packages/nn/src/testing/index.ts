// Helpers for tests of packages built on @nephron/nn: the hash rule that gives both PyTorch and nephron the same
// weights and inputs for the parity fixtures (see fixtures/README.md).
export { ruleInput, ruleStateDict, ruleTarget } from '../models/parity-rule.js';
