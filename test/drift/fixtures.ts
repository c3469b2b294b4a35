/** A small baseline.json as ml/preprocess.py writes it: two numeric features and one categorical. */
export function baselineJson(): Record<string, unknown> {
  return {
    schema_version: 1,
    rows: 100,
    label: 'duration',
    feature_order: ['distance', 'zone', 'hour'],
    features: {
      distance: {
        type: 'numeric',
        bin_edges: [null, 1, 2, 5, null],
        proportions: [0.25, 0.25, 0.25, 0.25],
        mean: 2.5,
        std: 1.5,
      },
      hour: { type: 'numeric', bin_edges: [null, 12, null], proportions: [0.5, 0.5], mean: 12, std: 6 },
      zone: { type: 'categorical', proportions: { '132': 0.5, '7': 0.3 }, other: 0.2 },
    },
  };
}
