export interface NoticeIo {
  stderr: (text: string) => void;
  stderrIsTTY?: boolean;
}

/**
 * Runs `work`; if it takes longer than `afterMs` and stderr is a terminal, shows `label…`
 * on stderr meanwhile and erases it afterwards. Nothing is written otherwise.
 */
export async function withSlowNotice<T>(io: NoticeIo, label: string, work: () => Promise<T>, afterMs = 1000): Promise<T> {
  if (!io.stderrIsTTY) return work();
  let shown = false;
  const timer = setTimeout(() => {
    shown = true;
    io.stderr(`${label}…`);
  }, afterMs);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    if (shown) io.stderr('\r\u001b[2K');
  }
}
