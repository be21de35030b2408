#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)] // test data is tiny and in range

use super::*;
use crate::build::{TestValue, gguf_bytes};

/// Deterministic weights in about [-1, 1], with a few larger ones.
fn weights(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let v = (s % 20_001) as f32 / 10_000.0 - 1.0;
            if i % 97 == 0 { v * 3.0 } else { v }
        })
        .collect()
}

/// ggml's `quantize_row_q4_1_ref`: the source files hold this.
fn quantize_q4_1(x: &[f32]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in x.chunks_exact(BLOCK) {
        let min = b.iter().copied().fold(f32::INFINITY, f32::min);
        let max = b.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let d = (max - min) / 15.0;
        let id = if d == 0.0 { 0.0 } else { 1.0 / d };
        out.extend_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
        out.extend_from_slice(&f16::from_f32(min).to_bits().to_le_bytes());
        let q = |v: f32| (((v - min) * id + 0.5) as u8).min(15);
        out.extend((0..16).map(|j| q(b[j]) | (q(b[j + 16]) << 4)));
    }
    out
}

/// A block of 5-bit levels `q` (0..32) with scale `d` and, for Q5_1, min `m`.
fn block_q5(q: &[u8; 32], d: f32, m: Option<f32>) -> Vec<u8> {
    let mut out = f16::from_f32(d).to_bits().to_le_bytes().to_vec();
    if let Some(m) = m {
        out.extend_from_slice(&f16::from_f32(m).to_bits().to_le_bytes());
    }
    let mut qh = 0_u32;
    for (j, v) in q.iter().enumerate() {
        qh |= u32::from(v >> 4) << j;
    }
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend((0..16).map(|j| (q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4)));
    out
}

fn levels() -> [u8; 32] {
    std::array::from_fn(|j| ((j * 7 + 3) % 32) as u8)
}

#[test]
#[allow(clippy::float_cmp)] // small levels times powers of two: exact in f32
fn q5_0_and_q5_1_blocks_read_as_ggml_writes_them() {
    let q = levels();
    let mut y = [0_f32; BLOCK];
    dequantize(Q5_0, &block_q5(&q, 0.5, None), &mut y);
    for j in 0..32 {
        assert_eq!(y[j], (f32::from(q[j]) - 16.0) * 0.5, "Q5_0 element {j}");
    }
    dequantize(Q5_1, &block_q5(&q, 0.25, Some(-1.0)), &mut y);
    for j in 0..32 {
        assert_eq!(y[j], f32::from(q[j]) * 0.25 - 1.0, "Q5_1 element {j}");
    }
}

#[test]
fn q8_0_holds_q4_1_to_within_half_a_step() {
    let x = weights(32 * 64, 1);
    let q41 = quantize_q4_1(&x);
    let source = dequantize_all(Q4_1, &q41);
    let mut out = Vec::new();
    convert(Q4_1, Target::Q8_0, &q41, &mut out);
    assert_eq!(out.len(), 64 * 34);
    let back = dequantize_all(Q8_0, &out);
    for (block, (a, b)) in source.chunks(32).zip(back.chunks(32)).enumerate() {
        let amax = a.iter().fold(0_f32, |m, v| m.max(v.abs()));
        // Half a Q8_0 step, plus the f16 rounding of its scale.
        let bound = amax / 254.0 + amax * 2e-3;
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() <= bound, "block {block}: {u} became {v}");
        }
    }
}

#[test]
fn q4_0_is_within_a_step_and_keeps_the_largest_value() {
    let x = weights(32 * 16, 2);
    let q41 = quantize_q4_1(&x);
    let source = dequantize_all(Q4_1, &q41);
    let mut out = Vec::new();
    convert(Q4_1, Target::Q4_0, &q41, &mut out);
    assert_eq!(out.len(), 16 * 18);
    let back = dequantize_all(Q4_0, &out);
    for (a, b) in source.chunks(32).zip(back.chunks(32)) {
        let amax = a.iter().fold(0_f32, |m, v| m.max(v.abs()));
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() <= amax / 8.0 + 1e-3, "{u} became {v}");
        }
    }
    // A block of zeros stays zeros (no division by a zero scale).
    out.clear();
    convert(Q4_1, Target::Q4_0, &quantize_q4_1(&[0.0; 32]), &mut out);
    assert!(dequantize_all(Q4_0, &out).iter().all(|v| *v == 0.0));
}

/// A llama-like file with one Q4_1 tensor of real data, one F32 and one Q8_0.
fn model(q41: &[u8], norm: &[f32]) -> Vec<u8> {
    let mut bytes = gguf_bytes(
        &[
            ("general.architecture", TestValue::Str("llama")),
            ("general.name", TestValue::Str("Tiny Test")),
            ("general.file_type", TestValue::U32(3)),
            ("llama.context_length", TestValue::U32(8192)),
            ("tokenizer.ggml.tokens", TestValue::Tokens(300)),
            ("tokenizer.chat_template", TestValue::Long(70_000)),
        ],
        &[
            ("blk.0.attn_q.weight", &[64, 32], Q4_1),
            ("output_norm.weight", &[64], 0),
            ("output.weight", &[64, 2], Q8_0),
        ],
    );
    // gguf_bytes fills the data; put the real tensors in place.
    let data =
        bytes.len() - (64 * 32 / 32 * 20) - 256 - (2 * 64 / 32 * 34_usize).next_multiple_of(32);
    bytes[data..data + q41.len()].copy_from_slice(q41);
    let norm_at = data + q41.len().next_multiple_of(32);
    for (i, v) in norm.iter().enumerate() {
        bytes[norm_at + 4 * i..norm_at + 4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    bytes
}

fn convert_file(
    bytes: &[u8],
    target: Target,
) -> (tempfile::TempDir, std::path::PathBuf, Converted) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.gguf");
    std::fs::write(&src, bytes).unwrap();
    let dst = dir.path().join("out.gguf");
    let mut out = File::create(&dst).unwrap();
    let done = requantize(&src, &mut out, target, &mut |_| true).unwrap();
    (dir, dst, done)
}

#[test]
fn a_file_keeps_its_metadata_and_its_other_tensors() {
    let x = weights(64 * 32, 3);
    let q41 = quantize_q4_1(&x);
    let norm: Vec<f32> = (0..64).map(|i| i as f32 / 8.0).collect();
    let bytes = model(&q41, &norm);
    let before = crate::read_bytes(&bytes).unwrap();
    assert!(has_slow_tensors(&before));
    let (_dir, dst, done) = convert_file(&bytes, Target::Q8_0);
    assert_eq!((done.converted, done.tensors), (1, 3));
    let out = std::fs::read(&dst).unwrap();
    assert_eq!(done.bytes, out.len() as u64);
    let after = crate::read(&dst).unwrap();
    assert_eq!(after.quantisation, "Q8_0");
    assert!(!has_slow_tensors(&after));
    // Whole, up to the last tensor's padding.
    assert!(out.len() as u64 - after.expected_size < 32);
    assert_eq!(
        (
            &after.architecture,
            &after.name,
            after.context_length,
            after.has_chat_template
        ),
        (
            &before.architecture,
            &before.name,
            before.context_length,
            true
        )
    );
    assert_eq!(after.parameters, before.parameters);
    assert_eq!(after.tensor_types.get("Q8_0"), Some(&(64 * 32 + 64 * 2)));
    // Every metadata byte is the source's but the file type's value.
    let kv_len = bytes.windows(8).position(|w| w == b"blk.0.at").unwrap() - 8;
    let (a, b) = (&bytes[24..kv_len], &out[24..kv_len]);
    assert_eq!(a.iter().zip(b).filter(|(x, y)| x != y).count(), 1);
    // The Q4_1 tensor's values survive; the F32 one is copied as it was.
    let data = out.len() - (64 * 32 / 32 * 34_usize).next_multiple_of(32) - 256 - 160;
    let back = dequantize_all(Q8_0, &out[data..data + 64 * 34]);
    let source = dequantize_all(Q4_1, &q41);
    let worst = source
        .iter()
        .zip(&back)
        .map(|(a, b)| (a - b).abs())
        .fold(0_f32, f32::max);
    assert!(worst < 0.02, "largest error {worst}");
    let norm_at = data + (64 * 34_usize).next_multiple_of(32);
    let norm_back: Vec<f32> = out[norm_at..norm_at + 256]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(norm_back, norm);
}

#[test]
fn q4_0_output_is_smaller_and_labelled() {
    let bytes = model(&quantize_q4_1(&weights(64 * 32, 4)), &[1.0; 64]);
    let (_dir, dst, done) = convert_file(&bytes, Target::Q4_0);
    assert!(done.bytes < bytes.len() as u64);
    assert_eq!(crate::read(&dst).unwrap().quantisation, "Q4_0");
}

#[test]
fn progress_reaches_the_total_and_false_cancels() {
    let bytes = model(&quantize_q4_1(&weights(64 * 32, 5)), &[1.0; 64]);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.gguf");
    std::fs::write(&src, &bytes).unwrap();
    let mut out = File::create(dir.path().join("out.gguf")).unwrap();
    let mut seen = Vec::new();
    requantize(&src, &mut out, Target::Q8_0, &mut |p| {
        seen.push(p);
        true
    })
    .unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.done, last.total);
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
    let cancelled = requantize(&src, &mut out, Target::Q8_0, &mut |_| false);
    assert!(matches!(cancelled, Err(RequantError::Cancelled)));
}

#[test]
fn a_file_the_reader_refuses_is_refused_before_writing() {
    let mut bytes = model(&quantize_q4_1(&weights(64 * 32, 6)), &[1.0; 64]);
    bytes.truncate(bytes.len() - 40);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("cut.gguf");
    std::fs::write(&src, &bytes).unwrap();
    let dst = dir.path().join("out.gguf");
    let mut out = File::create(&dst).unwrap();
    let e = requantize(&src, &mut out, Target::Q8_0, &mut |_| true).unwrap_err();
    assert!(
        matches!(e, RequantError::Source(GgufError::TruncatedData { .. })),
        "{e}"
    );
    assert_eq!(std::fs::metadata(&dst).unwrap().len(), 0);
}

#[test]
fn metadata_past_the_limit_is_refused() {
    // One string a little over the limit: the reader steps over it, the
    // rewrite would have to hold it.
    let big = usize::try_from(MAX_METADATA_BYTES).unwrap() + 1;
    let bytes = gguf_bytes(
        &[
            ("general.architecture", TestValue::Str("llama")),
            ("general.note", TestValue::Long(big)),
        ],
        &[("blk.0.attn_q.weight", &[32], Q4_1)],
    );
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.gguf");
    std::fs::write(&src, &bytes).unwrap();
    drop(bytes);
    let mut out = File::create(dir.path().join("out.gguf")).unwrap();
    let e = requantize(&src, &mut out, Target::Q8_0, &mut |_| true).unwrap_err();
    assert!(
        matches!(
            e,
            RequantError::Source(GgufError::OverLimit {
                what: "metadata size",
                ..
            })
        ),
        "{e}"
    );
}
