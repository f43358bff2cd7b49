//! The settings admins change at run time (`GET/PUT /api/v1/settings`): retention, the dispatch
//! schedule and the SMTP server. They live in the store as one JSON document under
//! [`SETTINGS_KEY`]; until an admin saves them, the configuration's `retention_days` and
//! `dispatch_schedule` are the defaults. Every change is validated whole before it is saved.
//!
//! The SMTP password is write-only: what is shown is `"********"` when one is set and `""` when
//! not, and sending `"********"` back keeps the stored one (so a form can round-trip it).

use crate::cron;
pub use crate::error::SettingsError;
use crate::state::AppState;
use callrec_types::rules::{is_plausible_email, FieldError};
use callrec_types::wire::{ConsentRefused, Settings, SettingsPatch, SmtpSecurity, SmtpSettings};

/// The store key of the settings document.
pub const SETTINGS_KEY: &str = "settings";
/// What `GET` shows instead of a stored password.
pub const PASSWORD_MASK: &str = "********";
/// The SMTP port used until an admin chooses one.
pub const DEFAULT_SMTP_PORT: u16 = 25;
/// Retention bounds, in days (one day to a century).
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=36500;
/// Automatic resume of a pause: 0 (never) to a day.
pub const PAUSE_AUTO_RESUME_SECS: std::ops::RangeInclusive<u32> = 0..=86400;

/// The settings of a database nobody has saved settings in yet.
pub fn defaults(state: &AppState) -> Settings {
    Settings {
        retention_days: state.config.retention_days,
        dispatch_schedule: state.config.dispatch_schedule.clone(),
        smtp: SmtpSettings {
            host: String::new(),
            port: DEFAULT_SMTP_PORT,
            security: SmtpSecurity::None,
            username: String::new(),
            password: String::new(),
            from: String::new(),
        },
        pause_fill: state.config.pause_fill,
        pause_auto_resume_secs: state.config.pause_auto_resume_secs,
        alarm_recipients: Vec::new(),
        consent_refused: ConsentRefused::Delete,
    }
}

/// The settings in force, password included (for sending mail; never for the wire).
pub async fn load(state: &AppState) -> Result<Settings, SettingsError> {
    match state.store.get_setting(SETTINGS_KEY).await? {
        None => Ok(defaults(state)),
        Some(json) => with_defaults(&json, &defaults(state)).map_err(|e| SettingsError::Corrupt(e.to_string())),
    }
}

/// The stored document over `defaults`: a key saved by an older server is missing (the
/// pause settings of issue #11.1) and takes the configuration's value, not serde's default.
fn with_defaults(json: &str, defaults: &Settings) -> Result<Settings, serde_json::Error> {
    let stored: serde_json::Value = serde_json::from_str(json)?;
    let mut merged = serde_json::to_value(defaults)?;
    if let (Some(m), serde_json::Value::Object(s)) = (merged.as_object_mut(), stored) {
        m.extend(s);
    }
    serde_json::from_value(merged)
}

/// What an admin is shown: the password masked.
pub fn redacted(mut s: Settings) -> Settings {
    if !s.smtp.password.is_empty() {
        s.smtp.password = PASSWORD_MASK.to_string();
    }
    s
}

/// Applies `patch` to `current`; a password of [`PASSWORD_MASK`] keeps the current one.
pub fn merge(current: &Settings, patch: &SettingsPatch) -> Settings {
    let mut s = current.clone();
    if let Some(d) = patch.retention_days {
        s.retention_days = d;
    }
    if let Some(c) = &patch.dispatch_schedule {
        s.dispatch_schedule = c.trim().to_string();
    }
    if let Some(f) = patch.pause_fill {
        s.pause_fill = f;
    }
    if let Some(n) = patch.pause_auto_resume_secs {
        s.pause_auto_resume_secs = n;
    }
    if let Some(c) = patch.consent_refused {
        s.consent_refused = c;
    }
    if let Some(p) = &patch.smtp {
        if let Some(v) = &p.host {
            s.smtp.host = v.trim().to_string();
        }
        if let Some(v) = p.port {
            s.smtp.port = v;
        }
        if let Some(v) = p.security {
            s.smtp.security = v;
        }
        if let Some(v) = &p.username {
            s.smtp.username = v.clone();
        }
        if let Some(v) = &p.password {
            if v != PASSWORD_MASK {
                s.smtp.password = v.clone();
            }
        }
        if let Some(v) = &p.from {
            s.smtp.from = v.trim().to_string();
        }
    }
    if let Some(v) = &patch.alarm_recipients {
        s.alarm_recipients = v
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
    }
    s
}

/// Every problem with `s`, each naming its field.
pub fn validate(s: &Settings) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    if !RETENTION_DAYS.contains(&s.retention_days) {
        errs.push(FieldError::new(
            "retention_days",
            format!("must be {} to {} days", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
        ));
    }
    if let Err(e) = cron::Schedule::parse(&s.dispatch_schedule) {
        errs.push(FieldError::new("dispatch_schedule", e.to_string()));
    }
    let smtp = &s.smtp;
    if !smtp.host.is_empty() && !is_plausible_host(&smtp.host) {
        errs.push(FieldError::new(
            "smtp.host",
            "a host name or IP address (letters, digits, '.', '-', ':' and [ ] only)",
        ));
    }
    if smtp.port == 0 {
        errs.push(FieldError::new("smtp.port", "must be 1 to 65535"));
    }
    if !smtp.host.is_empty() && smtp.from.is_empty() {
        errs.push(FieldError::new(
            "smtp.from",
            "the sender address is needed once an SMTP host is set",
        ));
    }
    if !smtp.from.is_empty() && !is_plausible_email(&smtp.from) {
        errs.push(FieldError::new(
            "smtp.from",
            format!("not an e-mail address: {:?}", smtp.from),
        ));
    }
    if smtp.username.len() > 256 || smtp.username.chars().any(char::is_control) {
        errs.push(FieldError::new("smtp.username", "at most 256 printable characters"));
    }
    if smtp.password.len() > 1024 || smtp.password.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        errs.push(FieldError::new(
            "smtp.password",
            "at most 1024 characters, without line breaks",
        ));
    }
    if !smtp.password.is_empty() && smtp.username.is_empty() {
        errs.push(FieldError::new(
            "smtp.username",
            "a password needs a username to log in with",
        ));
    }
    if !PAUSE_AUTO_RESUME_SECS.contains(&s.pause_auto_resume_secs) {
        errs.push(FieldError::new(
            "pause_auto_resume_secs",
            format!("0 (never) to {} seconds", PAUSE_AUTO_RESUME_SECS.end()),
        ));
    }
    if s.alarm_recipients.len() > MAX_ALARM_RECIPIENTS {
        errs.push(FieldError::new(
            "alarm_recipients",
            format!("at most {MAX_ALARM_RECIPIENTS} addresses"),
        ));
    }
    for r in &s.alarm_recipients {
        if !is_plausible_email(r) {
            errs.push(FieldError::new(
                "alarm_recipients",
                format!("not an e-mail address: {r:?}"),
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// Addresses a missing-recording alarm is mailed to, at most.
pub const MAX_ALARM_RECIPIENTS: usize = 50;

fn is_plausible_host(h: &str) -> bool {
    h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
        && !h.starts_with(['.', '-'])
}

/// Validates and saves `patch` over the current settings; returns the new settings and the
/// list of what changed, in words without the password, for the audit log.
pub async fn update(state: &AppState, patch: &SettingsPatch) -> Result<(Settings, Vec<String>), SettingsError> {
    let current = load(state).await?;
    let next = merge(&current, patch);
    validate(&next).map_err(SettingsError::Invalid)?;
    let changes = describe_changes(&current, &next);
    let json = serde_json::to_string(&next).map_err(|e| SettingsError::Corrupt(e.to_string()))?;
    state.store.put_setting(SETTINGS_KEY, &json).await?;
    // The scheduler re-reads the settings when this moves.
    state.settings_epoch.fetch_add(1, std::sync::atomic::Ordering::Release);
    state.settings_changed.notify_one();
    Ok((next, changes))
}

/// `field: old → new` for each change; the password only as "changed" or "cleared".
pub fn describe_changes(a: &Settings, b: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    let mut diff = |name: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{name}: {x} → {y}"));
        }
    };
    diff(
        "retention_days",
        a.retention_days.to_string(),
        b.retention_days.to_string(),
    );
    diff(
        "dispatch_schedule",
        format!("{:?}", a.dispatch_schedule),
        format!("{:?}", b.dispatch_schedule),
    );
    diff("smtp.host", format!("{:?}", a.smtp.host), format!("{:?}", b.smtp.host));
    diff("smtp.port", a.smtp.port.to_string(), b.smtp.port.to_string());
    diff(
        "smtp.security",
        format!("{:?}", a.smtp.security),
        format!("{:?}", b.smtp.security),
    );
    diff(
        "smtp.username",
        format!("{:?}", a.smtp.username),
        format!("{:?}", b.smtp.username),
    );
    diff("smtp.from", format!("{:?}", a.smtp.from), format!("{:?}", b.smtp.from));
    diff("pause_fill", a.pause_fill.as_str().into(), b.pause_fill.as_str().into());
    diff(
        "pause_auto_resume_secs",
        a.pause_auto_resume_secs.to_string(),
        b.pause_auto_resume_secs.to_string(),
    );
    diff(
        "alarm_recipients",
        format!("{:?}", a.alarm_recipients),
        format!("{:?}", b.alarm_recipients),
    );
    diff(
        "consent_refused",
        format!("{:?}", a.consent_refused).to_lowercase(),
        format!("{:?}", b.consent_refused).to_lowercase(),
    );
    if a.smtp.password != b.smtp.password {
        out.push(if b.smtp.password.is_empty() {
            "smtp.password cleared".to_string()
        } else {
            "smtp.password changed".to_string()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::wire::{PauseFill, SmtpPatch};

    fn base() -> Settings {
        Settings {
            retention_days: 90,
            dispatch_schedule: "0 20 * * *".into(),
            smtp: SmtpSettings {
                host: "mail.example.com".into(),
                port: 587,
                security: SmtpSecurity::Starttls,
                username: "callrec".into(),
                password: "s3cret".into(),
                from: "callrec@example.com".into(),
            },
            pause_fill: PauseFill::Silence,
            pause_auto_resume_secs: 0,
            alarm_recipients: Vec::new(),
            consent_refused: ConsentRefused::Delete,
        }
    }

    #[test]
    fn issue_11_a_document_saved_before_the_pause_settings_takes_them_from_the_defaults() {
        let mut d = base();
        d.pause_fill = PauseFill::Tone;
        d.pause_auto_resume_secs = 120;
        let old = r#"{"retention_days":7,"dispatch_schedule":"0 20 * * *","smtp":{"host":"","port":25,"security":"none","from":""}}"#;
        let s = with_defaults(old, &d).expect("an old document reads");
        assert_eq!(s.retention_days, 7, "what was saved wins");
        assert_eq!(
            (s.pause_fill, s.pause_auto_resume_secs),
            (PauseFill::Tone, 120),
            "what was never saved comes from the configuration"
        );
        let mut bad = base();
        bad.pause_auto_resume_secs = 86_401;
        let fields: Vec<String> = validate(&bad)
            .expect_err("too long")
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(fields, ["pause_auto_resume_secs"]);
    }

    #[test]
    fn alarm_recipients_must_be_addresses() {
        let mut s = base();
        s.alarm_recipients = vec!["ops@example.com".into(), "not mail".into()];
        let errs = validate(&s).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "alarm_recipients");
    }

    #[test]
    fn consent_refused_is_patched_and_described_and_an_older_document_reads_as_delete() {
        let keep = merge(
            &base(),
            &SettingsPatch {
                consent_refused: Some(ConsentRefused::Keep),
                ..Default::default()
            },
        );
        assert_eq!(keep.consent_refused, ConsentRefused::Keep);
        assert_eq!(describe_changes(&base(), &keep), vec!["consent_refused: delete → keep"]);
        let old: Settings = serde_json::from_str(
            r#"{"retention_days":90,"dispatch_schedule":"0 20 * * *","smtp":{"host":"","port":25,"security":"none","from":""}}"#,
        )
        .expect("settings saved before issue #11 still read");
        assert_eq!(old.consent_refused, ConsentRefused::Delete, "the default deletes");
    }

    #[test]
    fn the_mask_keeps_the_stored_password_and_a_new_one_replaces_it() {
        let keep = merge(
            &base(),
            &SettingsPatch {
                smtp: Some(SmtpPatch {
                    password: Some(PASSWORD_MASK.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        assert_eq!(keep.smtp.password, "s3cret", "the mask must not overwrite the password");
        let new = merge(
            &base(),
            &SettingsPatch {
                smtp: Some(SmtpPatch {
                    password: Some("other".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        assert_eq!(new.smtp.password, "other");
        assert_eq!(redacted(new).smtp.password, PASSWORD_MASK, "GET shows the mask");
    }

    #[test]
    fn validation_names_each_bad_field() {
        let mut s = base();
        s.retention_days = 0;
        s.dispatch_schedule = "every evening".into();
        s.smtp.from = "not-an-address".into();
        s.smtp.host = "mail example".into();
        let fields: Vec<String> = validate(&s)
            .expect_err("four problems")
            .into_iter()
            .map(|f| f.field)
            .collect();
        for f in ["retention_days", "dispatch_schedule", "smtp.from", "smtp.host"] {
            assert!(fields.contains(&f.to_string()), "{f} must be named in {fields:?}");
        }
        assert!(validate(&base()).is_ok(), "the base settings are valid");
    }

    #[test]
    fn changes_never_show_the_password() {
        let mut b = base();
        b.smtp.password = "new-secret".into();
        b.retention_days = 30;
        let changes = describe_changes(&base(), &b).join("; ");
        assert!(changes.contains("retention_days: 90 → 30"), "{changes}");
        assert!(changes.contains("smtp.password changed"), "{changes}");
        assert!(!changes.contains("secret"), "the password must not appear: {changes}");
    }
}
