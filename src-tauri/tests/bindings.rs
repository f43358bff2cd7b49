//! TypeScript bindings for the types that cross into the window, written by ts-rs (each type
//! derives `ts_rs::TS`, which reads serde's attributes) into one file, `ui/src/api/bindings.ts`.
//! The test fails when the committed file is stale; regenerate with
//! `CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings`.
//!
//! `u64` and `i64` are written as `number`: the JSON carries them as numbers and the window
//! reads them with `JSON.parse`, so they never arrive as `bigint`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use ts_rs::{Config, TS};

const OUTPUT: &str = "ui/src/api/bindings.ts";

/// Collects the declarations, and the names they use, in order.
struct Bindings {
    cfg: Config,
    out: String,
    defined: BTreeSet<String>,
    used: BTreeSet<String>,
}

impl Bindings {
    fn section(&mut self, title: &str) {
        self.out.push_str(&format!("\n// ---- {title}\n"));
    }

    fn add<T: TS + 'static>(&mut self) {
        let name = T::ident(&self.cfg);
        assert!(
            self.defined.insert(name.clone()),
            "two types are called {name}: rename one"
        );
        self.out.push('\n');
        if let Some(docs) = T::docs() {
            self.out.push_str(&docs);
        }
        self.out.push_str("export ");
        self.out.push_str(&T::decl(&self.cfg));
        self.out.push('\n');
        self.used
            .extend(T::dependencies(&self.cfg).into_iter().map(|d| d.ts_name));
    }
}

/// `section!(b, "title", module::{A, B, …})` adds the types of one module in order.
macro_rules! section {
    ($b:ident, $title:literal, $module:path { $($ty:ident),* $(,)? }) => {{
        use $module as m;
        $b.section($title);
        $($b.add::<m::$ty>();)*
    }};
}

/// The whole bindings file from the current types.
pub fn generate() -> String {
    let mut b = Bindings {
        cfg: Config::new().with_large_int("number"),
        out: String::from(
            "// Generated from the Rust types (ts-rs) by src-tauri/tests/bindings.rs — do not edit by hand.\n\
             // Regenerate: CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings\n",
        ),
        defined: BTreeSet::new(),
        used: BTreeSet::new(),
    };
    section!(
        b,
        "callrec_types::ids",
        callrec_types::ids {
            UserId,
            TeamId,
            RoleId,
            PhoneId,
            RuleId,
            CallId,
            RecordingId,
            DispatchId,
            AuditId,
            AlarmId,
            CommentId,
            ShareId,
            ScorecardId,
            ReviewId,
        }
    );
    section!(
        b,
        "callrec_types::directory",
        callrec_types::directory {
            Level,
            User,
            Person,
            NewUser,
            UserPatch,
            Team,
            TeamInput,
            Role,
            RoleInput,
            Phone,
            PhoneInput,
        }
    );
    section!(
        b,
        "callrec_types::rules",
        callrec_types::rules {
            RuleMode,
            RuleDirection,
            RuleOrigin,
            Dispatch,
            MonMode,
            Rule,
            RuleInput,
            RuleMove,
            RuleMoveInput,
            RuleEnabledInput,
            FieldError,
        }
    );
    section!(
        b,
        "callrec_types::engine",
        callrec_types::engine {
            Via,
            CallOrigin,
            RuleMatch,
            TraceLine,
            TraceKind,
            Decision,
        }
    );
    section!(
        b,
        "callrec_types::calls",
        callrec_types::calls {
            CallState,
            ParticipantRole,
            Participant,
            CallDirection,
            CallSource,
            Call,
            ConsentState,
            ConsentVia,
            CallConsent,
            ManualVia,
            Trigger,
            AudioCodec,
            RecordingState,
            Recording,
            RecordingGap,
            RecordingPause,
            RecordingHold,
            DispatchStatus,
            DispatchTarget,
            DispatchCall,
            LiveRecording,
            LivePause,
            CallDetail,
            JournalDocument,
            JournalItem,
            JournalPage,
            WebhookPayload,
            WebhookRecording,
        }
    );
    section!(
        b,
        "callrec_types::search",
        callrec_types::search {
            SearchField,
            SearchMatch
        }
    );
    section!(
        b,
        "callrec_types::alarms",
        callrec_types::alarms {
            AlarmKind,
            Alarm,
            AlarmQuery
        }
    );
    section!(
        b,
        "callrec_types::scorecards",
        callrec_types::scorecards {
            CriterionKind,
            Criterion,
            ScorecardInput,
            Scorecard,
            Answer,
            ReviewInput,
            ReviewUpdate,
            Review,
            CriterionSummary,
            ScoreSummary,
        }
    );
    section!(
        b,
        "callrec_types::evidence",
        callrec_types::evidence {
            EvidenceKind,
            EvidenceEntry,
            EvidenceVerdict,
            EvidenceCheck,
            ListenAction,
            Listen,
            ListensPage,
        }
    );
    section!(
        b,
        "callrec_types::review",
        callrec_types::review {
            ChannelPeaks,
            Peaks,
            Comment,
            NewComment,
            Share,
            NewShare,
            SharedItem,
        }
    );
    section!(
        b,
        "callrec_types::transcripts",
        callrec_types::transcripts {
            TranscriptStatus,
            TranscriptWord,
            TranscriptLine,
            Transcript,
        }
    );
    section!(
        b,
        "callrec_types::wire",
        callrec_types::wire {
            ErrorCode,
            ErrorBody,
            LoginRequest,
            LoginResponse,
            IngestRole,
            IngestParticipant,
            IngestTrigger,
            IngestCall,
            IngestResponse,
            RecordingAction,
            RecordingActionRequest,
            RecordingActionResponse,
            PauseFill,
            ConsentRequest,
            ConsentResponse,
            ConsentRefused,
            SmtpSecurity,
            SmtpSettings,
            Settings,
            SettingsPatch,
            SmtpPatch,
            SchedulePreview,
            SmtpTestRequest,
            SmtpTestResult,
            RunReport,
            StorageReport,
            AuditEntry,
            AuditPage,
            HoldRequest,
            Event,
        }
    );
    section!(
        b,
        "callrec_desktop::error",
        callrec_desktop::error { ErrorCode, AppError }
    );
    section!(
        b,
        "callrec_desktop::settings",
        callrec_desktop::settings {
            ServerChoice,
            AppSettings
        }
    );
    section!(b, "callrec_desktop::tokens", callrec_desktop::tokens { TokenStorage });
    section!(
        b,
        "callrec_desktop::session",
        callrec_desktop::session {
            ConnectionInfo,
            SessionInfo,
            Startup,
        }
    );
    section!(
        b,
        "callrec_desktop::local_server",
        callrec_desktop::local_server { LocalServerStatus }
    );
    section!(
        b,
        "callrec_desktop::journal",
        callrec_desktop::journal { JournalFilter }
    );
    section!(
        b,
        "callrec_desktop::player",
        callrec_desktop::player {
            PlaybackState,
            Channels,
            PlayerStatus
        }
    );
    section!(
        b,
        "callrec_desktop::download",
        callrec_desktop::download {
            DownloadFormat,
            DownloadRequest,
            DownloadProgress,
            DownloadResult,
        }
    );
    section!(
        b,
        "callrec_desktop::on_air",
        callrec_desktop::on_air { OnAir, OnAirChange }
    );
    section!(
        b,
        "callrec_desktop::events",
        callrec_desktop::events { FeedState, UiEvent }
    );
    section!(b, "callrec_desktop::admin", callrec_desktop::admin { AuditFilter });
    section!(
        b,
        "callrec_desktop::transcripts",
        callrec_desktop::transcripts { TranscriptView }
    );
    let missing: Vec<_> = b.used.difference(&b.defined).collect();
    assert!(
        missing.is_empty(),
        "the bindings use types that are not declared (add them to generate()): {missing:?}"
    );
    b.out
}

#[test]
fn bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(OUTPUT);
    let fresh = generate();
    if std::env::var_os("CALLREC_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{OUTPUT} is stale: regenerate with \
         CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings"
    );
}
