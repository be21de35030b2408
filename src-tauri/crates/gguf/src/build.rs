//! Small GGUF files, well formed or crafted, for tests and the fuzzer's
//! seed corpus. Not a general writer: tensor data is filler.
#![allow(clippy::cast_possible_truncation)] // test files are tiny

use crate::tensor_bytes;

/// Writes a small but well-formed GGUF file: `tensors` are (name, dims, type).
pub fn gguf_bytes(meta: &[(&str, TestValue)], tensors: &[(&str, &[u64], u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3_u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    for (key, value) in meta {
        put_str(&mut out, key);
        value.write(&mut out);
    }
    let mut offset = 0_u64;
    for (name, dims, ty) in tensors {
        put_str(&mut out, name);
        out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in *dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        let bytes = tensor_bytes(*ty, dims.iter().product()).unwrap();
        offset += bytes.div_ceil(32) * 32;
    }
    while out.len() % 32 != 0 {
        out.push(0);
    }
    out.resize(out.len() + usize::try_from(offset).unwrap(), 7);
    out
}

/// A metadata value of a test file.
#[derive(Debug, Clone)]
pub enum TestValue {
    /// A string.
    Str(&'static str),
    /// A string of this many bytes.
    Long(usize),
    /// A `u32`.
    U32(u32),
    /// An array of this many token strings.
    Tokens(usize),
}

impl TestValue {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            TestValue::Str(s) => {
                out.extend_from_slice(&8_u32.to_le_bytes());
                put_str(out, s);
            }
            TestValue::Long(n) => {
                out.extend_from_slice(&8_u32.to_le_bytes());
                put_str(out, &"x".repeat(*n));
            }
            TestValue::U32(n) => {
                out.extend_from_slice(&4_u32.to_le_bytes());
                out.extend_from_slice(&n.to_le_bytes());
            }
            TestValue::Tokens(n) => {
                out.extend_from_slice(&9_u32.to_le_bytes());
                out.extend_from_slice(&8_u32.to_le_bytes());
                out.extend_from_slice(&(*n as u64).to_le_bytes());
                for i in 0..*n {
                    put_str(out, &format!("tok{i}"));
                }
            }
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A llama-like file of 2 tensors in Q4_1 and F32.
pub fn tiny_llama() -> Vec<u8> {
    tiny_llama_typed(3, 3)
}

/// [`tiny_llama`] with its large tensor of ggml type `ty` and the file
/// labelled with llama.cpp's file type `file_type` (Q8_0: 8 and 7).
pub fn tiny_llama_typed(ty: u32, file_type: u32) -> Vec<u8> {
    gguf_bytes(
        &[
            ("general.architecture", TestValue::Str("llama")),
            ("general.name", TestValue::Str("Tiny Test")),
            ("general.file_type", TestValue::U32(file_type)),
            ("llama.context_length", TestValue::U32(8192)),
            ("tokenizer.ggml.tokens", TestValue::Tokens(300)),
            ("tokenizer.chat_template", TestValue::Str("{{ messages }}")),
        ],
        &[
            ("token_embd.weight", &[64, 300], ty),
            ("output_norm.weight", &[64], 0),
        ],
    )
}

/// A file whose one metadata value is an array of arrays, `depth` deep.
pub fn nested_arrays(depth: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3_u32.to_le_bytes());
    out.extend_from_slice(&0_u64.to_le_bytes());
    out.extend_from_slice(&1_u64.to_le_bytes());
    put_str(&mut out, "crafted.nest");
    out.extend_from_slice(&9_u32.to_le_bytes());
    for _ in 1..depth {
        // An array of one array…
        out.extend_from_slice(&9_u32.to_le_bytes());
        out.extend_from_slice(&1_u64.to_le_bytes());
    }
    // …of no u8.
    out.extend_from_slice(&0_u32.to_le_bytes());
    out.extend_from_slice(&0_u64.to_le_bytes());
    out
}
