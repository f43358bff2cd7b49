// The directory: users (level, extensions, password reset), teams (members, supervisors),
// roles (users and teams) and desk phones (MAC → user). Lists on the left, the form in a
// side panel; the server's refusals show at their fields.
import { useEffect, useState } from 'preact/hooks';
import type { Level, Phone, Role, Team, User } from '../../api';
import { adminApi } from '../../api/admin';
import { useShared } from '../../context';
import { CheckList, DeleteButton, Field, Panel, inputValue } from './form';
import {
  formErrors,
  hasErrors,
  normalizeMac,
  splitList,
  validateName,
  validatePassword,
  validatePhone,
  validateUser,
  without,
  type Errors,
  type UserForm,
} from './validate';

type Kind = 'users' | 'teams' | 'roles' | 'phones';
const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'users', label: 'Users' },
  { kind: 'teams', label: 'Teams' },
  { kind: 'roles', label: 'Roles' },
  { kind: 'phones', label: 'Phones' },
];

interface Directory {
  users: User[];
  teams: Team[];
  roles: Role[];
  phones: Phone[];
}

const userName = (d: Directory, id: number) => {
  const u = d.users.find((x) => x.id === id);
  return u ? u.display_name || u.username : `user ${id}`;
};
const names = (ids: number[], name: (id: number) => string) => (ids.length === 0 ? '—' : ids.map(name).join(', '));

/** Runs a save: local problems first, then the server's refused fields, else a notice. */
async function submit<T>(local: Errors, setErrors: (e: Errors) => void, report: (e: unknown) => void, run: () => Promise<T>): Promise<T | null> {
  setErrors(local);
  if (hasErrors(local)) return null;
  try {
    return await run();
  } catch (err) {
    const fields = formErrors(err);
    if (fields) setErrors(fields);
    else report(err);
    return null;
  }
}

export function DirectoryPanel() {
  const { report, notify } = useShared();
  const [kind, setKind] = useState<Kind>('users');
  const [dir, setDir] = useState<Directory>({ users: [], teams: [], roles: [], phones: [] });
  const [editing, setEditing] = useState<{ kind: Kind; id: number | null } | null>(null);

  const load = () =>
    Promise.all([adminApi.listUsers(), adminApi.listTeams(), adminApi.listRoles(), adminApi.listPhones()]).then(
      ([users, teams, roles, phones]) => setDir({ users, teams, roles, phones }),
      report,
    );
  useEffect(() => {
    load();
  }, []);

  const saved = (what: string) => {
    setEditing(null);
    notify(`${what} saved.`, 'success');
    load();
  };
  const remove = async (p: Promise<unknown>, what: string) => {
    try {
      await p;
      notify(`${what} deleted.`, 'success');
    } catch (e) {
      report(e);
    }
    load();
  };
  const teamName = (id: number) => dir.teams.find((t) => t.id === id)?.name ?? `team ${id}`;
  const uname = (id: number) => userName(dir, id);
  const open = (id: number | null) => setEditing({ kind, id });
  const label = KINDS.find((k) => k.kind === kind)!.label;

  return (
    <div class="admin-split">
      <div class="admin-main" data-testid="admin-directory">
        <div class="admin-head">
          <div class="subtabs" role="tablist">
            {KINDS.map((k) => (
              <button
                key={k.kind}
                role="tab"
                aria-selected={kind === k.kind}
                class={kind === k.kind ? 'subtab active' : 'subtab'}
                onClick={() => {
                  setKind(k.kind);
                  setEditing(null);
                }}
                data-testid={`dir-${k.kind}`}
              >
                {k.label} <span class="muted">{dir[k.kind].length}</span>
              </button>
            ))}
          </div>
          <button class="btn btn-primary" onClick={() => open(null)} data-testid={`${kind}-new`}>
            New {label.toLowerCase().replace(/s$/, '')}
          </button>
        </div>
        <table class="atable" data-testid={`${kind}-table`}>
          {kind === 'users' && (
            <>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Username</th>
                  <th>Level</th>
                  <th>Extensions</th>
                  <th class="actions" />
                </tr>
              </thead>
              <tbody>
                {dir.users.map((u) => (
                  <tr key={u.id} data-testid="user-row">
                    <td>
                      <button class="link strong" onClick={() => open(u.id)}>
                        {u.display_name || u.username}
                      </button>
                    </td>
                    <td class="muted">{u.username}</td>
                    <td>
                      <span class={`chip chip-level-${u.level}`}>{u.level}</span>
                    </td>
                    <td class="mono-num">{u.extensions.join(', ') || '—'}</td>
                    <td class="actions">
                      <DeleteButton what={u.username} onDelete={() => remove(adminApi.deleteUser(u.id), 'User')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </>
          )}
          {kind === 'teams' && (
            <>
              <thead>
                <tr>
                  <th>Team</th>
                  <th>Members</th>
                  <th>Supervisors</th>
                  <th class="actions" />
                </tr>
              </thead>
              <tbody>
                {dir.teams.map((t) => (
                  <tr key={t.id} data-testid="team-row">
                    <td>
                      <button class="link strong" onClick={() => open(t.id)}>
                        {t.name}
                      </button>
                    </td>
                    <td>{names(t.members, uname)}</td>
                    <td>{names(t.supervisors, uname)}</td>
                    <td class="actions">
                      <DeleteButton what={t.name} onDelete={() => remove(adminApi.deleteTeam(t.id), 'Team')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </>
          )}
          {kind === 'roles' && (
            <>
              <thead>
                <tr>
                  <th>Role</th>
                  <th>Users</th>
                  <th>Teams</th>
                  <th class="actions" />
                </tr>
              </thead>
              <tbody>
                {dir.roles.map((r) => (
                  <tr key={r.id} data-testid="role-row">
                    <td>
                      <button class="link strong" onClick={() => open(r.id)}>
                        {r.name}
                      </button>
                    </td>
                    <td>{names(r.users, uname)}</td>
                    <td>{names(r.teams, teamName)}</td>
                    <td class="actions">
                      <DeleteButton what={r.name} onDelete={() => remove(adminApi.deleteRole(r.id), 'Role')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </>
          )}
          {kind === 'phones' && (
            <>
              <thead>
                <tr>
                  <th>MAC address</th>
                  <th>User</th>
                  <th class="actions" />
                </tr>
              </thead>
              <tbody>
                {dir.phones.map((p) => (
                  <tr key={p.id} data-testid="phone-row">
                    <td>
                      <button class="link strong mono-num" onClick={() => open(p.id)}>
                        {formatMac(p.mac)}
                      </button>
                    </td>
                    <td>{uname(p.user_id)}</td>
                    <td class="actions">
                      <DeleteButton what={formatMac(p.mac)} onDelete={() => remove(adminApi.deletePhone(p.id), 'Phone')} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </>
          )}
        </table>
        {dir[kind].length === 0 && <p class="muted pad">No {label.toLowerCase()} yet.</p>}
      </div>
      {editing?.kind === 'users' && (
        <UserEditor key={editing.id ?? 'new'} user={dir.users.find((u) => u.id === editing.id) ?? null} onClose={() => setEditing(null)} onSaved={() => saved('User')} />
      )}
      {editing?.kind === 'teams' && (
        <TeamEditor key={editing.id ?? 'new'} team={dir.teams.find((t) => t.id === editing.id) ?? null} dir={dir} onClose={() => setEditing(null)} onSaved={() => saved('Team')} />
      )}
      {editing?.kind === 'roles' && (
        <RoleEditor key={editing.id ?? 'new'} role={dir.roles.find((r) => r.id === editing.id) ?? null} dir={dir} onClose={() => setEditing(null)} onSaved={() => saved('Role')} />
      )}
      {editing?.kind === 'phones' && (
        <PhoneEditor key={editing.id ?? 'new'} phone={dir.phones.find((p) => p.id === editing.id) ?? null} dir={dir} onClose={() => setEditing(null)} onSaved={() => saved('Phone')} />
      )}
    </div>
  );
}

export function formatMac(mac: string): string {
  return (mac.match(/.{2}/g) ?? [mac]).join(':');
}

export function UserEditor(props: { user: User | null; onClose: () => void; onSaved: () => void }) {
  const { report, notify } = useShared();
  const u = props.user;
  const [form, setForm] = useState<UserForm>({
    username: u?.username ?? '',
    displayName: u?.display_name ?? '',
    level: u?.level ?? 'agent',
    extensions: u?.extensions.join(', ') ?? '',
    password: '',
  });
  const [errors, setErrors] = useState<Errors>({});
  const [reset, setReset] = useState('');
  const [resetError, setResetError] = useState<string | undefined>();
  const set = (patch: Partial<UserForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    const names: Record<keyof UserForm, string> = { username: 'username', displayName: 'display_name', level: 'level', extensions: 'extensions', password: 'password' };
    setErrors((e) => without(e, Object.keys(patch).map((k) => names[k as keyof UserForm])));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const extensions = splitList(form.extensions);
    const done = await submit(validateUser(form, !u), setErrors, report, () =>
      u
        ? adminApi.updateUser(u.id, { username: form.username.trim(), display_name: form.displayName.trim(), level: form.level, extensions })
        : adminApi.createUser({ username: form.username.trim(), display_name: form.displayName.trim(), level: form.level, extensions, password: form.password }),
    );
    if (done) props.onSaved();
  };

  const resetPassword = async () => {
    if (!u) return;
    const local = validatePassword(reset);
    setResetError(local ?? undefined);
    if (local) return;
    try {
      await adminApi.updateUser(u.id, { password: reset });
      setReset('');
      notify(`New password set for ${u.username}.`, 'success');
    } catch (err) {
      const fields = formErrors(err);
      if (fields) setResetError(fields.password ?? Object.values(fields)[0]);
      else report(err);
    }
  };

  return (
    <Panel title={u ? `User ${u.username}` : 'New user'} onClose={props.onClose} testId="user-form">
      <form class="aform" onSubmit={save} noValidate>
        <Field label="Username" name="username" error={errors.username}>
          <input class="input" value={form.username} onInput={(e) => set({ username: inputValue(e) })} data-testid="user-username" />
        </Field>
        <Field label="Display name" name="display_name" error={errors.display_name}>
          <input class="input" value={form.displayName} onInput={(e) => set({ displayName: inputValue(e) })} data-testid="user-display-name" />
        </Field>
        <div class="arow">
          <Field label="Level" name="level" error={errors.level}>
            <select class="input" value={form.level} onChange={(e) => set({ level: inputValue(e) as Level })} data-testid="user-level">
              <option value="agent">Agent</option>
              <option value="supervisor">Supervisor</option>
              <option value="admin">Admin</option>
            </select>
          </Field>
          <Field label="Extensions" name="extensions" error={errors.extensions} hint="Comma-separated, e.g. 201, 201@pbx">
            <input class="input" value={form.extensions} onInput={(e) => set({ extensions: inputValue(e) })} data-testid="user-extensions" />
          </Field>
        </div>
        {!u && (
          <Field label="Password" name="password" error={errors.password} hint="At least 8 characters.">
            <input class="input" type="password" value={form.password} onInput={(e) => set({ password: inputValue(e) })} data-testid="user-password" />
          </Field>
        )}
        <div class="aform-actions">
          <button type="button" class="btn btn-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="user-save">
            Save user
          </button>
        </div>
      </form>
      {u && (
        <div class="aform reset">
          <h4>Reset password</h4>
          <Field label="New password" name="password" error={resetError}>
            <input class="input" type="password" value={reset} onInput={(e) => setReset(inputValue(e))} data-testid="user-reset-password" />
          </Field>
          <div class="aform-actions">
            <button type="button" class="btn btn-ghost" onClick={resetPassword} data-testid="user-reset">
              Set new password
            </button>
          </div>
        </div>
      )}
    </Panel>
  );
}

function TeamEditor(props: { team: Team | null; dir: Directory; onClose: () => void; onSaved: () => void }) {
  const { report } = useShared();
  const t = props.team;
  const [name, setName] = useState(t?.name ?? '');
  const [members, setMembers] = useState<number[]>(t?.members ?? []);
  const [supervisors, setSupervisors] = useState<number[]>(t?.supervisors ?? []);
  const [errors, setErrors] = useState<Errors>({});
  const people = props.dir.users.map((u) => ({ id: u.id, label: u.display_name || u.username }));
  const save = async (e: Event) => {
    e.preventDefault();
    const input = { name: name.trim(), members, supervisors };
    const done = await submit(validateName(name), setErrors, report, () => (t ? adminApi.updateTeam(t.id, input) : adminApi.createTeam(input)));
    if (done) props.onSaved();
  };
  return (
    <Panel title={t ? `Team ${t.name}` : 'New team'} onClose={props.onClose} testId="team-form">
      <form class="aform" onSubmit={save} noValidate>
        <Field label="Name" name="name" error={errors.name}>
          <input class="input" value={name} onInput={(e) => setName(inputValue(e))} data-testid="team-name" />
        </Field>
        <Field label="Members" name="members" error={errors.members}>
          <CheckList options={people} selected={members} onChange={setMembers} testId="team-members" />
        </Field>
        <Field label="Supervisors" name="supervisors" error={errors.supervisors} hint="Supervisors see and may record the team's calls as the rules allow.">
          <CheckList options={people} selected={supervisors} onChange={setSupervisors} testId="team-supervisors" />
        </Field>
        <div class="aform-actions">
          <button type="button" class="btn btn-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="team-save">
            Save team
          </button>
        </div>
      </form>
    </Panel>
  );
}

function RoleEditor(props: { role: Role | null; dir: Directory; onClose: () => void; onSaved: () => void }) {
  const { report } = useShared();
  const r = props.role;
  const [name, setName] = useState(r?.name ?? '');
  const [users, setUsers] = useState<number[]>(r?.users ?? []);
  const [teams, setTeams] = useState<number[]>(r?.teams ?? []);
  const [errors, setErrors] = useState<Errors>({});
  const save = async (e: Event) => {
    e.preventDefault();
    const input = { name: name.trim(), users, teams };
    const done = await submit(validateName(name), setErrors, report, () => (r ? adminApi.updateRole(r.id, input) : adminApi.createRole(input)));
    if (done) props.onSaved();
  };
  return (
    <Panel title={r ? `Role ${r.name}` : 'New role'} onClose={props.onClose} testId="role-form">
      <form class="aform" onSubmit={save} noValidate>
        <Field label="Name" name="name" error={errors.name}>
          <input class="input" value={name} onInput={(e) => setName(inputValue(e))} data-testid="role-name" />
        </Field>
        <Field label="Teams" name="teams" error={errors.teams}>
          <CheckList options={props.dir.teams.map((t) => ({ id: t.id, label: t.name }))} selected={teams} onChange={setTeams} testId="role-teams" empty="No teams yet." />
        </Field>
        <Field label="Users" name="users" error={errors.users}>
          <CheckList options={props.dir.users.map((u) => ({ id: u.id, label: u.display_name || u.username }))} selected={users} onChange={setUsers} testId="role-users" />
        </Field>
        <div class="aform-actions">
          <button type="button" class="btn btn-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="role-save">
            Save role
          </button>
        </div>
      </form>
    </Panel>
  );
}

function PhoneEditor(props: { phone: Phone | null; dir: Directory; onClose: () => void; onSaved: () => void }) {
  const { report } = useShared();
  const p = props.phone;
  const [mac, setMac] = useState(p ? formatMac(p.mac) : '');
  const [userId, setUserId] = useState(p ? String(p.user_id) : '');
  const [errors, setErrors] = useState<Errors>({});
  const save = async (e: Event) => {
    e.preventDefault();
    const input = { mac: normalizeMac(mac) ?? mac, user_id: Number(userId) };
    const done = await submit(validatePhone(mac, userId), setErrors, report, () => (p ? adminApi.updatePhone(p.id, input) : adminApi.createPhone(input)));
    if (done) props.onSaved();
  };
  return (
    <Panel title={p ? 'Phone' : 'New phone'} onClose={props.onClose} testId="phone-form">
      <form class="aform" onSubmit={save} noValidate>
        <Field label="MAC address" name="mac" error={errors.mac} hint="As printed on the phone, e.g. 00:04:13:2c:d0:c5.">
          <input class="input mono" value={mac} onInput={(e) => setMac(inputValue(e))} data-testid="phone-mac" />
        </Field>
        <Field label="User" name="user_id" error={errors.user_id}>
          <select class="input" value={userId} onChange={(e) => setUserId(inputValue(e))} data-testid="phone-user">
            <option value="">Choose a user…</option>
            {props.dir.users.map((u) => (
              <option key={u.id} value={String(u.id)}>
                {u.display_name || u.username}
              </option>
            ))}
          </select>
        </Field>
        <div class="aform-actions">
          <button type="button" class="btn btn-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" data-testid="phone-save">
            Save phone
          </button>
        </div>
      </form>
    </Panel>
  );
}
