//! The window side of [`crate::on_air`] (issue #15.6): the tray icon (visible while the window
//! is hidden), the window title and the desktop notification, all following the
//! [`UiEvent::OnAir`](crate::events::UiEvent::OnAir) the live feed sends.
//!
//! None of it may stop the app: without a tray host (a bare X server) the icon is simply not
//! shown, without a notification daemon the notification is logged and dropped. Updates go to
//! the main thread without waiting for it (the app's exit runs there and stops the live feed,
//! which reports "not recording" on its way out).

use crate::on_air::{OnAir, OnAirChange, APP_NAME};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

const TRAY_ID: &str = "on-air";
/// The window the title goes to.
const WINDOW: &str = "main";
/// Icon size in pixels.
const SIZE: u32 = 32;

/// The tray menu's first line, which says the state (Linux trays show no tooltip).
struct StatusItem<R: Runtime>(MenuItem<R>);

/// Puts the icon in the tray: the state, "Show the window" and "Quit".
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let state = OnAir::NotRecording;
    let status = MenuItem::with_id(app, "status", state.label(), false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show the window", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", format!("Quit {APP_NAME}"), true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &separator, &show, &quit])?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(state))
        .tooltip(state.label())
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    app.manage(StatusItem(status));
    Ok(())
}

/// Shows the state: the window title, the tray, and for a change a notification.
pub fn show<R: Runtime>(app: &AppHandle<R>, state: OnAir, title: &str, change: Option<OnAirChange>) {
    let handle = app.clone();
    let title = title.to_string();
    let posted = app.run_on_main_thread(move || {
        if let Some(window) = handle.get_webview_window(WINDOW) {
            if let Err(e) = window.set_title(&title) {
                tracing::warn!(error = %e, "cannot set the window title");
            }
        }
        if let Some(tray) = handle.tray_by_id(TRAY_ID) {
            match tray
                .set_icon(Some(icon(state)))
                .and(tray.set_tooltip(Some(state.label())))
            {
                Ok(()) => tracing::info!("tray: {}", state.label()),
                Err(e) => tracing::warn!(error = %e, "cannot update the tray icon"),
            }
        }
        if let Some(item) = handle.try_state::<StatusItem<R>>() {
            let _ = item.0.set_text(state.label());
        }
    });
    if let Err(e) = posted {
        tracing::debug!(error = %e, "the window is gone: no title or tray to update");
    }
    if let Some(change) = change {
        notify(app, change);
    }
}

/// A desktop notification; on its own thread, so a missing or slow notification daemon never
/// holds anything up.
fn notify<R: Runtime>(app: &AppHandle<R>, change: OnAirChange) {
    let (title, body) = change.message();
    tracing::info!(title, "recording notification");
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("callrec-notify".into())
        .spawn(move || {
            if let Err(e) = app.notification().builder().title(title).body(body).show() {
                tracing::warn!(error = %e, "no desktop notification shown");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no desktop notification shown");
    }
}

fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The tray icon of a state, drawn here: a red dot (recording), an amber dot with two bars
/// (paused), a grey ring (not recording).
fn icon(state: OnAir) -> Image<'static> {
    let mut rgba = vec![0u8; (SIZE * SIZE * 4) as usize];
    let centre = (SIZE as f32 - 1.0) / 2.0;
    let radius = SIZE as f32 / 2.0 - 2.0;
    for y in 0..SIZE {
        for x in 0..SIZE {
            let (dx, dy) = (x as f32 - centre, y as f32 - centre);
            let d = (dx * dx + dy * dy).sqrt();
            let pixel = match state {
                OnAir::Recording if d <= radius => Some([0xdc, 0x26, 0x26]),
                OnAir::Paused if d <= radius => {
                    let bar = (dx.abs() - 3.5).abs() <= 2.0 && dy.abs() <= 7.0;
                    Some(if bar { [0xff, 0xff, 0xff] } else { [0xd9, 0x77, 0x06] })
                }
                OnAir::NotRecording if d <= radius && d >= radius - 3.0 => Some([0x94, 0xa3, 0xb8]),
                _ => None,
            };
            if let Some([r, g, b]) = pixel {
                let at = ((y * SIZE + x) * 4) as usize;
                rgba[at..at + 4].copy_from_slice(&[r, g, b, 0xff]);
            }
        }
    }
    Image::new_owned(rgba, SIZE, SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_has_its_own_icon() {
        let [not, on, paused] = [OnAir::NotRecording, OnAir::Recording, OnAir::Paused].map(|s| icon(s).rgba().to_vec());
        assert!(not != on && on != paused && not != paused);
        let centre = ((SIZE / 2 * SIZE + SIZE / 2) * 4) as usize;
        assert_eq!(
            &on[centre..centre + 4],
            &[0xdc, 0x26, 0x26, 0xff],
            "recording: a red dot"
        );
        assert_eq!(not[centre + 3], 0, "not recording: a ring, empty inside");
    }
}
