// The admin area (admins only; the server refuses everyone else anyway): a side menu of the
// five screens and the chosen one.
import { useState } from 'preact/hooks';
import { AuditPanel } from './audit';
import { DirectoryPanel } from './directory';
import { DispatchPanel } from './dispatch';
import { RulesPanel } from './rules';
import { SettingsPanel } from './settings';
import './admin.css';

export type AdminSection = 'rules' | 'directory' | 'settings' | 'dispatch' | 'audit';

const SECTIONS: { id: AdminSection; label: string; hint: string }[] = [
  { id: 'rules', label: 'Rules', hint: 'What is recorded' },
  { id: 'directory', label: 'Directory', hint: 'Users, teams, roles, phones' },
  { id: 'settings', label: 'Settings', hint: 'Retention, schedule, e-mail' },
  { id: 'dispatch', label: 'Dispatch', hint: 'Queue of e-mails and scripts' },
  { id: 'audit', label: 'Audit log', hint: 'Who did what' },
];

export function AdminView({ initial = 'rules' }: { initial?: AdminSection }) {
  const [section, setSection] = useState<AdminSection>(initial);
  return (
    <section class="page admin-page" data-testid="admin-view">
      <nav class="admin-nav" aria-label="Administration">
        {SECTIONS.map((s) => (
          <button
            key={s.id}
            class={section === s.id ? 'admin-nav-item active' : 'admin-nav-item'}
            aria-current={section === s.id ? 'page' : undefined}
            onClick={() => setSection(s.id)}
            data-testid={`admin-${s.id}-tab`}
          >
            <span class="admin-nav-label">{s.label}</span>
            <span class="admin-nav-hint">{s.hint}</span>
          </button>
        ))}
      </nav>
      {section === 'rules' && <RulesPanel />}
      {section === 'directory' && <DirectoryPanel />}
      {section === 'settings' && <SettingsPanel />}
      {section === 'dispatch' && <DispatchPanel />}
      {section === 'audit' && <AuditPanel />}
    </section>
  );
}
