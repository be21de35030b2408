//! Reads what the catalogue shows of a GGUF file from its header alone:
//! architecture, name, context length, quantisation, parameter count, and
//! whether the file holds every byte its tensors need.
//!
//! Our own reader, not the engine's: listing a folder must never load
//! weights, and a file mistral.rs cannot load (an architecture it panics on,
//! a truncated download) must be told apart *before* it reaches the engine.
//! Every length read from the file is checked against the file's size before
//! anything is allocated, so a corrupt header cannot make us allocate
//! gigabytes or loop for long; the limits below bound the rest (a file of
//! arrays nested 300,000 deep once overflowed the stack of every process
//! that listed the models folder). A file that passes one is
//! [`GgufError::OverLimit`]: listed as unusable, never a crash.
//!
//! [`build`] writes small GGUF files, for tests and the fuzzer's seeds;
//! [`requant`] rewrites the tensors candle has no fast kernel for.

pub mod build;
pub mod requant;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// The magic number, "GGUF" in file order.
const MAGIC: [u8; 4] = *b"GGUF";
/// Alignment of the tensor data when the header does not say.
const DEFAULT_ALIGNMENT: u64 = 32;
/// More metadata entries or tensors than any model has.
const MAX_COUNT: u64 = 1 << 24;
/// More dimensions than any ggml tensor has (ggml's maximum is 4).
pub const MAX_DIMS: u32 = 8;
/// Arrays inside arrays: real files nest one level at most.
pub const MAX_DEPTH: u32 = 8;
/// A key's length (GGUF's own limit is 65,535 bytes).
pub const MAX_KEY_BYTES: u64 = 65_535;
/// A string value is kept only up to this size; longer ones (an embedded
/// `tokenizer.huggingface.json`) are stepped over and only their presence
/// noted, so no string read from a header costs more than this.
pub const MAX_KEPT_STRING: u64 = 64 * 1024;

/// What the header says about a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufInfo {
    /// GGUF format version (2 or 3).
    pub version: u32,
    /// `general.architecture` (`llama`, `qwen2`, …).
    pub architecture: String,
    /// `general.name`, when the file has one.
    pub name: Option<String>,
    /// `<architecture>.context_length`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// The quantisation, from `general.file_type` or, failing that, the most
    /// common tensor type (`Q4_1`, `Q4_K_M`, `F16`).
    pub quantisation: String,
    /// Sum of the tensors' element counts.
    pub parameters: u64,
    pub tensor_count: u64,
    /// The bytes the file must have to hold every tensor.
    pub expected_size: u64,
    /// Whether the file carries a chat template (`tokenizer.chat_template`).
    pub has_chat_template: bool,
    /// Elements by tensor type (`Q4_1` → 120M): what the engine's kernels
    /// will see, which `quantisation` (the file's label) may not say.
    pub tensor_types: BTreeMap<String, u64>,
    /// Elements of `token_embd.weight`, which candle keeps dequantised (f32)
    /// beside the quantised weights: part of the memory a model takes.
    pub embedding_elements: u64,
}

/// Why a file is not a usable GGUF model. Each says what a person can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GgufError {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("the file is empty")]
    Empty,
    #[error("not a GGUF file (it starts with {0})")]
    NotGguf(String),
    #[error("GGUF version {0} is not supported (versions 2 and 3 are)")]
    Version(u32),
    /// The header ends before it should: a download that stopped early.
    #[error("the file is truncated: its header ends at byte {at} of {size}")]
    TruncatedHeader { at: u64, size: u64 },
    /// The header is whole but the tensor data is not.
    #[error(
        "the file is truncated: its tensors need {expected} bytes, it has {size} (download it again)"
    )]
    TruncatedData { expected: u64, size: u64 },
    #[error("the header is corrupt: {0}")]
    Corrupt(String),
    #[error("the header names no architecture (general.architecture)")]
    NoArchitecture,
    /// A number in the header passes one of this crate's limits: a crafted
    /// or broken file, never a real model.
    #[error("the header's {what} ({found}) is beyond this app's limit ({limit})")]
    OverLimit {
        what: &'static str,
        found: u64,
        limit: u64,
    },
}

/// A metadata value, as much of it as we keep: arrays are only counted.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    /// A string longer than [`MAX_KEPT_STRING`], stepped over.
    LongStr,
    Array,
}

/// Reads the header of `path`.
pub fn read(path: &Path) -> Result<GgufInfo, GgufError> {
    let file = File::open(path).map_err(|e| GgufError::Io(e.to_string()))?;
    let size = file
        .metadata()
        .map_err(|e| GgufError::Io(e.to_string()))?
        .len();
    if size == 0 {
        return Err(GgufError::Empty);
    }
    let mut r = Reader {
        inner: BufReader::with_capacity(64 * 1024, file),
        pos: 0,
        size,
    };
    parse(&mut r)
}

/// Reads the header of a file already in memory (the fuzzer's entry).
pub fn read_bytes(bytes: &[u8]) -> Result<GgufInfo, GgufError> {
    if bytes.is_empty() {
        return Err(GgufError::Empty);
    }
    let mut r = Reader {
        inner: bytes,
        pos: 0,
        size: bytes.len() as u64,
    };
    parse(&mut r)
}

fn parse<R: Read>(r: &mut Reader<R>) -> Result<GgufInfo, GgufError> {
    let mut magic = [0_u8; 4];
    r.fill(&mut magic)?;
    if magic != MAGIC {
        return Err(GgufError::NotGguf(describe_magic(magic)));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::Version(version));
    }
    let tensor_count = r.u64()?;
    let kv_count = r.u64()?;
    // Counts no real model has are corruption; plausible ones that the file
    // cannot hold (each entry takes at least 12 bytes, each tensor info 24)
    // mean it was cut. Either way they never become a loop bound.
    if kv_count > MAX_COUNT || tensor_count > MAX_COUNT {
        return Err(GgufError::Corrupt(format!(
            "{kv_count} metadata entries and {tensor_count} tensors"
        )));
    }
    if kv_count * 12 + tensor_count * 24 > r.size - r.pos {
        return Err(GgufError::TruncatedHeader {
            at: r.pos,
            size: r.size,
        });
    }
    let mut meta = BTreeMap::new();
    for _ in 0..kv_count {
        let key = r.key()?;
        let ty = r.u32()?;
        let value = r.value(ty)?;
        meta.insert(key, value);
    }
    let alignment = match meta.get("general.alignment") {
        Some(Value::Int(a)) if u64::try_from(*a).is_ok_and(u64::is_power_of_two) => {
            u64::try_from(*a).unwrap_or(DEFAULT_ALIGNMENT)
        }
        Some(other) => {
            return Err(GgufError::Corrupt(format!(
                "general.alignment is {other:?}, not a power of two"
            )));
        }
        None => DEFAULT_ALIGNMENT,
    };

    let mut parameters = 0_u64;
    let mut data_end = 0_u64;
    let mut by_type: BTreeMap<u32, u64> = BTreeMap::new();
    let mut embedding_elements = 0;
    for _ in 0..tensor_count {
        let name = r.key()?;
        let dims = r.u32()?;
        if dims == 0 || dims > MAX_DIMS {
            return Err(GgufError::Corrupt(format!(
                "tensor {name} has {dims} dimensions"
            )));
        }
        let mut elements = 1_u64;
        for _ in 0..dims {
            elements = elements
                .checked_mul(r.u64()?)
                .ok_or_else(|| GgufError::Corrupt(format!("tensor {name} is impossibly large")))?;
        }
        let ty = r.u32()?;
        let offset = r.u64()?;
        let bytes = tensor_bytes(ty, elements)
            .ok_or_else(|| GgufError::Corrupt(format!("tensor {name} has unknown type {ty}")))?;
        parameters = parameters.saturating_add(elements);
        if name == "token_embd.weight" {
            embedding_elements = elements;
        }
        let of_type = by_type.entry(ty).or_default();
        *of_type = of_type.saturating_add(elements);
        data_end = data_end.max(offset.saturating_add(bytes));
    }
    let data_start = r.pos.div_ceil(alignment) * alignment;
    let expected_size = data_start.saturating_add(data_end);

    let architecture = match meta.get("general.architecture") {
        Some(Value::Str(a)) if !a.is_empty() => a.clone(),
        _ => return Err(GgufError::NoArchitecture),
    };
    if expected_size > r.size {
        return Err(GgufError::TruncatedData {
            expected: expected_size,
            size: r.size,
        });
    }
    let context_length = match meta.get(&format!("{architecture}.context_length")) {
        Some(Value::Int(n)) if *n > 0 => u64::try_from(*n).ok(),
        _ => None,
    };
    let quantisation = match meta.get("general.file_type") {
        Some(Value::Int(t)) => u32::try_from(*t).ok().and_then(file_type_name),
        _ => None,
    }
    .map(str::to_owned)
    .or_else(|| {
        // The type holding the most weights names the quantisation.
        by_type
            .iter()
            .max_by_key(|(_, n)| **n)
            .and_then(|(ty, _)| tensor_type(*ty))
            .map(|t| t.name.to_owned())
    })
    .unwrap_or_else(|| "unknown".to_owned());
    let name = match meta.get("general.name") {
        Some(Value::Str(n)) if !n.trim().is_empty() => Some(n.trim().to_owned()),
        _ => None,
    };
    Ok(GgufInfo {
        version,
        architecture,
        name,
        context_length,
        quantisation,
        parameters,
        tensor_count,
        expected_size,
        has_chat_template: matches!(
            meta.get("tokenizer.chat_template"),
            Some(Value::Str(_) | Value::LongStr)
        ),
        tensor_types: by_type
            .iter()
            .map(|(ty, n)| {
                let name =
                    tensor_type(*ty).map_or_else(|| format!("type {ty}"), |t| t.name.to_owned());
                (name, *n)
            })
            .collect(),
        embedding_elements,
    })
}

impl GgufInfo {
    /// The parameter count as people write it: `135M`, `7.2B`.
    pub fn parameters_label(&self) -> String {
        human_count(self.parameters)
    }
}

/// `135M`, `1.7B`, `12K`.
pub fn human_count(n: u64) -> String {
    let (div, unit) = match n {
        0..1_000 => return n.to_string(),
        1_000..1_000_000 => (1_000, "K"),
        1_000_000..1_000_000_000 => (1_000_000, "M"),
        _ => (1_000_000_000, "B"),
    };
    let tenths = (n * 10 + div / 2) / div;
    if tenths >= 1_000 {
        // 100 units or more: whole units, rounded (134.5M reads 135M).
        format!("{}{unit}", (n + div / 2) / div)
    } else if tenths.is_multiple_of(10) {
        format!("{}{unit}", tenths / 10)
    } else {
        format!("{}.{}{unit}", tenths / 10, tenths % 10)
    }
}

fn describe_magic(bytes: [u8; 4]) -> String {
    if bytes.iter().all(u8::is_ascii_graphic) {
        format!("\"{}\"", String::from_utf8_lossy(&bytes))
    } else {
        format!("bytes {}", hex4(bytes))
    }
}

fn hex4(bytes: [u8; 4]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A ggml tensor type: elements per block and bytes per block.
#[derive(Debug, Clone, Copy)]
struct TensorType {
    name: &'static str,
    block: u64,
    bytes: u64,
}

/// ggml's tensor types (ggml.h `enum ggml_type`), with their block layouts.
fn tensor_type(ty: u32) -> Option<TensorType> {
    let (name, block, bytes) = match ty {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 36),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        16 => ("IQ2_XXS", 256, 66),
        17 => ("IQ2_XS", 256, 74),
        18 => ("IQ3_XXS", 256, 98),
        19 => ("IQ1_S", 256, 50),
        20 => ("IQ4_NL", 32, 18),
        21 => ("IQ3_S", 256, 110),
        22 => ("IQ2_S", 256, 82),
        23 => ("IQ4_XS", 256, 136),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        29 => ("IQ1_M", 256, 56),
        30 => ("BF16", 1, 2),
        34 => ("TQ1_0", 256, 54),
        35 => ("TQ2_0", 256, 66),
        39 => ("MXFP4", 32, 17),
        _ => return None,
    };
    Some(TensorType { name, block, bytes })
}

/// The bytes `elements` of the type named `name` (`Q8_0`) take.
pub fn bytes_of_type(name: &str, elements: u64) -> Option<u64> {
    let ty = (0..=39).find(|ty| tensor_type(*ty).is_some_and(|t| t.name == name))?;
    tensor_bytes(ty, elements)
}

pub(crate) fn tensor_bytes(ty: u32, elements: u64) -> Option<u64> {
    let t = tensor_type(ty)?;
    elements.div_ceil(t.block).checked_mul(t.bytes)
}

/// llama.cpp's `enum llama_ftype`: the quantisation a file was made with.
fn file_type_name(ft: u32) -> Option<&'static str> {
    Some(match ft {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        _ => return None,
    })
}

/// A little-endian reader that knows how much file is left.
struct Reader<R> {
    inner: R,
    pos: u64,
    size: u64,
}

impl<R: Read> Reader<R> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), GgufError> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(GgufError::TruncatedHeader {
                    at: self.pos,
                    size: self.size,
                })
            }
            Err(e) => Err(GgufError::Io(e.to_string())),
        }
    }

    /// Skips `n` bytes, which must be in the file.
    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        self.need(n)?;
        let copied = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())
            .map_err(|e| GgufError::Io(e.to_string()))?;
        self.pos += copied;
        if copied < n {
            return Err(GgufError::TruncatedHeader {
                at: self.pos,
                size: self.size,
            });
        }
        Ok(())
    }

    fn need(&self, n: u64) -> Result<(), GgufError> {
        if self.pos.saturating_add(n) > self.size {
            return Err(GgufError::TruncatedHeader {
                at: self.pos,
                size: self.size,
            });
        }
        Ok(())
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut b = [0_u8; N];
        self.fill(&mut b)?;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    /// A key or a tensor name: short by the spec.
    fn key(&mut self) -> Result<String, GgufError> {
        let len = self.u64()?;
        if len > MAX_KEY_BYTES {
            return Err(GgufError::OverLimit {
                what: "key length",
                found: len,
                limit: MAX_KEY_BYTES,
            });
        }
        self.read_string(len)
    }

    /// A string value: kept up to [`MAX_KEPT_STRING`], stepped over beyond.
    fn string_value(&mut self) -> Result<Value, GgufError> {
        let len = self.u64()?;
        if len > MAX_KEPT_STRING {
            self.skip(len)?;
            return Ok(Value::LongStr);
        }
        Ok(Value::Str(self.read_string(len)?))
    }

    /// `len` bytes as text, `len` being at most [`MAX_KEPT_STRING`] or
    /// [`MAX_KEY_BYTES`] (checked by the callers) and in the file.
    fn read_string(&mut self, len: u64) -> Result<String, GgufError> {
        self.need(len)?;
        let len = usize::try_from(len)
            .map_err(|_| GgufError::Corrupt("a string longer than memory".into()))?;
        let mut buf = vec![0_u8; len];
        self.fill(&mut buf)?;
        // Keys and names are UTF-8 by the spec; a stray byte is not worth refusing the file.
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn value(&mut self, ty: u32) -> Result<Value, GgufError> {
        Ok(match ty {
            0 => Value::Int(i128::from(u8::from_le_bytes(self.bytes()?))),
            1 => Value::Int(i128::from(i8::from_le_bytes(self.bytes()?))),
            2 => Value::Int(i128::from(u16::from_le_bytes(self.bytes()?))),
            3 => Value::Int(i128::from(i16::from_le_bytes(self.bytes()?))),
            4 => Value::Int(i128::from(u32::from_le_bytes(self.bytes()?))),
            5 => Value::Int(i128::from(i32::from_le_bytes(self.bytes()?))),
            6 => Value::Float(f64::from(f32::from_le_bytes(self.bytes()?))),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => self.string_value()?,
            9 => {
                let item = self.u32()?;
                let len = self.u64()?;
                self.skip_array(item, len, 1)?;
                Value::Array
            }
            10 => Value::Int(i128::from(u64::from_le_bytes(self.bytes()?))),
            11 => Value::Int(i128::from(i64::from_le_bytes(self.bytes()?))),
            12 => Value::Float(f64::from_le_bytes(self.bytes()?)),
            other => return Err(GgufError::Corrupt(format!("unknown value type {other}"))),
        })
    }

    /// Arrays (the tokenizer's 50,000 tokens) are skipped, not kept;
    /// `depth` counts the arrays this one is inside, itself included.
    fn skip_array(&mut self, item: u32, len: u64, depth: u32) -> Result<(), GgufError> {
        if depth > MAX_DEPTH {
            return Err(GgufError::OverLimit {
                what: "array nesting",
                found: u64::from(depth),
                limit: u64::from(MAX_DEPTH),
            });
        }
        let fixed = match item {
            0 | 1 | 7 => Some(1),
            2 | 3 => Some(2),
            4..=6 => Some(4),
            10..=12 => Some(8),
            _ => None,
        };
        if let Some(width) = fixed {
            return self.skip(len.saturating_mul(width));
        }
        match item {
            8 => {
                // Each string is at least its 8-byte length.
                self.need(len.saturating_mul(8))?;
                for _ in 0..len {
                    let n = self.u64()?;
                    self.skip(n)?;
                }
                Ok(())
            }
            9 => {
                self.need(len.saturating_mul(12))?;
                for _ in 0..len {
                    let inner = self.u32()?;
                    let n = self.u64()?;
                    self.skip_array(inner, n, depth + 1)?;
                }
                Ok(())
            }
            other => Err(GgufError::Corrupt(format!(
                "unknown array item type {other}"
            ))),
        }
    }
}

/// The fuzzer's entry (and the corpus replay's): reads `data` as a header
/// and checks what an answer claims against the bytes it came from.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    if let Ok(info) = read_bytes(data) {
        assert!(info.expected_size <= data.len() as u64);
        assert!(info.tensor_count <= MAX_COUNT);
        assert!(!info.architecture.is_empty());
    }
}

#[cfg(test)]
mod tests;
