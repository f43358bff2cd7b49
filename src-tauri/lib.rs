//! callrec desktop: the Tauri shell around the callrec API — connect and sign in, the live call
//! with its red record toggle, the journal with REC badges, a streaming player and WAV
//! downloads. This file only wires things together: the state is built in `setup`, the
//! commands (thin, in `commands/`) are registered in [`builder`], background work is stopped
//! on exit. The window (`ui/`) reaches all of it through `ui/src/api/`.

pub mod admin;
pub mod calls;
pub mod commands;
pub mod download;
pub mod error;
pub mod events;
pub mod evidence;
pub mod journal;
pub mod link;
pub mod listens;
pub mod live;
pub mod local_server;
pub mod on_air;
pub mod player;
pub mod recordings;
pub mod review;
pub mod scorecards;
pub mod session;
pub mod settings;
pub mod state;
pub mod tokens;
pub mod transcripts;
pub mod tray;
pub mod webview;

use events::{Notifier, UiEvent, EVENT};
use state::{AppState, StateConfig};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{Emitter, Manager, Runtime};

/// Registers every command; shared by the app and the mock-runtime tests.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::session::startup,
        commands::session::connect,
        commands::session::login,
        commands::session::logout,
        commands::session::disconnect,
        commands::session::local_server,
        commands::session::cancel_connect,
        commands::session::restart_local_server,
        commands::live::live_calls,
        commands::live::set_recording,
        commands::live::set_consent,
        commands::journal::journal,
        commands::journal::get_call,
        commands::journal::list_users,
        commands::journal::my_team,
        commands::player::player_play,
        commands::player::player_pause,
        commands::player::player_resume,
        commands::player::player_seek,
        commands::player::player_skip,
        commands::player::player_speed,
        commands::player::player_channels,
        commands::player::player_volume,
        commands::player::player_stop,
        commands::player::player_status,
        commands::recordings::choose_download_path,
        commands::recordings::download_recording,
        commands::recordings::cancel_download,
        commands::recordings::hold_recording,
        commands::recordings::delete_recording,
        commands::evidence::check_recording_evidence,
        commands::evidence::list_listens,
        commands::review::recording_peaks,
        commands::review::list_comments,
        commands::review::create_comment,
        commands::review::update_comment,
        commands::review::delete_comment,
        commands::review::share_recipients,
        commands::review::create_share,
        commands::review::list_shares,
        commands::review::revoke_share,
        commands::review::list_shared,
        commands::transcripts::recording_transcript,
        commands::admin::list_rules,
        commands::admin::create_rule,
        commands::admin::update_rule,
        commands::admin::delete_rule,
        commands::admin::set_rule_enabled,
        commands::admin::move_rule,
        commands::admin::create_user,
        commands::admin::update_user,
        commands::admin::delete_user,
        commands::admin::list_teams,
        commands::admin::create_team,
        commands::admin::update_team,
        commands::admin::delete_team,
        commands::admin::list_roles,
        commands::admin::create_role,
        commands::admin::update_role,
        commands::admin::delete_role,
        commands::admin::list_phones,
        commands::admin::create_phone,
        commands::admin::update_phone,
        commands::admin::delete_phone,
        commands::admin::get_settings,
        commands::admin::update_settings,
        commands::admin::schedule_preview,
        commands::admin::smtp_test,
        commands::admin::storage,
        commands::admin::list_dispatch,
        commands::admin::run_dispatch,
        commands::admin::retry_dispatch,
        commands::admin::list_alarms,
        commands::admin::ack_alarm,
        commands::admin::audit,
        commands::scorecards::list_scorecards,
        commands::scorecards::create_scorecard,
        commands::scorecards::update_scorecard,
        commands::scorecards::delete_scorecard,
        commands::scorecards::list_call_reviews,
        commands::scorecards::create_review,
        commands::scorecards::update_review,
        commands::scorecards::delete_review,
        commands::scorecards::list_my_reviews,
        commands::scorecards::agent_scores,
        commands::scorecards::score_answers,
    ])
}

/// Sends [`UiEvent`]s to every window of `app`.
pub fn notifier<R: Runtime>(app: &tauri::AppHandle<R>) -> Notifier {
    let app = app.clone();
    Arc::new(move |event: UiEvent| {
        if let UiEvent::Player { status } = &event {
            tracing::debug!(?status, "player status");
        }
        if let UiEvent::OnAir { state, title, change } = &event {
            tray::show(&app, *state, title, *change);
        }
        if let Err(e) = app.emit(EVENT, event) {
            tracing::debug!(error = %e, "cannot emit to the window");
        }
    })
}

/// Logs to stderr, or to the file named by `CALLREC_LOG_FILE` (for support, and for the
/// end-to-end test, whose WebDriver swallows the app's stderr); filter from `CALLREC_LOG`.
fn init_logging() {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("CALLREC_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    let file = std::env::var_os("CALLREC_LOG_FILE")
        .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
    let _ = match file {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init(),
        None => tracing_subscriber::fmt().with_env_filter(filter()).try_init(),
    };
}

/// The app's configuration and embedded UI (`tauri.conf.json`, `ui/dist`).
pub fn context() -> tauri::Context {
    tauri::generate_context!()
}

/// The tray icon; a desktop without a tray (or a library missing for it) only loses the icon.
fn install_tray<R: Runtime>(app: &tauri::AppHandle<R>) {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tray::install(app))) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "no tray icon"),
        Err(_) => tracing::warn!("no tray icon: the tray could not be set up"),
    }
}

/// Runs the desktop app until its window closes.
pub fn run() {
    webview::prepare_environment();
    init_logging();
    let app = builder(tauri::Builder::default())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let paths = app.path();
            let config = StateConfig {
                config_dir: paths.app_config_dir()?,
                data_dir: paths.app_data_dir()?,
                tokens: tokens::TokenStore::detect(),
                save_dir: std::env::var_os("CALLREC_DESKTOP_SAVE_DIR")
                    .map(PathBuf::from)
                    .filter(|d| d.is_dir()),
            };
            app.manage(AppState::new(config, notifier(app.handle())));
            install_tray(app.handle());
            Ok(())
        })
        .build(context())
        .expect("the Tauri application builds from tauri.conf.json");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            let state = handle.state::<AppState>();
            tauri::async_runtime::block_on(state.shutdown());
        }
    });
}
