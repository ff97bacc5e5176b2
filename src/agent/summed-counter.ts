/**
 * A counter for the per-event and per-call paths: its sums are plain numbers per attribute set,
 * observed at each collection (an ObservableCounter, cumulative), so that adding to it costs a map
 * lookup instead of the SDK hashing the attributes on every call. The caller names each attribute
 * set by a key it already has (a string it builds cheaply, or an attribute object it keeps).
 */
import type { Attributes, Meter, MetricOptions } from '@opentelemetry/api';

export interface SummedCounter {
  /** Adds `value` to the sum of `key`; `attributesOf(key)` is called once, when the key is first seen. */
  add<K>(key: K, value: number, attributesOf: (key: K) => Attributes): void;
}

/** For keys that are the attribute objects themselves. */
export const sameAttributes = (attributes: Attributes): Attributes => attributes;

export function createSummedCounter(meter: Meter, name: string, options: MetricOptions): SummedCounter {
  const sums = new Map<unknown, { value: number; attributes: Attributes }>();
  meter.createObservableCounter(name, options).addCallback((r) => {
    for (const { value, attributes } of sums.values()) r.observe(value, attributes);
  });
  return {
    add(key, value, attributesOf) {
      const sum = sums.get(key);
      if (sum) sum.value += value;
      else sums.set(key, { value, attributes: attributesOf(key) });
    },
  };
}
