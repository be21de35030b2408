//! The window's TypeScript bindings are generated from the command
//! signatures; this fails when `ui/src/bindings.ts` no longer matches them.
//! `UPDATE_BINDINGS=1 cargo test --workspace --test bindings` rewrites it.

use std::path::Path;

#[test]
fn bindings_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    llmaas_desktop::export_bindings(&fresh).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join(llmaas_desktop::BINDINGS);
    if std::env::var_os("UPDATE_BINDINGS").is_some_and(|v| v == "1") {
        std::fs::write(&committed, &fresh).unwrap();
        return;
    }
    let old = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        old == fresh,
        "ui/src/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test --workspace --test bindings` and commit it"
    );
    // Nothing of the API key's value can reach the window: no command returns it.
    assert!(!fresh.contains("apiKey:"), "a command returns the API key");
}
