// The admin area (admins only; the server refuses everyone else anyway): a side menu of the
// seven screens and the chosen one, the missing-recording alarms counted on the menu whichever
// screen is open.
import { useState } from 'preact/hooks';
import { AlarmBadge, AlarmsPanel, useOpenAlarms } from './alarms';
import { AuditPanel } from './audit';
import { DirectoryPanel } from './directory';
import { DispatchPanel } from './dispatch';
import { RulesPanel } from './rules';
import { ScorecardsPanel } from './scorecards';
import { SettingsPanel } from './settings';
import './admin.css';

export type AdminSection = 'rules' | 'directory' | 'scorecards' | 'settings' | 'dispatch' | 'alarms' | 'audit';

const SECTIONS: { id: AdminSection; label: string; hint: string }[] = [
  { id: 'rules', label: 'Rules', hint: 'What is recorded' },
  { id: 'directory', label: 'Directory', hint: 'Users, teams, roles, phones' },
  { id: 'scorecards', label: 'Scorecards', hint: 'Checklists for call reviews' },
  { id: 'settings', label: 'Settings', hint: 'Retention, schedule, e-mail' },
  { id: 'dispatch', label: 'Dispatch', hint: 'Queue of e-mails, scripts and webhooks' },
  { id: 'alarms', label: 'Alarms', hint: 'Calls not recorded properly' },
  { id: 'audit', label: 'Audit log', hint: 'Who did what' },
];

export function AdminView({ initial = 'rules' }: { initial?: AdminSection }) {
  const [section, setSection] = useState<AdminSection>(initial);
  const [open, reloadAlarms] = useOpenAlarms();
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
            <span class="admin-nav-label">
              {s.label}
              {s.id === 'alarms' && <AlarmBadge count={open.length} />}
            </span>
            <span class="admin-nav-hint">{s.hint}</span>
          </button>
        ))}
      </nav>
      {section === 'rules' && <RulesPanel />}
      {section === 'directory' && <DirectoryPanel />}
      {section === 'scorecards' && <ScorecardsPanel />}
      {section === 'settings' && <SettingsPanel />}
      {section === 'dispatch' && <DispatchPanel />}
      {section === 'alarms' && <AlarmsPanel onChange={reloadAlarms} />}
      {section === 'audit' && <AuditPanel />}
    </section>
  );
}
