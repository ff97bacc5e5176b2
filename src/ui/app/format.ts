/** Small display helpers shared by the pages. */
import { formatDuration } from '../../view/format.js';

export { formatDuration };

export function shortId(id: string): string {
  return id.length > 13 ? id.slice(0, 13) : id;
}

export function formatStart(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function projectName(cwd: string | undefined): string {
  if (!cwd) return '';
  return cwd.split('/').filter(Boolean).pop() ?? cwd;
}
