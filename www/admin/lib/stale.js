// The one stale-response guard. `const guard = latest();` then, for each request:
//   const current = guard.begin();  ...await...;  if (!current()) return;
// An answer counts only while no later begin() (or cancel()) happened on the same guard, so a
// slow answer for a client or page the user has already left never overwrites a newer one.
export function latest() {
  let seq = 0;
  return {
    begin() {
      const mine = ++seq;
      return () => mine === seq;
    },
    cancel() { seq += 1; },
  };
}
