/**
 * A windowed list: fixed-height rows, only those in view (plus a margin) are in the DOM, so a
 * 5,000-span session scrolls as fast as a small one. Keyboard: ↑/↓ (and PageUp/PageDown, Home/End)
 * move the selection and keep it in view; Enter opens it.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps {
  count: number;
  rowHeight: number;
  selected: number;
  onSelect(index: number): void;
  onEnter(index: number): void;
  renderRow(index: number, selected: boolean): ComponentChildren;
  label: string;
  testId?: string;
}

const MARGIN = 8;

export function VirtualList(props: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight || 600);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    const el = box.current;
    if (!el || props.selected < 0) return;
    const top = props.selected * props.rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + props.rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + props.rowHeight - el.clientHeight;
  }, [props.selected, props.rowHeight]);

  const first = Math.max(0, Math.floor(scrollTop / props.rowHeight) - MARGIN);
  const last = Math.min(props.count, Math.ceil((scrollTop + height) / props.rowHeight) + MARGIN);
  const items: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    items.push(
      <div
        key={i}
        class={`vrow${i === props.selected ? ' selected' : ''}`}
        role="option"
        aria-selected={i === props.selected}
        style={{ top: `${i * props.rowHeight}px`, height: `${props.rowHeight}px` }}
        onClick={() => props.onSelect(i)}
        onDblClick={() => props.onEnter(i)}
      >
        {props.renderRow(i, i === props.selected)}
      </div>,
    );
  }
  const page = Math.max(1, Math.floor(height / props.rowHeight) - 1);
  const onKeyDown = (e: KeyboardEvent) => {
    const move = (to: number) => {
      e.preventDefault();
      if (props.count > 0) props.onSelect(Math.max(0, Math.min(props.count - 1, to)));
    };
    if (e.key === 'ArrowDown') move(props.selected + 1);
    else if (e.key === 'ArrowUp') move(props.selected - 1);
    else if (e.key === 'PageDown') move(props.selected + page);
    else if (e.key === 'PageUp') move(props.selected - page);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(props.count - 1);
    else if (e.key === 'Enter' && props.selected >= 0) {
      e.preventDefault();
      props.onEnter(props.selected);
    }
  };
  return (
    <div ref={box} class="vlist" tabIndex={0} role="listbox" aria-label={props.label} data-testid={props.testId} onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)} onKeyDown={onKeyDown}>
      <div class="vspace" style={{ height: `${props.count * props.rowHeight}px` }}>
        {items}
      </div>
    </div>
  );
}
