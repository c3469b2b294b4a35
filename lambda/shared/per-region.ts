/**
 * A cache of SDK clients per region, created on first use and kept for the container's life: a
 * handler that serves targets in several regions creates each region's clients once.
 */
export function perRegion<T>(create: (region: string) => T): (region: string) => T {
  const byRegion = new Map<string, T>();
  return (region) => {
    let clients = byRegion.get(region);
    if (!clients) {
      clients = create(region);
      byRegion.set(region, clients);
    }
    return clients;
  };
}
