/**
 * Preloaded into every server the bench starts (`node --import …/watchdog.js`): when the bench process
 * that started it goes away (even by SIGKILL), the server exits too instead of lingering on its port.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 1_000).unref();
