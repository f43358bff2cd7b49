// A virtualised list with fixed-height rows: only the rows in view (plus a margin) exist in
// the DOM, so 100,000 entries scroll as smoothly as 100. Asks for more when the end nears.
// `reveal` scrolls a row into view (keyboard navigation) or to the top; `onScrollChange` tells
// the owner where the view is (the journal holds new rows back while it is scrolled away).
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

const OVERSCAN = 8;

export function VirtualList<T>(props: {
  items: T[];
  rowHeight: number;
  render: (item: T, index: number) => ComponentChildren;
  /** Called when fewer than `threshold` rows remain below the view. */
  onNearEnd?: () => void;
  threshold?: number;
  footer?: ComponentChildren;
  testId?: string;
  /** Bring row `index` into view (`top`: scroll it to the top) whenever `seq` changes. */
  reveal?: { index: number; seq: number; align?: 'top' | 'nearest' } | null;
  onScrollChange?: (scrollTop: number) => void;
  onKeyDown?: (e: KeyboardEvent) => void;
}) {
  const { items, rowHeight } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const frame = useRef<number | null>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setHeight(el.clientHeight || 600);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight || 600));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    if (frame.current != null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      if (ref.current) {
        setScrollTop(ref.current.scrollTop);
        props.onScrollChange?.(ref.current.scrollTop);
      }
    });
  };

  const reveal = props.reveal;
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !reveal) return;
    const view = el.clientHeight || height;
    const top = reveal.index * rowHeight;
    let to = el.scrollTop;
    if (reveal.align === 'top' || top < to) to = top;
    else if (top + rowHeight > to + view) to = top + rowHeight - view;
    if (to !== el.scrollTop) el.scrollTop = to;
    setScrollTop(to);
    props.onScrollChange?.(to);
  }, [reveal?.seq]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);

  useEffect(() => {
    const threshold = props.threshold ?? 30;
    if (props.onNearEnd && items.length - last < threshold) props.onNearEnd();
  }, [last, items.length]);

  const rows = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div class="vrow" key={i} style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}>
        {props.render(items[i], i)}
      </div>,
    );
  }
  return (
    <div class="vlist" ref={ref} onScroll={onScroll} onKeyDown={props.onKeyDown} data-testid={props.testId}>
      <div class="vlist-inner" style={{ height: `${items.length * rowHeight}px` }}>
        {rows}
      </div>
      {props.footer}
    </div>
  );
}
