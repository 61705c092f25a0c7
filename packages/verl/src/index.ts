// Public API of @orbiter/verl. Two sections: tensors & policy (part 1) and algorithms & trainer (part 2).
// Keep each export in its own section; edit with small, targeted changes.

// --- part 1: backends, tokenizers, policy, rollout, checkpoints, supervised fine-tuning ---

// --- part 2: config, rewards, advantages, losses, KL, VeRLTrainer ---
export {};
