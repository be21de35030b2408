#![allow(clippy::cast_possible_truncation)] // test files are tiny

use super::*;
use crate::build::{TestValue, gguf_bytes, tiny_llama};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn reads_what_the_catalogue_shows() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "tiny.gguf", &tiny_llama());
    let info = read(&p).unwrap();
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.name.as_deref(), Some("Tiny Test"));
    assert_eq!(info.context_length, Some(8192));
    assert_eq!(info.quantisation, "Q4_1");
    assert_eq!(info.parameters, 64 * 300 + 64);
    assert_eq!(info.tensor_count, 2);
    assert!(info.has_chat_template);
    assert_eq!(info.expected_size, std::fs::metadata(&p).unwrap().len());
}

#[test]
fn quantisation_falls_back_to_the_commonest_tensor_type() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = gguf_bytes(
        &[("general.architecture", TestValue::Str("qwen2"))],
        &[("a", &[256, 8], 12), ("b", &[16], 0)],
    );
    let info = read(&write(&dir, "q.gguf", &bytes)).unwrap();
    assert_eq!(info.quantisation, "Q4_K");
    assert_eq!(info.context_length, None);
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let whole = tiny_llama();
    let p = dir.path().join("cut.gguf");
    for len in 0..whole.len() {
        std::fs::write(&p, &whole[..len]).unwrap();
        let err = read(&p).unwrap_err();
        match (len, &err) {
            // A cut inside the magic may read as another format.
            (0, GgufError::Empty)
            | (_, GgufError::TruncatedHeader { .. } | GgufError::TruncatedData { .. })
            | (1..4, GgufError::NotGguf(_)) => {}
            _ => panic!("{len} bytes: {err:?}"),
        }
    }
}

#[test]
fn a_cut_download_says_how_much_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let whole = tiny_llama();
    let p = write(&dir, "cut.gguf", &whole[..whole.len() - 100]);
    let err = read(&p).unwrap_err();
    assert_eq!(
        err,
        GgufError::TruncatedData {
            expected: whole.len() as u64,
            size: whole.len() as u64 - 100
        }
    );
    assert!(err.to_string().contains("download it again"), "{err}");
}

#[test]
fn other_files_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(&write(&dir, "a.gguf", b"PK\x03\x04 a zip")).unwrap_err();
    assert_eq!(err, GgufError::NotGguf("bytes 50 4b 03 04".into()));
    let html = read(&write(&dir, "b.gguf", b"<html>not found</html>")).unwrap_err();
    assert_eq!(
        html.to_string(),
        "not a GGUF file (it starts with \"<htm\")"
    );
}

#[test]
fn corrupt_lengths_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = tiny_llama();
    // The first key's length, right after the 24-byte preamble: claim 1 EiB.
    bytes[24..32].copy_from_slice(&(1_u64 << 60).to_le_bytes());
    assert!(matches!(
        read(&write(&dir, "big.gguf", &bytes)).unwrap_err(),
        GgufError::OverLimit {
            what: "key length",
            ..
        }
    ));
    let mut counts = tiny_llama();
    counts[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        read(&write(&dir, "count.gguf", &counts)).unwrap_err(),
        GgufError::Corrupt(_)
    ));
}

#[test]
fn versions_and_architecture_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut v1 = tiny_llama();
    v1[4..8].copy_from_slice(&1_u32.to_le_bytes());
    assert_eq!(
        read(&write(&dir, "v1.gguf", &v1)).unwrap_err(),
        GgufError::Version(1)
    );
    let none = gguf_bytes(&[("general.name", TestValue::Str("x"))], &[("a", &[4], 0)]);
    assert_eq!(
        read(&write(&dir, "n.gguf", &none)).unwrap_err(),
        GgufError::NoArchitecture
    );
}

#[test]
fn counts_read_as_people_write_them() {
    assert_eq!(human_count(134_515_008), "135M");
    assert_eq!(human_count(1_711_376_384), "1.7B");
    assert_eq!(human_count(7_241_732_096), "7.2B");
    assert_eq!(human_count(999), "999");
    assert_eq!(human_count(12_000), "12K");
}

#[test]
fn arrays_nested_too_deep_are_refused_not_a_stack_overflow() {
    // 300,000 levels once overflowed the stack of whatever listed the folder.
    for depth in [9, 300_000] {
        let bytes = crate::build::nested_arrays(depth);
        assert_eq!(
            read_bytes(&bytes),
            Err(GgufError::OverLimit {
                what: "array nesting",
                found: u64::from(MAX_DEPTH) + 1,
                limit: u64::from(MAX_DEPTH),
            })
        );
    }
    // Within the limit, the nesting is read (and the file then lacks an architecture).
    assert_eq!(
        read_bytes(&crate::build::nested_arrays(MAX_DEPTH)),
        Err(GgufError::NoArchitecture)
    );
}

#[test]
fn a_long_string_is_stepped_over_not_kept() {
    let long = usize::try_from(MAX_KEPT_STRING).unwrap() + 1;
    let bytes = gguf_bytes(
        &[
            ("general.architecture", TestValue::Str("llama")),
            ("tokenizer.huggingface.json", TestValue::Long(long)),
            ("tokenizer.chat_template", TestValue::Long(long)),
        ],
        &[("w", &[32], 0)],
    );
    let info = read_bytes(&bytes).unwrap();
    assert!(info.has_chat_template);
    // A key as long as the file is corrupt, named as such.
    let mut crafted = b"GGUF".to_vec();
    crafted.extend_from_slice(&3_u32.to_le_bytes());
    crafted.extend_from_slice(&0_u64.to_le_bytes());
    crafted.extend_from_slice(&1_u64.to_le_bytes());
    crafted.extend_from_slice(&(1_u64 << 40).to_le_bytes());
    crafted.resize(4096, b'k');
    assert!(matches!(
        read_bytes(&crafted),
        Err(GgufError::OverLimit {
            what: "key length",
            ..
        })
    ));
}
