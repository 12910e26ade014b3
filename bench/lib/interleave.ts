/**
 * Runs several variants in rounds (A B C, A B C, ...) so drift on the machine affects each alike.
 * The warm-up rounds are run and discarded.
 */

export interface Variant<T> {
  readonly name: string;
  readonly run: () => Promise<T>;
}

export async function interleaved<T>(
  variants: readonly Variant<T>[],
  rounds: number,
  warmupRounds: number,
  onSample?: (name: string, round: number, value: T) => void,
): Promise<Record<string, T[]>> {
  const samples: Record<string, T[]> = Object.fromEntries(variants.map((v) => [v.name, [] as T[]]));
  for (let round = -warmupRounds; round < rounds; round++) {
    for (const variant of variants) {
      const value = await variant.run();
      if (round >= 0) samples[variant.name].push(value);
      onSample?.(variant.name, round, value);
    }
  }
  return samples;
}
