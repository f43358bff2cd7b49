//! PostgreSQL: users (with their addresses), teams, roles, phones and the resolved directory view.
//!
//! Lists sorted by name compare bytes (`COLLATE "C"`), as SQLite does, whatever the
//! database's own collation.

use crate::sqlite::{conflict, ms};
use crate::{NewUserRecord, Result, StoreError, UserUpdate};
use callrec_types::directory::{normalize_address, Level, Phone, PhoneInput, Role, RoleInput, Team, TeamInput, User};
use callrec_types::engine::{DirectoryView, RoleView, TeamView};
use callrec_types::*;
use chrono::Utc;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::{BTreeMap, HashMap};

fn level(s: &str) -> Result<Level> {
    Level::parse(s).ok_or_else(|| StoreError::Corrupt(format!("level {s:?}")))
}

async fn user_addresses(conn: &mut PgConnection, id: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT raw FROM user_addresses WHERE user_id = $1 ORDER BY position")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

async fn load_user(conn: &mut PgConnection, id: i64) -> Result<User> {
    let row = sqlx::query("SELECT id, username, display_name, level FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(User {
        id: UserId(row.get(0)),
        username: row.get(1),
        display_name: row.get(2),
        level: level(row.get::<&str, _>(3))?,
        extensions: user_addresses(conn, id).await?,
    })
}

async fn set_addresses(conn: &mut PgConnection, id: i64, extensions: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM user_addresses WHERE user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (i, raw) in extensions.iter().enumerate() {
        let addr = normalize_address(raw);
        sqlx::query("INSERT INTO user_addresses (user_id, position, raw, address) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(i as i64)
            .bind(raw)
            .bind(&addr)
            .execute(&mut *conn)
            .await
            .map_err(|e| conflict(e, &format!("extension {raw:?} belongs to another user")))?;
    }
    Ok(())
}

pub async fn count_users(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?)
}

pub async fn create_user(pool: &PgPool, u: &NewUserRecord) -> Result<User> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, level, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(u.level.as_str())
    .bind(ms(Utc::now()))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict(e, &format!("username {:?} is taken", u.username)))?;
    set_addresses(&mut tx, id, &u.extensions).await?;
    let user = load_user(&mut tx, id).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn get_user(pool: &PgPool, id: UserId) -> Result<User> {
    let mut conn = pool.acquire().await?;
    load_user(&mut conn, id.0).await
}

pub async fn user_credentials(pool: &PgPool, username: &str) -> Result<Option<(User, String)>> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => {
            let hash: String = r.get(1);
            Ok(Some((load_user(&mut conn, r.get(0)).await?, hash)))
        }
    }
}

pub async fn list_users(pool: &PgPool) -> Result<Vec<User>> {
    let rows = sqlx::query("SELECT id, username, display_name, level FROM users ORDER BY username COLLATE \"C\"")
        .fetch_all(pool)
        .await?;
    let addrs = sqlx::query("SELECT user_id, raw FROM user_addresses ORDER BY user_id, position")
        .fetch_all(pool)
        .await?;
    let mut by_user: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for a in addrs {
        by_user.entry(a.get(0)).or_default().push(a.get(1));
    }
    rows.iter()
        .map(|r| {
            let id: i64 = r.get(0);
            Ok(User {
                id: UserId(id),
                username: r.get(1),
                display_name: r.get(2),
                level: level(r.get::<&str, _>(3))?,
                extensions: by_user.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

pub async fn update_user(pool: &PgPool, id: UserId, u: &UserUpdate) -> Result<User> {
    let mut tx = pool.begin().await?;
    load_user(&mut tx, id.0).await?;
    if let Some(name) = &u.username {
        sqlx::query("UPDATE users SET username = $1 WHERE id = $2")
            .bind(name)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, &format!("username {name:?} is taken")))?;
    }
    if let Some(v) = &u.display_name {
        sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(v)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(v) = &u.password_hash {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(v)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        // A new password ends every session of the user.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(v) = u.level {
        sqlx::query("UPDATE users SET level = $1 WHERE id = $2")
            .bind(v.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(ext) = &u.extensions {
        set_addresses(&mut tx, id.0, ext).await?;
    }
    let user = load_user(&mut tx, id.0).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn delete_user(pool: &PgPool, id: UserId) -> Result<()> {
    delete_by_id(pool, "DELETE FROM users WHERE id = $1", id.0).await
}

/// Runs a `DELETE … WHERE id = ?`; no row deleted is `NotFound`.
pub(super) async fn delete_by_id(pool: &PgPool, sql: &str, id: i64) -> Result<()> {
    if sqlx::query(sql).bind(id).execute(pool).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn list_addresses(pool: &PgPool) -> Result<Vec<(String, UserId)>> {
    let rows = sqlx::query("SELECT address, user_id FROM user_addresses")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), UserId(r.get(1)))).collect())
}

// --- teams and roles ------------------------------------------------------------------------
//
// Teams (members, supervisors) and roles (users, teams) are the same shape: a named row with
// two lists of ids in link tables. `Group` names the tables; one set of functions serves both.

struct Group {
    table: &'static str,
    noun: &'static str,
    /// (link table, id column, what the id names) for the first and second list.
    lists: [(&'static str, &'static str, &'static str); 2],
}

const TEAMS: Group = Group {
    table: "teams",
    noun: "team",
    lists: [
        ("team_members", "user_id", "user"),
        ("team_supervisors", "user_id", "user"),
    ],
};

const ROLES: Group = Group {
    table: "roles",
    noun: "role",
    lists: [("role_users", "user_id", "user"), ("role_teams", "team_id", "team")],
};

impl Group {
    fn owner_col(&self) -> &'static str {
        if self.table == "teams" {
            "team_id"
        } else {
            "role_id"
        }
    }

    async fn load(&self, conn: &mut PgConnection, id: i64) -> Result<(String, [Vec<i64>; 2])> {
        let name: String = sqlx::query_scalar(&format!("SELECT name FROM {} WHERE id = $1", self.table))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut lists: [Vec<i64>; 2] = Default::default();
        for (i, (link, col, _)) in self.lists.iter().enumerate() {
            let sql = format!(
                "SELECT {col} FROM {link} WHERE {} = $1 ORDER BY {col}",
                self.owner_col()
            );
            lists[i] = sqlx::query_scalar(&sql).bind(id).fetch_all(&mut *conn).await?;
        }
        Ok((name, lists))
    }

    async fn write(&self, conn: &mut PgConnection, id: i64, lists: [&[i64]; 2]) -> Result<()> {
        for ((link, col, what), ids) in self.lists.iter().zip(lists) {
            sqlx::query(&format!("DELETE FROM {link} WHERE {} = $1", self.owner_col()))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let sql = format!(
                "INSERT INTO {link} ({}, {col}) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                self.owner_col()
            );
            for v in ids {
                sqlx::query(&sql)
                    .bind(id)
                    .bind(v)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| conflict(e, &format!("{what} {v} does not exist")))?;
            }
        }
        Ok(())
    }

    async fn create(&self, pool: &PgPool, name: &str, lists: [&[i64]; 2]) -> Result<(i64, String, [Vec<i64>; 2])> {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(&format!("INSERT INTO {} (name) VALUES ($1) RETURNING id", self.table))
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict(e, &format!("{} {name:?} exists", self.noun)))?;
        self.write(&mut tx, id, lists).await?;
        let (name, lists) = self.load(&mut tx, id).await?;
        tx.commit().await?;
        Ok((id, name, lists))
    }

    async fn update(
        &self,
        pool: &PgPool,
        id: i64,
        name: &str,
        lists: [&[i64]; 2],
    ) -> Result<(i64, String, [Vec<i64>; 2])> {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(&format!("UPDATE {} SET name = $1 WHERE id = $2", self.table))
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, &format!("{} {name:?} exists", self.noun)))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.write(&mut tx, id, lists).await?;
        let (name, lists) = self.load(&mut tx, id).await?;
        tx.commit().await?;
        Ok((id, name, lists))
    }

    async fn get(&self, pool: &PgPool, id: i64) -> Result<(i64, String, [Vec<i64>; 2])> {
        let (name, lists) = self.load(&mut *pool.acquire().await?, id).await?;
        Ok((id, name, lists))
    }

    async fn list(&self, pool: &PgPool) -> Result<Vec<(i64, String, [Vec<i64>; 2])>> {
        let mut conn = pool.acquire().await?;
        let ids = sqlx::query_scalar::<_, i64>(&format!("SELECT id FROM {} ORDER BY name COLLATE \"C\"", self.table))
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (name, lists) = self.load(&mut conn, id).await?;
            out.push((id, name, lists));
        }
        Ok(out)
    }
}

fn team((id, name, [members, supervisors]): (i64, String, [Vec<i64>; 2])) -> Team {
    Team {
        id: TeamId(id),
        name,
        members: members.into_iter().map(UserId).collect(),
        supervisors: supervisors.into_iter().map(UserId).collect(),
    }
}

fn role((id, name, [users, teams]): (i64, String, [Vec<i64>; 2])) -> Role {
    Role {
        id: RoleId(id),
        name,
        users: users.into_iter().map(UserId).collect(),
        teams: teams.into_iter().map(TeamId).collect(),
    }
}

fn team_lists(t: &TeamInput) -> [Vec<i64>; 2] {
    [
        t.members.iter().map(|u| u.0).collect(),
        t.supervisors.iter().map(|u| u.0).collect(),
    ]
}

fn role_lists(r: &RoleInput) -> [Vec<i64>; 2] {
    [
        r.users.iter().map(|u| u.0).collect(),
        r.teams.iter().map(|t| t.0).collect(),
    ]
}

pub async fn create_team(pool: &PgPool, t: &TeamInput) -> Result<Team> {
    let [a, b] = team_lists(t);
    TEAMS.create(pool, &t.name, [&a, &b]).await.map(team)
}

pub async fn get_team(pool: &PgPool, id: TeamId) -> Result<Team> {
    TEAMS.get(pool, id.0).await.map(team)
}

pub async fn list_teams(pool: &PgPool) -> Result<Vec<Team>> {
    Ok(TEAMS.list(pool).await?.into_iter().map(team).collect())
}

pub async fn update_team(pool: &PgPool, id: TeamId, t: &TeamInput) -> Result<Team> {
    let [a, b] = team_lists(t);
    TEAMS.update(pool, id.0, &t.name, [&a, &b]).await.map(team)
}

pub async fn delete_team(pool: &PgPool, id: TeamId) -> Result<()> {
    delete_by_id(pool, "DELETE FROM teams WHERE id = $1", id.0).await
}

pub async fn create_role(pool: &PgPool, r: &RoleInput) -> Result<Role> {
    let [a, b] = role_lists(r);
    ROLES.create(pool, &r.name, [&a, &b]).await.map(role)
}

pub async fn get_role(pool: &PgPool, id: RoleId) -> Result<Role> {
    ROLES.get(pool, id.0).await.map(role)
}

pub async fn list_roles(pool: &PgPool) -> Result<Vec<Role>> {
    Ok(ROLES.list(pool).await?.into_iter().map(role).collect())
}

pub async fn update_role(pool: &PgPool, id: RoleId, r: &RoleInput) -> Result<Role> {
    let [a, b] = role_lists(r);
    ROLES.update(pool, id.0, &r.name, [&a, &b]).await.map(role)
}

pub async fn delete_role(pool: &PgPool, id: RoleId) -> Result<()> {
    let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rules WHERE role_id = $1")
        .bind(id.0)
        .fetch_one(pool)
        .await?;
    if used > 0 {
        return Err(StoreError::Conflict(format!(
            "role {id} is used by {used} rule(s); change or delete them first"
        )));
    }
    delete_by_id(pool, "DELETE FROM roles WHERE id = $1", id.0).await
}

pub async fn directory_view(pool: &PgPool) -> Result<DirectoryView> {
    let mut roles: BTreeMap<RoleId, RoleView> = BTreeMap::new();
    for r in sqlx::query("SELECT id, name FROM roles").fetch_all(pool).await? {
        roles.insert(
            RoleId(r.get(0)),
            RoleView {
                name: r.get(1),
                ..Default::default()
            },
        );
    }
    for r in sqlx::query("SELECT role_id, user_id FROM role_users")
        .fetch_all(pool)
        .await?
    {
        if let Some(v) = roles.get_mut(&RoleId(r.get(0))) {
            v.users.insert(UserId(r.get(1)));
        }
    }
    let mut teams: BTreeMap<i64, TeamView> = BTreeMap::new();
    for r in sqlx::query("SELECT id, name FROM teams").fetch_all(pool).await? {
        let id: i64 = r.get(0);
        teams.insert(
            id,
            TeamView {
                id: TeamId(id),
                name: r.get(1),
                members: Default::default(),
            },
        );
    }
    for r in sqlx::query("SELECT team_id, user_id FROM team_members")
        .fetch_all(pool)
        .await?
    {
        if let Some(t) = teams.get_mut(&r.get::<i64, _>(0)) {
            t.members.insert(UserId(r.get(1)));
        }
    }
    for r in sqlx::query("SELECT role_id, team_id FROM role_teams")
        .fetch_all(pool)
        .await?
    {
        if let (Some(v), Some(t)) = (roles.get_mut(&RoleId(r.get(0))), teams.get(&r.get::<i64, _>(1))) {
            v.teams.push(t.clone());
        }
    }
    Ok(DirectoryView { roles })
}

// --- phones ---------------------------------------------------------------------------------

fn phone_row(r: &sqlx::postgres::PgRow) -> Phone {
    Phone {
        id: PhoneId(r.get(0)),
        mac: r.get(1),
        user_id: UserId(r.get(2)),
    }
}

pub async fn create_phone(pool: &PgPool, p: &PhoneInput) -> Result<Phone> {
    let r = sqlx::query("INSERT INTO phones (mac, user_id) VALUES ($1, $2) RETURNING id, mac, user_id")
        .bind(&p.mac)
        .bind(p.user_id.0)
        .fetch_one(pool)
        .await
        .map_err(|e| {
            conflict(
                e,
                &format!(
                    "phone {} is already assigned, or user {} does not exist",
                    p.mac, p.user_id
                ),
            )
        })?;
    Ok(phone_row(&r))
}

pub async fn get_phone(pool: &PgPool, id: PhoneId) -> Result<Phone> {
    let r = sqlx::query("SELECT id, mac, user_id FROM phones WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(phone_row(&r))
}

pub async fn list_phones(pool: &PgPool) -> Result<Vec<Phone>> {
    let rows = sqlx::query("SELECT id, mac, user_id FROM phones ORDER BY mac COLLATE \"C\"")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(phone_row).collect())
}

pub async fn update_phone(pool: &PgPool, id: PhoneId, p: &PhoneInput) -> Result<Phone> {
    let r = sqlx::query("UPDATE phones SET mac = $1, user_id = $2 WHERE id = $3 RETURNING id, mac, user_id")
        .bind(&p.mac)
        .bind(p.user_id.0)
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(|e| {
            conflict(
                e,
                &format!(
                    "phone {} is already assigned, or user {} does not exist",
                    p.mac, p.user_id
                ),
            )
        })?
        .ok_or(StoreError::NotFound)?;
    Ok(phone_row(&r))
}

pub async fn delete_phone(pool: &PgPool, id: PhoneId) -> Result<()> {
    delete_by_id(pool, "DELETE FROM phones WHERE id = $1", id.0).await
}

pub async fn phone_by_mac(pool: &PgPool, mac: &str) -> Result<Option<Phone>> {
    let r = sqlx::query("SELECT id, mac, user_id FROM phones WHERE mac = $1")
        .bind(mac)
        .fetch_optional(pool)
        .await?;
    Ok(r.as_ref().map(phone_row))
}

/// The display name, or the username when the display name is blank: what people call a user.
const NAME_OF_USER: &str = "CASE WHEN trim(display_name) = '' THEN username ELSE display_name END";

pub async fn user_names(pool: &PgPool, ids: &[UserId]) -> Result<HashMap<UserId, String>> {
    let mut ids: Vec<i64> = ids.iter().map(|u| u.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for r in sqlx::query(&format!("SELECT id, {NAME_OF_USER} FROM users WHERE id = ANY($1)"))
        .bind(&ids)
        .fetch_all(pool)
        .await?
    {
        out.insert(UserId(r.get(0)), r.get(1));
    }
    Ok(out)
}

/// The users whose display name or username contains `text` (already lower case), for the
/// journal's name search. The directory is small: it is read whole and compared here, with the
/// same Unicode-aware comparison as on SQLite.
pub(super) async fn users_named(pool: &PgPool, text: &str) -> Result<Vec<i64>> {
    let rows = sqlx::query("SELECT id, username, display_name FROM users ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .filter(|r| {
            r.get::<&str, _>(1).to_lowercase().contains(text) || r.get::<&str, _>(2).to_lowercase().contains(text)
        })
        .map(|r| r.get::<i64, _>(0))
        .collect())
}
