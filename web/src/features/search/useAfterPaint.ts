import { useEffect, useState } from "react";

/**
 * True once the frame showing `key` (while `ready`) has been painted: work that can wait (the
 * facets, the suggestions) is asked then, so its answer never delays the frame a person waits for.
 */
export function useAfterPaint(ready: boolean, key: string): boolean {
  const [painted, setPainted] = useState<string | null>(null);
  useEffect(() => {
    if (!ready) return;
    let timeout = 0;
    // The callback runs just before the next frame; the timeout after that frame is painted.
    const frame = requestAnimationFrame(() => { timeout = window.setTimeout(() => setPainted(key), 0); });
    return () => { cancelAnimationFrame(frame); window.clearTimeout(timeout); };
  }, [ready, key]);
  return ready && painted === key;
}
