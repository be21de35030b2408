//! Rewrites a GGUF file's Q4_1, Q5_0 and Q5_1 tensors as Q8_0 (or Q4_0),
//! keeping everything else byte for byte.
//!
//! Why: candle, under mistral.rs, has SIMD kernels for Q4_0, Q8_0 and the
//! K-quants but none for Q4_1, Q5_0 or Q5_1 (`vec_dot_unopt`), and models
//! whose width is not a multiple of 256 cannot use K-quants, so their GGUF
//! files hold exactly those types (SmolLM2-135M, Qwen2.5-0.5B). Measured on
//! this project's machine, the same model decodes about 25 % faster as Q8_0
//! than as Q4_1 (BUILD-FACTS.md). Q8_0 from Q4_1 loses next to nothing: every
//! Q4_1 value is one of 16 levels, which 255 levels of Q8_0 hold to within
//! 1/254 of the block's largest value. Q4_0 halves the size again and costs
//! some accuracy; it is the user's choice.
//!
//! The metadata (tokenizer, chat template, every key a later engine may want)
//! is copied as raw bytes; only `general.file_type` is changed in place, and
//! only when it named one of the converted types. Tensor data is read and
//! written a chunk at a time, so converting a 7B model takes a few megabytes
//! of memory, and the caller can follow and stop it.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use half::f16;

use crate::{DEFAULT_ALIGNMENT, GgufError, Reader, Value, tensor_bytes};

/// ggml type ids (ggml.h `enum ggml_type`).
const Q4_0: u32 = 2;
const Q4_1: u32 = 3;
const Q5_0: u32 = 6;
const Q5_1: u32 = 7;
const Q8_0: u32 = 8;
/// Elements per block of every type here.
const BLOCK: usize = 32;
/// Blocks converted per read and write.
const CHUNK_BLOCKS: usize = 8192;

/// More tensors than any model has (a 235B mixture of experts has about
/// 19,000): a header claiming more is refused before its entries are kept.
pub const MAX_TENSORS: u64 = 1 << 17;
/// A metadata section larger than any real one (a 150,000-token vocabulary
/// with its merges is about 10 MB), held in memory while the header is
/// rewritten.
pub const MAX_METADATA_BYTES: u64 = 256 << 20;

/// The types candle runs without a SIMD kernel, which [`requantize`] rewrites.
pub const SLOW_TYPES: &[&str] = &["Q4_1", "Q5_0", "Q5_1"];

/// What to convert the slow tensors to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// 8.5 bits per weight, next to lossless from 4- and 5-bit types.
    #[default]
    Q8_0,
    /// 4.5 bits per weight: the smallest, with some loss.
    Q4_0,
}

impl Target {
    fn ty(self) -> u32 {
        match self {
            Target::Q8_0 => Q8_0,
            Target::Q4_0 => Q4_0,
        }
    }

    /// llama.cpp's `llama_ftype` for a file mostly of this type.
    fn file_type(self) -> u32 {
        match self {
            Target::Q8_0 => 7,
            Target::Q4_0 => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Q8_0 => "Q8_0",
            Target::Q4_0 => "Q4_0",
        }
    }
}

/// Where a conversion is: bytes of tensor data read so far, of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// What a conversion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Tensors rewritten, of `tensors`.
    pub converted: u64,
    pub tensors: u64,
    /// The new file's size.
    pub bytes: u64,
}

/// Why a conversion did not finish. The output is then incomplete: callers
/// write it to a temporary file and drop it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequantError {
    /// The source is not a GGUF file this crate reads (see [`crate::read`]).
    #[error(transparent)]
    Source(#[from] GgufError),
    #[error("cannot write the converted file: {0}")]
    Write(std::io::Error),
    #[error("the conversion was cancelled")]
    Cancelled,
}

/// Whether a file has tensors [`requantize`] would rewrite.
pub fn has_slow_tensors(info: &crate::GgufInfo) -> bool {
    SLOW_TYPES
        .iter()
        .any(|t| info.tensor_types.contains_key(*t))
}

/// One tensor's entry in the header.
struct TensorInfo {
    name: String,
    dims: Vec<u64>,
    ty: u32,
    offset: u64,
}

impl TensorInfo {
    fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// The parts of a header a rewrite needs.
struct Layout {
    version: u32,
    kv_count: u64,
    /// The metadata section's bytes in the file: `[start, end)`.
    kv: (u64, u64),
    /// Where `general.file_type`'s 4-byte value is, when it is a 32-bit integer.
    file_type_at: Option<(u64, u32)>,
    alignment: u64,
    tensors: Vec<TensorInfo>,
    data_start: u64,
}

/// Writes `src` with its slow tensors as `target` into `out`, calling
/// `progress` after each chunk; `progress` returning `false` cancels.
pub fn requantize(
    src: &Path,
    out: &mut File,
    target: Target,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Converted, RequantError> {
    // The whole header is checked (sizes, limits, truncation) before a byte is written.
    let info = crate::read(src)?;
    if info.tensor_count > MAX_TENSORS {
        return Err(GgufError::OverLimit {
            what: "tensor count",
            found: info.tensor_count,
            limit: MAX_TENSORS,
        }
        .into());
    }
    let file = File::open(src).map_err(|e| GgufError::Io(e.to_string()))?;
    let size = file
        .metadata()
        .map_err(|e| GgufError::Io(e.to_string()))?
        .len();
    let mut reader = Reader {
        inner: BufReader::with_capacity(1 << 16, file),
        pos: 0,
        size,
    };
    let layout = layout(&mut reader)?;
    let mut src = reader.inner.into_inner();
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let written = write_header(&mut src, &mut w, &layout, target)?;
    let (converted, bytes) = write_data(&mut src, &mut w, &layout, target, written, progress)?;
    w.flush().map_err(RequantError::Write)?;
    Ok(Converted {
        converted,
        tensors: layout.tensors.len() as u64,
        bytes,
    })
}

fn layout<R: Read>(r: &mut Reader<R>) -> Result<Layout, GgufError> {
    let _magic: [u8; 4] = r.bytes()?;
    let version = r.u32()?;
    let tensor_count = r.u64()?;
    let kv_count = r.u64()?;
    let kv_start = r.pos;
    let mut file_type_at = None;
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..kv_count {
        let key = r.key()?;
        let ty = r.u32()?;
        let at = r.pos;
        let value = r.value(ty)?;
        match (key.as_str(), value) {
            ("general.file_type", Value::Int(v)) if ty == 4 || ty == 5 => {
                file_type_at = u32::try_from(v).ok().map(|v| (at, v));
            }
            ("general.alignment", Value::Int(a)) => {
                alignment = u64::try_from(a).unwrap_or(DEFAULT_ALIGNMENT);
            }
            _ => {}
        }
    }
    let kv = (kv_start, r.pos);
    if r.pos - kv_start > MAX_METADATA_BYTES {
        return Err(GgufError::OverLimit {
            what: "metadata size",
            found: r.pos - kv_start,
            limit: MAX_METADATA_BYTES,
        });
    }
    let mut tensors = Vec::new();
    for _ in 0..tensor_count {
        let name = r.key()?;
        let n = r.u32()?;
        let dims = (0..n).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        let ty = r.u32()?;
        let offset = r.u64()?;
        tensors.push(TensorInfo {
            name,
            dims,
            ty,
            offset,
        });
    }
    Ok(Layout {
        version,
        kv_count,
        kv,
        file_type_at,
        alignment,
        data_start: r.pos.div_ceil(alignment) * alignment,
        tensors,
    })
}

fn is_slow(ty: u32) -> bool {
    matches!(ty, Q4_1 | Q5_0 | Q5_1)
}

fn out_type(ty: u32, target: Target) -> u32 {
    if is_slow(ty) { target.ty() } else { ty }
}

fn bytes_of(ty: u32, elements: u64) -> u64 {
    // The header was read by `crate::read`, which checked every type.
    tensor_bytes(ty, elements).unwrap_or(0)
}

fn write_header(
    src: &mut File,
    w: &mut impl Write,
    layout: &Layout,
    target: Target,
) -> Result<u64, RequantError> {
    let mut head = Vec::new();
    head.extend_from_slice(b"GGUF");
    head.extend_from_slice(&layout.version.to_le_bytes());
    head.extend_from_slice(&(layout.tensors.len() as u64).to_le_bytes());
    head.extend_from_slice(&layout.kv_count.to_le_bytes());
    let prefix = head.len() as u64;
    let (start, end) = layout.kv;
    head.resize(head.len() + usize_of(end - start)?, 0);
    let kv_at = usize_of(prefix)?;
    src.seek(SeekFrom::Start(start))
        .and_then(|_| src.read_exact(&mut head[kv_at..]))
        .map_err(|e| GgufError::Io(e.to_string()))?;
    if let Some((at, ft)) = layout.file_type_at
        && matches!(ft, 3 | 8 | 9)
    {
        // Q4_1, Q5_0, Q5_1 "mostly": the file is now mostly the target.
        let at = usize_of(at - start + prefix)?;
        head[at..at + 4].copy_from_slice(&target.file_type().to_le_bytes());
    }
    let mut offset = 0_u64;
    for t in &layout.tensors {
        head.extend_from_slice(&(t.name.len() as u64).to_le_bytes());
        head.extend_from_slice(t.name.as_bytes());
        // At most crate::MAX_DIMS, checked by the reader.
        #[allow(clippy::cast_possible_truncation)]
        head.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
        for d in &t.dims {
            head.extend_from_slice(&d.to_le_bytes());
        }
        let ty = out_type(t.ty, target);
        head.extend_from_slice(&ty.to_le_bytes());
        head.extend_from_slice(&offset.to_le_bytes());
        offset += bytes_of(ty, t.elements()).div_ceil(layout.alignment) * layout.alignment;
    }
    pad(&mut head, layout.alignment);
    w.write_all(&head).map_err(RequantError::Write)?;
    Ok(head.len() as u64)
}

fn pad(v: &mut Vec<u8>, alignment: u64) {
    let len = v.len() as u64;
    v.resize(
        usize::try_from(len.div_ceil(alignment) * alignment).unwrap_or(v.len()),
        0,
    );
}

fn usize_of(n: u64) -> Result<usize, GgufError> {
    usize::try_from(n).map_err(|_| GgufError::Corrupt("a header larger than memory".into()))
}

fn write_data(
    src: &mut File,
    w: &mut impl Write,
    layout: &Layout,
    target: Target,
    header: u64,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<(u64, u64), RequantError> {
    let total: u64 = layout
        .tensors
        .iter()
        .map(|t| bytes_of(t.ty, t.elements()))
        .sum();
    let mut done = 0_u64;
    let mut written = header;
    let mut converted = 0_u64;
    let zeros = vec![0_u8; usize_of(layout.alignment)?];
    let mut input = Vec::new();
    let mut output = Vec::new();
    for t in &layout.tensors {
        let in_bytes = bytes_of(t.ty, t.elements());
        src.seek(SeekFrom::Start(layout.data_start + t.offset))
            .map_err(|e| GgufError::Io(e.to_string()))?;
        let slow = is_slow(t.ty);
        converted += u64::from(slow);
        let in_block = bytes_of(t.ty, BLOCK as u64);
        // Whole blocks per chunk (a non-block type's "block" is one element).
        let chunk = if slow {
            in_block * CHUNK_BLOCKS as u64
        } else {
            1 << 20
        };
        let mut left = in_bytes;
        while left > 0 {
            let n = left.min(chunk);
            input.resize(usize_of(n)?, 0);
            src.read_exact(&mut input)
                .map_err(|e| GgufError::Io(e.to_string()))?;
            let bytes = if slow {
                output.clear();
                convert(t.ty, target, &input, &mut output);
                &output
            } else {
                &input
            };
            w.write_all(bytes).map_err(RequantError::Write)?;
            written += bytes.len() as u64;
            left -= n;
            done += n;
            if !progress(Progress { done, total }) {
                return Err(RequantError::Cancelled);
            }
        }
        let padding = written.div_ceil(layout.alignment) * layout.alignment - written;
        w.write_all(&zeros[..usize_of(padding)?])
            .map_err(RequantError::Write)?;
        written += padding;
    }
    Ok((converted, written))
}

/// Converts whole blocks of type `ty` in `input` to `target`, appended to `out`.
fn convert(ty: u32, target: Target, input: &[u8], out: &mut Vec<u8>) {
    let width = usize::try_from(bytes_of(ty, BLOCK as u64)).unwrap_or(usize::MAX);
    let mut values = [0_f32; BLOCK];
    for block in input.chunks_exact(width) {
        dequantize(ty, block, &mut values);
        match target {
            Target::Q8_0 => quantize_q8_0(&values, out),
            Target::Q4_0 => quantize_q4_0(&values, out),
        }
    }
}

fn half_at(b: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f32()
}

/// ggml's reference dequantisation of one block (`dequantize_row_*`).
#[allow(clippy::cast_precision_loss)] // 4- and 5-bit levels are exact in f32
fn dequantize(ty: u32, b: &[u8], y: &mut [f32; BLOCK]) {
    let d = half_at(b, 0);
    match ty {
        Q4_0 => nibbles(&b[2..18], |j, lo, hi| {
            y[j] = (f32::from(lo) - 8.0) * d;
            y[j + 16] = (f32::from(hi) - 8.0) * d;
        }),
        Q4_1 => {
            let m = half_at(b, 2);
            nibbles(&b[4..20], |j, lo, hi| {
                y[j] = f32::from(lo) * d + m;
                y[j + 16] = f32::from(hi) * d + m;
            });
        }
        Q5_0 | Q5_1 => {
            let (m, bias, qh_at) = if ty == Q5_1 {
                (half_at(b, 2), 0.0, 4)
            } else {
                (0.0, 16.0, 2)
            };
            let qh = u32::from_le_bytes([b[qh_at], b[qh_at + 1], b[qh_at + 2], b[qh_at + 3]]);
            nibbles(&b[qh_at + 4..qh_at + 20], |j, lo, hi| {
                let h0 = ((qh >> j) << 4) & 0x10;
                let h1 = (qh >> (j + 12)) & 0x10;
                y[j] = ((u32::from(lo) | h0) as f32 - bias) * d + m;
                y[j + 16] = ((u32::from(hi) | h1) as f32 - bias) * d + m;
            });
        }
        Q8_0 => {
            for (j, q) in b[2..34].iter().enumerate() {
                y[j] = f32::from(q.cast_signed()) * d;
            }
        }
        _ => unreachable!("only block types of 32 are converted"),
    }
}

fn nibbles(qs: &[u8], mut f: impl FnMut(usize, u8, u8)) {
    for (j, q) in qs.iter().enumerate() {
        f(j, q & 0x0f, q >> 4);
    }
}

/// ggml's `quantize_row_q8_0_ref` for one block.
#[allow(clippy::cast_possible_truncation)] // rounded into [-127, 127]
fn quantize_q8_0(x: &[f32; BLOCK], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0_f32, |a, v| a.max(v.abs()));
    let d = amax / 127.0;
    let id = if d == 0.0 { 0.0 } else { 1.0 / d };
    out.extend_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
    out.extend(x.iter().map(|v| ((v * id).round() as i8).cast_unsigned()));
}

/// ggml's `quantize_row_q4_0_ref` for one block: the value of largest
/// magnitude maps to -8, so the scale keeps its sign.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in [0, 15]
fn quantize_q4_0(x: &[f32; BLOCK], out: &mut Vec<u8>) {
    let max = x
        .iter()
        .fold(0_f32, |m, &v| if v.abs() > m.abs() { v } else { m });
    let d = max / -8.0;
    let id = if d == 0.0 { 0.0 } else { 1.0 / d };
    out.extend_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
    let q = |v: f32| ((v * id + 8.5) as i8).clamp(0, 15) as u8;
    out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
}

/// Dequantises a whole tensor's bytes of type `ty` (tests and checks).
#[doc(hidden)]
pub fn dequantize_all(ty: u32, bytes: &[u8]) -> Vec<f32> {
    let width = usize::try_from(bytes_of(ty, BLOCK as u64)).unwrap_or(usize::MAX);
    let mut y = [0_f32; BLOCK];
    let mut out = Vec::with_capacity(bytes.len() / width * BLOCK);
    for block in bytes.chunks_exact(width) {
        dequantize(ty, block, &mut y);
        out.extend_from_slice(&y);
    }
    out
}

#[cfg(test)]
#[path = "requant_tests.rs"]
mod tests;
