//! The directory (SPEC §1): users with access levels and extensions, teams, roles and phones.

use crate::ids::{PhoneId, RoleId, TeamId, UserId};
use crate::rules::FieldError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Access level. Ordered: an admin can do what a supervisor can, a supervisor what an agent can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Agent,
    Supervisor,
    Admin,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Agent => "agent",
            Level::Supervisor => "supervisor",
            Level::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "agent" => Some(Level::Agent),
            "supervisor" => Some(Level::Supervisor),
            "admin" => Some(Level::Admin),
            _ => None,
        }
    }
}

/// A user as the API shows it (never with a password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub level: Level,
    /// Extensions (`201`) and SIP addresses of record (`sip:201@pbx.example`).
    pub extensions: Vec<String>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub password: String,
    pub level: Level,
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// `PATCH /api/v1/users/{id}`: every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub members: Vec<UserId>,
    pub supervisors: Vec<UserId>,
}

/// A user as other users see them — who they are, nothing of their extensions, teams or
/// rights: an entry of `GET /api/v1/share-recipients` (whom a recording may be shared with)
/// and of `GET /api/v1/me/team` (the people in the caller's scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Person {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub level: Level,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub members: Vec<UserId>,
    #[serde(default)]
    pub supervisors: Vec<UserId>,
}

/// A role only groups users and whole teams; it grants nothing by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub users: Vec<UserId>,
    pub teams: Vec<TeamId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RoleInput {
    pub name: String,
    #[serde(default)]
    pub users: Vec<UserId>,
    #[serde(default)]
    pub teams: Vec<TeamId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Phone {
    pub id: PhoneId,
    /// 12 lower-case hex digits.
    pub mac: String,
    pub user_id: UserId,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PhoneInput {
    pub mac: String,
    pub user_id: UserId,
}

/// Normalise a MAC address to 12 lower-case hex digits. Accepts `00:04:13:2c:d0:c5`,
/// `00-04-13-2C-D0-C5`, `0004.132c.d0c5` and `0004132CD0C5`; anything else is refused.
pub fn normalize_mac(raw: &str) -> Option<String> {
    if raw.len() > 17 {
        return None;
    }
    let hex: String = raw.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    if hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Some(hex.to_ascii_lowercase())
    } else {
        None
    }
}

/// The comparable form of a number or AoR, used to match call participants to users:
/// `sip:201@pbx.example;transport=udp` → `201@pbx.example`, `<tel:+49 30 1234>` → `+49301234`.
pub fn normalize_address(raw: &str) -> String {
    let s = raw.trim().trim_start_matches('<').trim_end_matches('>');
    let lower = s.to_ascii_lowercase();
    let s = lower
        .strip_prefix("sips:")
        .or_else(|| lower.strip_prefix("sip:"))
        .or_else(|| lower.strip_prefix("tel:"))
        .unwrap_or(&lower);
    let s = s.split(';').next().unwrap_or("");
    let s = s.split('?').next().unwrap_or("");
    s.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect()
}

/// The user part of an address (`201@pbx.example` → `201`), for matching bare extensions.
pub fn address_user_part(normalized: &str) -> &str {
    normalized.split('@').next().unwrap_or(normalized)
}

// --- validation: what can be checked without the store (uniqueness and ids are the store's);
// the password policy is the server's (it belongs with the hashing).

fn check_name(field: &str, v: &str, max: usize) -> Result<(), FieldError> {
    if v.trim().is_empty() {
        Err(FieldError::new(field, "must not be empty"))
    } else if v.chars().count() > max || v.chars().any(char::is_control) {
        Err(FieldError::new(field, format!("at most {max} printable characters")))
    } else {
        Ok(())
    }
}

fn check_username(v: &str) -> Result<(), FieldError> {
    check_name("username", v, 64)?;
    if !v.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
        return Err(FieldError::new("username", "letters, digits and . _ - @ only"));
    }
    Ok(())
}

fn check_extensions(ext: &[String]) -> Result<(), FieldError> {
    if ext.len() > 16 {
        return Err(FieldError::new("extensions", "at most 16 extensions"));
    }
    for e in ext {
        if normalize_address(e).is_empty() || e.len() > 256 || e.chars().any(char::is_control) {
            return Err(FieldError::new(
                "extensions",
                format!("not an extension or SIP address: {e:?}"),
            ));
        }
    }
    Ok(())
}

fn collect(checks: Vec<Result<(), FieldError>>) -> Result<(), Vec<FieldError>> {
    let errs: Vec<FieldError> = checks.into_iter().filter_map(Result::err).collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

impl NewUser {
    /// The username (1–64 of letters, digits and `. _ - @`) and the extensions (at most 16,
    /// each an extension or SIP address).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        collect(vec![check_username(&self.username), check_extensions(&self.extensions)])
    }
}

/// Why a [`UserPatch`] is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPatchError {
    /// Fields with bad values.
    Fields(Vec<FieldError>),
    /// An admin tried to take away their own admin level (so that at least the one making
    /// changes stays an admin).
    SelfDemotion,
}

impl UserPatch {
    /// Checks the fields present, as [`NewUser::validate`] (and the display name: 1–128
    /// printable characters), then that `editor` does not take away their own admin level
    /// when changing user `target`.
    pub fn validate(&self, target: UserId, editor: UserId) -> Result<(), UserPatchError> {
        let mut checks = Vec::new();
        if let Some(n) = &self.username {
            checks.push(check_username(n));
        }
        if let Some(n) = &self.display_name {
            checks.push(check_name("display_name", n, 128));
        }
        if let Some(e) = &self.extensions {
            checks.push(check_extensions(e));
        }
        collect(checks).map_err(UserPatchError::Fields)?;
        if target == editor && self.level.is_some_and(|l| l != Level::Admin) {
            return Err(UserPatchError::SelfDemotion);
        }
        Ok(())
    }
}

impl TeamInput {
    /// The name: 1–128 printable characters.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        collect(vec![check_name("name", &self.name, 128)])
    }
}

impl RoleInput {
    /// The name: 1–128 printable characters.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        collect(vec![check_name("name", &self.name, 128)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(username: &str, extensions: &[&str]) -> NewUser {
        NewUser {
            username: username.into(),
            display_name: String::new(),
            password: "irrelevant here".into(),
            level: Level::Agent,
            extensions: extensions.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn field_names(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_new_user_needs_a_plain_username_and_real_extensions() {
        assert_eq!(new_user("carol.m@sales", &["203", "sip:203@pbx"]).validate(), Ok(()));
        let errs = new_user("", &[]).validate().expect_err("empty username");
        assert_eq!(field_names(&errs), ["username"]);
        let errs = new_user("carol smith", &[""])
            .validate()
            .expect_err("space, empty extension");
        assert_eq!(field_names(&errs), ["username", "extensions"], "both reported at once");
        let many: Vec<String> = (0..17).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let errs = new_user("carol", &many).validate().expect_err("17 extensions");
        assert_eq!(field_names(&errs), ["extensions"]);
        let errs = new_user(&"x".repeat(65), &[]).validate().expect_err("65 characters");
        assert_eq!(field_names(&errs), ["username"]);
    }

    #[test]
    fn a_patch_checks_only_what_it_changes_and_an_admin_keeps_their_own_level() {
        let me = UserId(1);
        let other = UserId(2);
        assert_eq!(UserPatch::default().validate(me, me), Ok(()), "an empty patch is fine");
        let rename = UserPatch {
            display_name: Some("\u{7}".into()),
            ..UserPatch::default()
        };
        assert!(
            matches!(rename.validate(other, me), Err(UserPatchError::Fields(f)) if field_names(&f) == ["display_name"]),
            "a control character is not a name"
        );
        let demote = UserPatch {
            level: Some(Level::Supervisor),
            ..UserPatch::default()
        };
        assert_eq!(demote.validate(me, me), Err(UserPatchError::SelfDemotion));
        assert_eq!(demote.validate(other, me), Ok(()), "demoting someone else is fine");
        let stay = UserPatch {
            level: Some(Level::Admin),
            ..UserPatch::default()
        };
        assert_eq!(stay.validate(me, me), Ok(()), "keeping one's own admin level is fine");
    }

    #[test]
    fn teams_and_roles_need_a_printable_name() {
        let team = |name: &str| TeamInput {
            name: name.into(),
            members: vec![],
            supervisors: vec![],
        };
        assert_eq!(team("Support").validate(), Ok(()));
        assert!(team("  ").validate().is_err(), "blank");
        assert!(team(&"t".repeat(129)).validate().is_err(), "129 characters");
        let role = |name: &str| RoleInput {
            name: name.into(),
            users: vec![],
            teams: vec![],
        };
        assert_eq!(role("Sales").validate(), Ok(()));
        assert!(role("a\nb").validate().is_err(), "a line break");
    }

    #[test]
    fn macs_are_normalised_or_refused() {
        for ok in [
            "00:04:13:2c:d0:c5",
            "00-04-13-2C-D0-C5",
            "0004.132c.d0c5",
            "0004132CD0C5",
        ] {
            assert_eq!(normalize_mac(ok).as_deref(), Some("0004132cd0c5"), "{ok}");
        }
        for bad in [
            "",
            "0004132cd0c",
            "0004132cd0c5aa",
            "zz04132cd0c5",
            "00:04:13:2c:d0:c5:11",
        ] {
            assert_eq!(normalize_mac(bad), None, "{bad} must be refused");
        }
    }

    #[test]
    fn addresses_compare_without_scheme_and_params() {
        assert_eq!(
            normalize_address("sip:201@PBX.example;transport=tcp"),
            "201@pbx.example"
        );
        assert_eq!(normalize_address("<sip:201@pbx>"), "201@pbx");
        assert_eq!(normalize_address("tel:+49 (30) 123-4"), "+49301234");
        assert_eq!(normalize_address("201"), "201");
        assert_eq!(address_user_part("201@pbx"), "201");
    }
}
