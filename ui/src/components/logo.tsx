// The callrec mark: a red record dot in a ring.
export function Logo({ size = 24 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" class="logo">
      <rect x="0" y="0" width="24" height="24" rx="6" fill="#1e293b" />
      <circle cx="12" cy="12" r="7.6" fill="none" stroke="#f1f5f9" stroke-width="1.2" />
      <circle cx="12" cy="12" r="5.6" fill="#dc2626" />
    </svg>
  );
}
