// kts started through npm (`npx kts server`, `npm exec`, `npm run …`) runs under `sh -c`
// below npm. A SIGTERM to npx ends npm, which passes it to the shell, and the shell dies
// without passing it on: kts would keep running, orphaned, holding its ports. So when npm
// launched kts, losing the parent is taken as the launcher's SIGTERM, and kts stops in its
// orderly way. Started any other way (a shell, systemd, nohup) kts outlives its parent as
// any daemon does.

/** How often the parent is checked. */
const CHECK_MS = 500;

/**
 * When npm launched this process, sends it SIGTERM once its parent is gone. Returns a
 * function that stops watching.
 */
export function stopWithNpmLauncher(
  env: NodeJS.ProcessEnv = process.env,
  onGone: () => void = () => process.kill(process.pid, 'SIGTERM'),
): () => void {
  if (env.npm_command === undefined || env.npm_command === '') return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, CHECK_MS);
  // The watch never keeps kts alive by itself.
  timer.unref();
  return () => clearInterval(timer);
}
