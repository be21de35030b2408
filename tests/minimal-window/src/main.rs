//! A blank Tauri 2 window whose page makes one IPC call: the baseline for
//! `tests/e2e/bench-window.mjs` (time to an interactive window, idle memory).

use std::time::Instant;

/// The page calls this once it has run its script: the window is interactive.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // tauri hands commands their state by value
fn ready(started: tauri::State<'_, Instant>) {
    println!("interactive {}", started.elapsed().as_millis());
}

fn main() {
    let started = Instant::now();
    tauri::Builder::default()
        .manage(started)
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!())
        .expect("the minimal window failed");
}
