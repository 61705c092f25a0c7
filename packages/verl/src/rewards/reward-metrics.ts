import type { RewardScores } from "./score-rewards.js";

function meanAndStd(values: ReadonlyArray<number>): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 0 };
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Reward metrics of a batch under verl's names: `reward/mean`, `reward/std`, `reward/max`, `reward/min` of the
 * combined score (responses where every reward abstained are left out), and per reward `rewards/<name>/mean`
 * (over responses it scored), `rewards/<name>/abstained` (fraction) and `rewards/<name>/errors` (count). When no
 * reward abstains, Σ_k weight_k·`rewards/<k>/mean` equals `reward/mean`.
 */
export function rewardMetrics(scores: RewardScores): Record<string, number> {
  const totals = scores.totals.filter((value): value is number => value !== null);
  const overall = meanAndStd(totals);
  const metrics: Record<string, number> = {
    "reward/mean": overall.mean,
    "reward/std": overall.std,
    "reward/max": totals.length > 0 ? Math.max(...totals) : 0,
    "reward/min": totals.length > 0 ? Math.min(...totals) : 0,
  };
  scores.names.forEach((name, k) => {
    const row = scores.values[k] ?? [];
    const scored = row.filter((value): value is number => value !== null);
    metrics[`rewards/${name}/mean`] = meanAndStd(scored).mean;
    // Without a count of abstentions (scores built by hand), every null is one.
    const abstained = scores.abstentions ? (scores.abstentions[name] ?? 0) : row.length - scored.length;
    metrics[`rewards/${name}/abstained`] = row.length === 0 ? 0 : abstained / row.length;
    metrics[`rewards/${name}/errors`] = scores.errors[name] ?? 0;
  });
  return metrics;
}
