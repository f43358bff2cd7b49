//! Recording rules (SPEC §2): what a rule says and how it is validated. The decision made from
//! rules lives in `engine`.

use crate::ids::{RoleId, RuleId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `automatic`: the call is recorded from answer to hangup. `manual`: the participant may
/// start/stop recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    Automatic,
    Manual,
}

/// The direction of a call *for one participant*: outgoing for the caller, incoming for the
/// callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleDirection {
    Incoming,
    Outgoing,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleOrigin {
    Internal,
    External,
    Both,
}

/// Where a recording goes besides the store (`store` is always implied).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dispatch {
    Store,
    Email {
        recipients: Vec<String>,
    },
    Script {
        script: String,
    },
    /// A signed JSON POST to `url` as soon as the recording is finished. The `secret` is
    /// write-only: answers carry [`SECRET_MASK`] instead, and sending the mask back keeps the
    /// stored one (so a form can round-trip it).
    Webhook {
        url: String,
        secret: String,
    },
}

/// What answers show instead of a webhook's secret.
pub const SECRET_MASK: &str = "********";
pub const MAX_URL_BYTES: usize = 2048;
pub const MAX_SECRET_BYTES: usize = 1024;

impl Dispatch {
    /// The dispatch as it may be shown and stored beside the rule: a webhook's secret replaced
    /// by [`SECRET_MASK`] (the secret itself is kept apart, see [`Dispatch::new_secret`]).
    pub fn redacted(&self) -> Dispatch {
        match self {
            Dispatch::Webhook { url, .. } => Dispatch::Webhook {
                url: url.clone(),
                secret: SECRET_MASK.to_string(),
            },
            other => other.clone(),
        }
    }

    /// The secret this dispatch sets: `Some` for a webhook given a new secret, `None` for a
    /// webhook sent back with the mask (keep the stored one) and for every other kind.
    pub fn new_secret(&self) -> Option<&str> {
        match self {
            Dispatch::Webhook { secret, .. } if secret != SECRET_MASK => Some(secret),
            _ => None,
        }
    }

    /// Whether a webhook keeps the stored secret (it was sent back masked).
    pub fn keeps_secret(&self) -> bool {
        matches!(self, Dispatch::Webhook { secret, .. } if secret == SECRET_MASK)
    }

    /// Sent as soon as the recording is finished rather than on the schedule.
    pub fn is_immediate(&self) -> bool {
        matches!(self, Dispatch::Webhook { .. })
    }
}

/// Per-call `MDC_MON_MODE` set by the PBX dial plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MonMode {
    #[default]
    Auto,
    Force,
    Deny,
    Manual,
}

impl MonMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MonMode::Auto => "auto",
            MonMode::Force => "force",
            MonMode::Deny => "deny",
            MonMode::Manual => "manual",
        }
    }
    /// Parses the header/field value case-insensitively; empty means `auto`.
    pub fn parse(s: &str) -> Option<MonMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(MonMode::Auto),
            "force" => Some(MonMode::Force),
            "deny" => Some(MonMode::Deny),
            "manual" => Some(MonMode::Manual),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Rule {
    pub id: RuleId,
    pub description: String,
    pub enabled: bool,
    pub mode: RuleMode,
    pub role_id: RoleId,
    pub direction: RuleDirection,
    pub origin: RuleOrigin,
    pub dispatch: Dispatch,
    pub position: i64,
    /// An automatic rule with it records only once the caller's consent is `granted`, and
    /// stops (the recording deleted or kept, by the `consent_refused` setting) when it is
    /// `refused` (issue #11.2).
    #[serde(default)]
    pub require_consent: bool,
    /// The recordings this rule causes are transcribed (issue #16).
    #[serde(default)]
    pub transcribe: bool,
}

/// `POST /api/v1/rules` and `PUT /api/v1/rules/{id}`. A missing position appends the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RuleInput {
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub mode: RuleMode,
    pub role_id: RoleId,
    pub direction: RuleDirection,
    pub origin: RuleOrigin,
    #[serde(default = "store")]
    pub dispatch: Dispatch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// See [`Rule::require_consent`]; only for automatic rules.
    #[serde(default)]
    pub require_consent: bool,
    /// See [`Rule::transcribe`].
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub transcribe: bool,
}

fn yes() -> bool {
    true
}
fn store() -> Dispatch {
    Dispatch::Store
}

/// Which way a rule moves in the list: `POST /api/v1/rules/{id}/move` with `{"to": "up"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleMove {
    Up,
    Down,
}

/// `POST /api/v1/rules/{id}/move`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RuleMoveInput {
    pub to: RuleMove,
}

/// `PUT /api/v1/rules/{id}/enabled`: switches one rule on or off, leaving the rest of it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RuleEnabledInput {
    pub enabled: bool,
}

/// The positions to save so that `id` swaps places with its neighbour: the rules in their
/// order (position, then id, as the engine reads them) numbered 1, 2, 3, … — only those whose
/// position changes. Renumbering rather than swapping two numbers also repairs equal
/// positions. Empty when the rule is unknown or already first (up) or last (down).
pub fn reorder(rules: &[Rule], id: RuleId, to: RuleMove) -> Vec<(RuleId, i64)> {
    let mut order: Vec<&Rule> = rules.iter().collect();
    order.sort_by_key(|r| (r.position, r.id));
    let Some(at) = order.iter().position(|r| r.id == id) else {
        return Vec::new();
    };
    let other = match to {
        RuleMove::Up if at > 0 => at - 1,
        RuleMove::Down if at + 1 < order.len() => at + 1,
        _ => return Vec::new(),
    };
    order.swap(at, other);
    order
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let position = i as i64 + 1;
            (r.position != position).then_some((r.id, position))
        })
        .collect()
}

/// One problem with a field, so a form can show it where it belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

pub const MAX_DESCRIPTION: usize = 200;
pub const MAX_RECIPIENTS: usize = 50;
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

impl RuleInput {
    /// Checks what can be checked without the store (the role's existence is the store's).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        if self.description.trim().is_empty() {
            errs.push(FieldError::new("description", "a rule needs a description"));
        } else if self.description.chars().count() > MAX_DESCRIPTION {
            errs.push(FieldError::new(
                "description",
                format!("at most {MAX_DESCRIPTION} characters"),
            ));
        }
        if self.require_consent && self.mode != RuleMode::Automatic {
            errs.push(FieldError::new(
                "require_consent",
                "only an automatic rule waits for consent (a manual recording stops anyway when the caller refuses)",
            ));
        }
        match &self.dispatch {
            Dispatch::Store => {}
            Dispatch::Email { recipients } => {
                if recipients.is_empty() {
                    errs.push(FieldError::new(
                        "dispatch.recipients",
                        "e-mail dispatch needs at least one recipient",
                    ));
                }
                if recipients.len() > MAX_RECIPIENTS {
                    errs.push(FieldError::new(
                        "dispatch.recipients",
                        format!("at most {MAX_RECIPIENTS} recipients"),
                    ));
                }
                for r in recipients {
                    if !is_plausible_email(r) {
                        errs.push(FieldError::new(
                            "dispatch.recipients",
                            format!("not an e-mail address: {r:?}"),
                        ));
                    }
                }
            }
            Dispatch::Script { script } => {
                if script.trim().is_empty() {
                    errs.push(FieldError::new(
                        "dispatch.script",
                        "script dispatch needs a script body",
                    ));
                }
                if script.len() > MAX_SCRIPT_BYTES {
                    errs.push(FieldError::new(
                        "dispatch.script",
                        format!("at most {MAX_SCRIPT_BYTES} bytes"),
                    ));
                }
                if script.contains('\0') {
                    errs.push(FieldError::new("dispatch.script", "the script contains a NUL byte"));
                }
            }
            Dispatch::Webhook { url, secret } => {
                if let Err(m) = check_webhook_url(url) {
                    errs.push(FieldError::new("dispatch.url", m));
                }
                if secret.trim().is_empty() {
                    errs.push(FieldError::new(
                        "dispatch.secret",
                        "a webhook needs a secret to sign its requests with",
                    ));
                } else if secret.len() > MAX_SECRET_BYTES || secret.chars().any(char::is_control) {
                    errs.push(FieldError::new(
                        "dispatch.secret",
                        format!("at most {MAX_SECRET_BYTES} bytes, without control characters"),
                    ));
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// A webhook URL: absolute `http://` or `https://` with a host, no spaces or control
/// characters, no fragment, at most [`MAX_URL_BYTES`].
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    if url.trim().is_empty() {
        return Err("a webhook needs a URL".into());
    }
    if url.len() > MAX_URL_BYTES {
        return Err(format!("at most {MAX_URL_BYTES} bytes"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL contains spaces or control characters".into());
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        r
    } else {
        return Err(format!("must start with http:// or https://: {url:?}"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err("the URL names no host".into());
    }
    if url.contains('#') {
        return Err("a webhook URL has no fragment (#…)".into());
    }
    Ok(())
}

/// `local@domain.tld` with no spaces, angle brackets, commas or control characters — enough to
/// refuse typos and header injection; the SMTP server has the last word.
pub fn is_plausible_email(s: &str) -> bool {
    if s.len() > 254
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
    {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(dispatch: Dispatch) -> RuleInput {
        RuleInput {
            description: "record support".into(),
            enabled: true,
            mode: RuleMode::Automatic,
            role_id: RoleId(1),
            direction: RuleDirection::Both,
            origin: RuleOrigin::Both,
            dispatch,
            position: None,
            require_consent: false,
            transcribe: false,
        }
    }

    #[test]
    fn rule_wire_shape_matches_the_contract() {
        let r: RuleInput = serde_json::from_str(
            r#"{"description":"d","enabled":true,"mode":"manual","role_id":3,"direction":"incoming",
               "origin":"external","dispatch":{"kind":"email","recipients":["qa@example.com"]},"position":2}"#,
        )
        .expect("contract JSON parses");
        assert_eq!(r.mode, RuleMode::Manual);
        assert_eq!(
            r.dispatch,
            Dispatch::Email {
                recipients: vec!["qa@example.com".into()]
            }
        );
        let s: Dispatch = serde_json::from_str(r#"{"kind":"script","script":"cp \"$1\" /x"}"#).expect("script");
        assert!(matches!(s, Dispatch::Script { .. }));
    }

    #[test]
    fn validation_names_the_field() {
        assert!(input(Dispatch::Store).validate().is_ok());
        let errs = input(Dispatch::Email {
            recipients: vec!["not an address".into()],
        })
        .validate()
        .unwrap_err();
        assert_eq!(errs[0].field, "dispatch.recipients");
        let errs = input(Dispatch::Email { recipients: vec![] }).validate().unwrap_err();
        assert_eq!(errs[0].field, "dispatch.recipients");
        let errs = input(Dispatch::Script { script: "  ".into() }).validate().unwrap_err();
        assert_eq!(errs[0].field, "dispatch.script");
        let mut blank = input(Dispatch::Store);
        blank.description = " ".into();
        assert_eq!(blank.validate().unwrap_err()[0].field, "description");
        let mut manual = input(Dispatch::Store);
        manual.mode = RuleMode::Manual;
        manual.require_consent = true;
        assert_eq!(
            manual.validate().unwrap_err()[0].field,
            "require_consent",
            "a manual rule cannot wait for consent"
        );
    }

    #[test]
    fn require_consent_defaults_to_off_on_the_wire() {
        let r: RuleInput = serde_json::from_str(
            r#"{"description":"d","mode":"automatic","role_id":1,"direction":"both","origin":"both"}"#,
        )
        .expect("parses");
        assert!(!r.require_consent, "an older client's rule does not wait for consent");
    }

    #[test]
    fn a_webhook_needs_an_http_url_and_a_secret() {
        let hook = |url: &str, secret: &str| {
            input(Dispatch::Webhook {
                url: url.into(),
                secret: secret.into(),
            })
            .validate()
        };
        assert!(hook("https://hooks.example.com/callrec?x=1", "s3cret").is_ok());
        assert!(hook("http://127.0.0.1:8080/in", "s3cret").is_ok());
        for bad in [
            "ftp://example.com/x",
            "example.com/hook",
            "",
            "http://",
            "https:// x",
            "file:///etc/passwd",
        ] {
            let errs = hook(bad, "s3cret").unwrap_err();
            assert_eq!(errs[0].field, "dispatch.url", "{bad:?}: {errs:?}");
        }
        let errs = hook("https://example.com/", " ").unwrap_err();
        assert_eq!(errs[0].field, "dispatch.secret");
        let parsed: Dispatch =
            serde_json::from_str(r#"{"kind":"webhook","url":"https://x.example/h","secret":"k"}"#).expect("webhook");
        assert_eq!(parsed.new_secret(), Some("k"));
    }

    #[test]
    fn a_webhook_secret_is_masked_when_shown_and_kept_when_sent_back_masked() {
        let d = Dispatch::Webhook {
            url: "https://x.example/h".into(),
            secret: "k".into(),
        };
        let shown = d.redacted();
        assert_eq!(
            shown,
            Dispatch::Webhook {
                url: "https://x.example/h".into(),
                secret: SECRET_MASK.into()
            }
        );
        assert!(!serde_json::to_string(&shown).expect("json").contains("\"k\""));
        assert!(shown.keeps_secret() && shown.new_secret().is_none());
        assert!(!d.keeps_secret());
        assert_eq!(Dispatch::Store.redacted(), Dispatch::Store);
    }

    #[test]
    fn email_plausibility() {
        assert!(is_plausible_email("qa@example.com"));
        for bad in [
            "qa",
            "qa@",
            "@example.com",
            "qa@example",
            "a b@example.com",
            "a@b.com>\r\nBcc: x",
            "a,b@c.d",
        ] {
            assert!(!is_plausible_email(bad), "{bad:?}");
        }
    }

    fn rule(id: i64, position: i64) -> Rule {
        Rule {
            id: RuleId(id),
            description: format!("rule {id}"),
            enabled: true,
            mode: RuleMode::Automatic,
            role_id: RoleId(1),
            direction: RuleDirection::Both,
            origin: RuleOrigin::Both,
            dispatch: Dispatch::Store,
            position,
            require_consent: false,
            transcribe: false,
        }
    }

    #[test]
    fn moving_a_rule_up_swaps_it_with_its_neighbour_and_renumbers_only_what_changes() {
        let rules = [rule(1, 1), rule(2, 2), rule(3, 3)];
        assert_eq!(
            reorder(&rules, RuleId(3), RuleMove::Up),
            vec![(RuleId(3), 2), (RuleId(2), 3)]
        );
        assert_eq!(
            reorder(&rules, RuleId(1), RuleMove::Down),
            vec![(RuleId(2), 1), (RuleId(1), 2)]
        );
    }

    #[test]
    fn the_first_rule_does_not_move_up_nor_the_last_down_nor_an_unknown_one() {
        let rules = [rule(1, 1), rule(2, 2)];
        assert!(reorder(&rules, RuleId(1), RuleMove::Up).is_empty());
        assert!(reorder(&rules, RuleId(2), RuleMove::Down).is_empty());
        assert!(reorder(&rules, RuleId(9), RuleMove::Up).is_empty());
    }

    #[test]
    fn equal_positions_are_repaired_by_renumbering() {
        // Listed by (position, id): 1, 2, 3 all at position 5.
        let rules = [rule(2, 5), rule(1, 5), rule(3, 5)];
        let moves = reorder(&rules, RuleId(3), RuleMove::Up);
        assert_eq!(moves, vec![(RuleId(1), 1), (RuleId(3), 2), (RuleId(2), 3)]);
    }
}
