//! The directory (SPEC §1): users with access levels and extensions, teams, roles and phones.

use crate::ids::{PhoneId, RoleId, TeamId, UserId};
use serde::{Deserialize, Serialize};

/// Access level. Ordered: an admin can do what a supervisor can, a supervisor what an agent can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub level: Level,
    /// Extensions (`201`) and SIP addresses of record (`sip:201@pbx.example`).
    pub extensions: Vec<String>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub members: Vec<UserId>,
    pub supervisors: Vec<UserId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub members: Vec<UserId>,
    #[serde(default)]
    pub supervisors: Vec<UserId>,
}

/// A role only groups users and whole teams; it grants nothing by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub users: Vec<UserId>,
    pub teams: Vec<TeamId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleInput {
    pub name: String,
    #[serde(default)]
    pub users: Vec<UserId>,
    #[serde(default)]
    pub teams: Vec<TeamId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub id: PhoneId,
    /// 12 lower-case hex digits.
    pub mac: String,
    pub user_id: UserId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
