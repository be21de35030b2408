//! Any recording in, 16 kHz mono `f32` out, a block at a time.
//!
//! symphonia demuxes and decodes (wav, mp3, m4a/aac, ogg/vorbis, flac, alac,
//! and the audio track of mp4/mov/mkv/webm; Opus through libopus); channels
//! are averaged to mono;
//! rubato's FFT resampler brings any rate to 16 kHz. Nothing holds more than
//! one packet and one resampler block: a 3-hour file streams through in the
//! same memory as a 3-second one.
//!
//! [`measure_duration`] decodes bytes already in memory (an upload) only to
//! count their frames: what a recording lasts is what decodes, not what its
//! header announces, since a header is whatever the sender wrote.

use std::borrow::Cow;
use std::fs::File;
use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};
use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::{TranscribeError, limits};

/// The sample rate speech models take.
pub const SAMPLE_RATE: u32 = 16_000;

/// Input frames per resampler step.
const RESAMPLE_BLOCK: usize = 1024;

/// This many packets in a row that fail to decode end the file: a few bad
/// packets are skipped (a scratch in a recording), a file of garbage is not
/// read to its end.
const MAX_BAD_PACKETS: u32 = 50;

/// What the file holds, as far as the container says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: usize,
    /// From the container's frame count; `None` when it does not say (some
    /// streams, raw ADTS), in which case progress shows no total.
    pub duration_ms: Option<u64>,
    /// The codec's short name (`mp3`, `aac`, `pcm_s16le`…).
    pub codec: String,
}

/// A decoder positioned at the start of a file's first audio track.
pub struct Decoder {
    format: Box<dyn FormatReader>,
    codec: Box<dyn AudioDecoder>,
    track_id: u32,
    info: AudioInfo,
    /// `None` when the file is at 16 kHz already.
    resampler: Option<Fft<f32>>,
    /// Mono samples at the input rate, waiting for a full resampler block.
    pending: Vec<f32>,
    interleaved: Vec<f32>,
    /// Output frames of the resampler's delay still to drop.
    delay_left: usize,
    /// Input frames fed to the resampler, and their rate: what the output
    /// must amount to (rounding per packet would drop a frame each time).
    input_frames: u64,
    input_rate: u32,
    produced: u64,
    finished: bool,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// Opens `path` and finds its audio. Fails with a clear error on an empty
    /// file, a format nobody can read, or a video without sound.
    pub fn open(path: &Path) -> Result<Decoder, TranscribeError> {
        limits::unwinding(|| Decoder::open_unguarded(path))
    }

    fn open_unguarded(path: &Path) -> Result<Decoder, TranscribeError> {
        let file = File::open(path).map_err(|e| TranscribeError::io(path, &e))?;
        let len = file
            .metadata()
            .map_err(|e| TranscribeError::io(path, &e))?
            .len();
        if len == 0 {
            return Err(TranscribeError::EmptyFile);
        }
        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let format = probe(mss, path.extension().and_then(|e| e.to_str()))?;
        Decoder::from_format(format)
    }

    fn from_format(format: Box<dyn FormatReader>) -> Result<Decoder, TranscribeError> {
        let (track_id, info, codec) = open_track(&*format)?;
        Ok(Decoder {
            format,
            codec,
            track_id,
            info,
            resampler: None,
            pending: Vec::new(),
            interleaved: Vec::new(),
            delay_left: 0,
            input_frames: 0,
            input_rate: 0,
            produced: 0,
            finished: false,
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The next samples at 16 kHz mono, or `None` at the end of the file.
    /// Blocks may be of any length, empty ones included.
    /// A file that passes one of [`limits`], or makes a decoder panic, ends
    /// with an error, and the decoder stays finished.
    pub fn next_block(&mut self) -> Result<Option<Vec<f32>>, TranscribeError> {
        if self.finished {
            return Ok(None);
        }
        let block = limits::unwinding(|| self.next_block_unguarded());
        if block.is_err() {
            self.finished = true;
        }
        block
    }

    fn next_block_unguarded(&mut self) -> Result<Option<Vec<f32>>, TranscribeError> {
        loop {
            let (interleaved, mut mono) = (&mut self.interleaved, Vec::new());
            let mut spec = Ok((0, 0));
            let decoded = decode_next(&mut *self.format, &mut *self.codec, self.track_id, |buf| {
                spec = checked_spec(buf);
                if let Ok((_, channels)) = spec {
                    interleaved.resize(buf.samples_interleaved(), 0.0);
                    buf.copy_to_slice_interleaved(&mut *interleaved);
                    mono = downmix(interleaved, channels);
                }
            })?;
            if !decoded {
                return self.flush();
            }
            let (rate, _) = spec?;
            if self.info.sample_rate == 0 {
                self.info.sample_rate = rate;
            }
            let out = self.resample(rate, &mono)?;
            limits::check_duration(Duration::from_millis(
                self.produced.saturating_mul(1000) / u64::from(SAMPLE_RATE),
            ))?;
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }

    fn resample(&mut self, rate: u32, mono: &[f32]) -> Result<Vec<f32>, TranscribeError> {
        if rate == SAMPLE_RATE && self.resampler.is_none() {
            self.produced += mono.len() as u64;
            return Ok(mono.to_vec());
        }
        if self.resampler.is_none() {
            let r = Fft::<f32>::new(
                rate as usize,
                SAMPLE_RATE as usize,
                RESAMPLE_BLOCK,
                1,
                FixedSync::Input,
            )
            .map_err(|e| TranscribeError::Corrupt(format!("cannot resample {rate} Hz: {e}")))?;
            self.delay_left = r.output_delay();
            self.resampler = Some(r);
        }
        self.input_frames += mono.len() as u64;
        self.input_rate = rate;
        self.pending.extend_from_slice(mono);
        let mut out = Vec::new();
        while self.pending.len() >= RESAMPLE_BLOCK {
            self.step(RESAMPLE_BLOCK, &mut out)?;
            self.pending.drain(..RESAMPLE_BLOCK);
        }
        Ok(out)
    }

    /// One resampler step over the first `valid` pending frames (the rest silence).
    fn step(&mut self, valid: usize, out: &mut Vec<f32>) -> Result<(), TranscribeError> {
        let Some(r) = self.resampler.as_mut() else {
            return Ok(());
        };
        let mut input = vec![0.0_f32; RESAMPLE_BLOCK];
        input[..valid].copy_from_slice(&self.pending[..valid]);
        let adapter = InterleavedSlice::new(&input[..], 1, RESAMPLE_BLOCK)
            .map_err(|e| TranscribeError::Corrupt(e.to_string()))?;
        let indexing = (valid < RESAMPLE_BLOCK).then_some(Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: Some(valid),
            active_channels_mask: None,
        });
        let resampled = r
            .process(&adapter, indexing.as_ref())
            .map_err(|e| TranscribeError::Corrupt(e.to_string()))?
            .take_data();
        let skip = self.delay_left.min(resampled.len());
        self.delay_left -= skip;
        let room = self.expected_out().saturating_sub(self.produced);
        let take = usize::try_from(room)
            .map_or(resampled.len() - skip, |r| (resampled.len() - skip).min(r));
        out.extend_from_slice(&resampled[skip..skip + take]);
        self.produced += take as u64;
        Ok(())
    }

    fn expected_out(&self) -> u64 {
        if self.input_rate == 0 {
            return 0;
        }
        self.input_frames * u64::from(SAMPLE_RATE) / u64::from(self.input_rate)
    }

    /// The resampler's tail: the last partial block, then silence until every
    /// input frame has come out (its delay).
    fn flush(&mut self) -> Result<Option<Vec<f32>>, TranscribeError> {
        self.finished = true;
        let mut out = Vec::new();
        if self.resampler.is_some() {
            let valid = self.pending.len();
            self.step(valid, &mut out)?;
            self.pending.clear();
            // A few silent steps push the delayed frames out.
            let mut guard = 0;
            while self.produced < self.expected_out() && guard < 64 {
                self.step(0, &mut out)?;
                guard += 1;
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// How long in-memory audio lasts, by decoding every packet of its first
/// audio track and counting the frames that come out (nothing is resampled,
/// nothing kept). `extension` (`mp3`, `m4a`…, from the file's name) only helps
/// the probe; the bytes decide.
///
/// Nothing announced is trusted: not the container's frame count, and not a
/// WAV `data` chunk's size when more samples follow it than it admits (see
/// [`wav_counted_to_the_end`]). A cut file lasts what it holds; 50 packets in
/// a row that do not decode end it with an error, as in [`Decoder`]. The
/// caller bounds the input (the gateway's body limit): decoding costs CPU
/// in proportion to the audio, so call it off the async runtime.
///
/// Fails on empty input, bytes that are not audio, no audio track, an
/// unsupported codec, a damaged stream, or audio of which no frame decodes.
pub fn measure_duration(
    bytes: &[u8],
    extension: Option<&str>,
) -> Result<Duration, TranscribeError> {
    limits::unwinding(|| measure_unguarded(bytes, extension))
}

fn measure_unguarded(bytes: &[u8], extension: Option<&str>) -> Result<Duration, TranscribeError> {
    if bytes.is_empty() {
        return Err(TranscribeError::EmptyFile);
    }
    let bytes = wav_counted_to_the_end(bytes);
    let source = Box::new(Cursor::new(&*bytes));
    let mss = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let mut format = probe(mss, extension)?;
    let (track_id, _, mut codec) = open_track(&*format)?;
    let mut tally = Tally::default();
    let mut spec = Ok((0, 0));
    while decode_next(&mut *format, &mut *codec, track_id, |buf| {
        spec = checked_spec(buf);
        tally.add(buf.frames() as u64, buf.spec().rate());
    })? {
        spec.clone()?;
        limits::check_duration(tally.total().unwrap_or(Duration::MAX))?;
    }
    tally
        .total()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| TranscribeError::NotAudio("no audio frame decodes from it".into()))
}

/// Decoded frames added up, exactly, across changes of sample rate.
#[derive(Debug, Default)]
struct Tally {
    /// The time of the frames at earlier rates.
    done: Duration,
    frames: u64,
    rate: u32,
}

impl Tally {
    fn add(&mut self, frames: u64, rate: u32) {
        if rate != self.rate {
            self.done = self.total().unwrap_or(Duration::MAX);
            self.frames = 0;
            self.rate = rate;
        }
        self.frames = self.frames.saturating_add(frames);
    }

    /// `None` on an overflow, which bounded input cannot reach.
    fn total(&self) -> Option<Duration> {
        if self.rate == 0 {
            return Some(self.done);
        }
        let nanos = u128::from(self.frames) * 1_000_000_000 / u128::from(self.rate);
        self.done
            .checked_add(Duration::from_nanos(u64::try_from(nanos).ok()?))
    }
}

/// A WAV whose `data` chunk announces fewer bytes than follow it, as a copy
/// whose `data` chunk runs to the end of the bytes; anything else unchanged.
/// symphonia stops where the chunk says it ends, so a header announcing 1 s
/// in front of 13 minutes of samples would otherwise measure 1 s. What
/// follows an honest `data` chunk is more chunks (`LIST`, `id3 `…), each
/// tagged with printable characters, ending at the end of the file: such a
/// file is left as it is, and its metadata is not counted as sound.
fn wav_counted_to_the_end(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Cow::Borrowed(bytes);
    }
    let Some((data_at, data_len)) = find_chunk(bytes, *b"data") else {
        return Cow::Borrowed(bytes);
    };
    let after = data_at
        .saturating_add(8)
        .saturating_add(data_len)
        .saturating_add(data_len & 1);
    if after >= bytes.len() || chunks_reach_the_end(bytes, after) {
        return Cow::Borrowed(bytes);
    }
    // The lengths there really are; "unknown" (which would drop the last
    // partial packet) only past 4 GiB.
    let len_field = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut copy = bytes.to_vec();
    copy[4..8].copy_from_slice(&len_field(bytes.len() - 8));
    copy[data_at + 4..data_at + 8].copy_from_slice(&len_field(bytes.len() - data_at - 8));
    Cow::Owned(copy)
}

/// A RIFF chunk's header at `at`: its tag and its announced length.
fn chunk_at(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let header = bytes.get(at..at.checked_add(8)?)?;
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    Some((&header[..4], usize::try_from(len).ok()?))
}

/// Where the first `tag` chunk after the RIFF header starts, and the length
/// it announces.
fn find_chunk(bytes: &[u8], tag: [u8; 4]) -> Option<(usize, usize)> {
    let mut at = 12;
    while let Some((id, len)) = chunk_at(bytes, at) {
        if id == tag.as_slice() {
            return Some((at, len));
        }
        at = at.checked_add(8)?.checked_add(len)?.checked_add(len & 1)?;
    }
    None
}

/// Whether the bytes from `at` on are whole chunks, each tagged with
/// printable characters, that end at the end of `bytes` (the last one's pad
/// byte may be missing).
fn chunks_reach_the_end(bytes: &[u8], mut at: usize) -> bool {
    while at < bytes.len() {
        let Some((id, len)) = chunk_at(bytes, at) else {
            return false;
        };
        let end = at.saturating_add(8).saturating_add(len);
        if end > bytes.len() || !id.iter().all(|b| (b' '..=b'~').contains(b)) {
            return false;
        }
        at = end + (len & 1);
    }
    true
}

/// Probes `mss`, with the file's extension as a hint, for a container.
fn probe<'s>(
    mss: MediaSourceStream<'s>,
    extension: Option<&str>,
) -> Result<Box<dyn FormatReader + 's>, TranscribeError> {
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::IoError(_) | SymphoniaError::Unsupported(_) => {
                TranscribeError::NotAudio("no audio or video format recognised in it".to_owned())
            }
            other => TranscribeError::NotAudio(other.to_string()),
        })
}

/// The container's first audio track: its id, what it says of itself, and a
/// decoder for it.
fn open_track(
    format: &dyn FormatReader,
) -> Result<(u32, AudioInfo, Box<dyn AudioDecoder>), TranscribeError> {
    let track = format
        .default_track(TrackType::Audio)
        .or_else(|| {
            format
                .tracks()
                .iter()
                .find(|t| t.codec_params.as_ref().is_some_and(|p| p.audio().is_some()))
        })
        .ok_or(TranscribeError::NoAudioTrack)?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(TranscribeError::NoAudioTrack)?;
    if let Some(rate) = params.sample_rate {
        limits::check_rate(rate)?;
    }
    if let Some(channels) = &params.channels {
        limits::check_channels(channels.count())?;
    }
    let codec = codec_name(params.codec);
    let decoder = codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|_| TranscribeError::UnsupportedCodec(codec.clone()))?;
    let duration_ms = match (track.num_frames, params.sample_rate) {
        (Some(frames), Some(rate)) if rate > 0 => Some(frames * 1000 / u64::from(rate)),
        _ => None,
    };
    let info = AudioInfo {
        sample_rate: params.sample_rate.unwrap_or(0),
        channels: params
            .channels
            .as_ref()
            .map_or(0, symphonia::core::audio::Channels::count),
        duration_ms,
        codec,
    };
    Ok((track.id, info, decoder))
}

/// Decodes the track's next packet that decodes and hands it to `use_buf`;
/// `false` at the end of the stream. Bad packets are stepped over, up to
/// [`MAX_BAD_PACKETS`] in a row; a cut file ends where it is cut.
fn decode_next(
    format: &mut dyn FormatReader,
    codec: &mut dyn AudioDecoder,
    track_id: u32,
    use_buf: impl FnOnce(&GenericAudioBufferRef<'_>),
) -> Result<bool, TranscribeError> {
    let mut bad = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            // The end, or a stream whose layout changed (chained ogg): what
            // was read is the recording.
            Ok(None) | Err(SymphoniaError::ResetRequired) => return Ok(false),
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                tracing::warn!("the recording ends early (truncated file)");
                return Ok(false);
            }
            Err(e) => return Err(TranscribeError::Corrupt(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        match codec.decode(&packet) {
            Ok(buf) => {
                use_buf(&buf);
                return Ok(true);
            }
            Err(SymphoniaError::DecodeError(e)) => {
                bad += 1;
                if bad >= MAX_BAD_PACKETS {
                    return Err(TranscribeError::Corrupt(format!(
                        "{MAX_BAD_PACKETS} packets in a row do not decode ({e})"
                    )));
                }
            }
            Err(SymphoniaError::IoError(_)) => {}
            Err(e) => return Err(TranscribeError::Corrupt(e.to_string())),
        }
    }
}

/// symphonia's decoders plus Opus (libopus through its adapter: symphonia
/// 0.6 has no Opus decoder of its own), built once.
fn codecs() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// The codec's short name (`pcm_s16le`, `mp3`, `aac`), from the decoder
/// registry; the few well-known codecs nothing here decodes are named too,
/// so that the error says what the file holds.
fn codec_name(id: symphonia::core::codecs::audio::AudioCodecId) -> String {
    use symphonia::core::codecs::audio::well_known as wk;
    if let Some(d) = codecs().get_audio_decoder(id) {
        return d.codec.info.short_name.to_owned();
    }
    let known = [
        (wk::CODEC_ID_SPEEX, "speex"),
        (wk::CODEC_ID_AC3, "ac3"),
        (wk::CODEC_ID_EAC3, "eac3"),
        (wk::CODEC_ID_DCA, "dts"),
        (wk::CODEC_ID_WMA, "wma"),
        (wk::CODEC_ID_WAVPACK, "wavpack"),
        (wk::CODEC_ID_TRUEHD, "truehd"),
    ];
    known.iter().find(|(k, _)| *k == id).map_or_else(
        || format!("{id:?}").to_lowercase(),
        |(_, n)| (*n).to_owned(),
    )
}

/// A decoded packet's rate and channel count, within [`limits`] (the rate
/// may change mid-stream, so every packet is checked, not only the header).
fn checked_spec(buf: &GenericAudioBufferRef<'_>) -> Result<(u32, usize), TranscribeError> {
    let rate = buf.spec().rate();
    let channels = buf.spec().channels().count().max(1);
    limits::check_rate(rate)?;
    limits::check_channels(channels)?;
    limits::check_packet(buf.samples_interleaved())?;
    Ok((rate, channels))
}

/// Averages interleaved channels.
fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    #[allow(clippy::cast_precision_loss)] // a channel count
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

/// The fuzzer's entry (and the corpus replay's): `data` as an upload
/// whose name ends in the extension its first byte picks, measured as the
/// gateway measures uploads. An error or a length, never a panic or a
/// blow-up.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    const EXTENSIONS: [&str; 8] = ["wav", "mp3", "m4a", "ogg", "flac", "webm", "opus", "aac"];
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[usize::from(which) % EXTENSIONS.len()];
    if let Ok(length) = measure_duration(bytes, Some(ext)) {
        assert!(length <= limits::MAX_DURATION);
    }
}

#[cfg(test)]
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)] // test signals
pub(crate) mod tests {
    use super::*;

    /// A 16-bit PCM WAV of `seconds` of a 440 Hz tone.
    pub(crate) fn tone_wav(rate: u32, channels: u16, seconds: f32) -> Vec<u8> {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let frames = (rate as f32 * seconds) as u32;
        let data_len = frames * u32::from(channels) * 2;
        let mut out = llmaas_sim::media::wav_header(rate, channels, data_len);
        for i in 0..frames {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f32 / rate as f32;
            #[allow(clippy::cast_possible_truncation)]
            let v = ((t * 440.0 * std::f32::consts::TAU).sin() * 12_000.0) as i16;
            for _ in 0..channels {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    fn decode_all(path: &Path) -> (AudioInfo, Vec<f32>) {
        let mut d = Decoder::open(path).unwrap();
        let mut all = Vec::new();
        while let Some(block) = d.next_block().unwrap() {
            all.extend(block);
        }
        (d.info().clone(), all)
    }

    #[test]
    fn resamples_any_rate_to_16k_mono_with_the_same_duration() {
        let dir = tempfile::tempdir().unwrap();
        for (rate, channels) in [
            (16_000, 1),
            (44_100, 2),
            (48_000, 1),
            (8_000, 1),
            (22_050, 6),
        ] {
            let p = dir.path().join(format!("t{rate}.wav"));
            std::fs::write(&p, tone_wav(rate, channels, 2.5)).unwrap();
            let (info, samples) = decode_all(&p);
            assert_eq!(info.sample_rate, rate);
            assert_eq!(info.channels, usize::from(channels));
            assert_eq!(info.duration_ms, Some(2500));
            let expected = 40_000_i64;
            let got = i64::try_from(samples.len()).unwrap();
            assert!((got - expected).abs() <= 2, "{rate} Hz: {got} samples");
            // The tone survives: a loud signal, not silence or noise blown up.
            let rms = (samples.iter().map(|s| s * s).sum::<f32>() / 40_000.0).sqrt();
            assert!((0.2..0.4).contains(&rms), "{rate} Hz: rms {rms}");
        }
    }

    #[test]
    fn bad_files_get_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            Decoder::open(&empty),
            Err(TranscribeError::EmptyFile)
        ));

        let noise = dir.path().join("noise.mp3");
        let bytes: Vec<u8> = (0..200_000_u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&noise, bytes).unwrap();
        match Decoder::open(&noise) {
            Err(e) => assert!(
                matches!(
                    e,
                    TranscribeError::NotAudio(_) | TranscribeError::Corrupt(_)
                ),
                "{e}"
            ),
            Ok(mut d) => {
                // A few frames may look like MP3 sync words; decoding must end, with an error or nothing much.
                let mut total = 0;
                while let Ok(Some(b)) = d.next_block() {
                    total += b.len();
                }
                assert!(total < 16_000 * 10, "{total}");
            }
        }

        let missing = dir.path().join("absent.wav");
        assert!(matches!(
            Decoder::open(&missing),
            Err(TranscribeError::Io { .. })
        ));
    }

    #[test]
    fn a_truncated_file_gives_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let whole = tone_wav(44_100, 2, 3.0);
        let p = dir.path().join("cut.wav");
        std::fs::write(&p, &whole[..whole.len() / 2]).unwrap();
        let mut d = Decoder::open(&p).unwrap();
        let mut n = 0;
        while let Ok(Some(b)) = d.next_block() {
            n += b.len();
        }
        assert!((20_000..28_000).contains(&n), "{n}");
    }

    /// `wav` with its `data` chunk announcing `seconds` of samples (16-bit).
    fn announcing(mut wav: Vec<u8>, rate: u32, channels: u16, seconds: u32) -> Vec<u8> {
        let data_len = seconds * rate * u32::from(channels) * 2;
        wav[4..8].copy_from_slice(&(36 + data_len).to_le_bytes());
        wav[40..44].copy_from_slice(&data_len.to_le_bytes());
        wav
    }

    fn seconds(bytes: &[u8], extension: Option<&str>) -> f64 {
        measure_duration(bytes, extension).unwrap().as_secs_f64()
    }

    #[test]
    fn a_recording_measures_the_frames_it_decodes() {
        for (rate, channels) in [(16_000, 1), (44_100, 2), (22_050, 6)] {
            let d = measure_duration(&tone_wav(rate, channels, 2.5), Some("wav")).unwrap();
            assert_eq!(d, Duration::from_millis(2500), "{rate} Hz");
        }
        // The hint only helps: a wrong one changes nothing.
        assert!((seconds(&tone_wav(8_000, 1, 3.0), Some("mp3")) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_wav_header_that_lies_is_not_believed() {
        // It announces 1 s and holds 70 s.
        let forged = announcing(tone_wav(16_000, 1, 70.0), 16_000, 1, 1);
        assert!((seconds(&forged, Some("wav")) - 70.0).abs() < 1e-9);
        let forged = announcing(tone_wav(44_100, 2, 70.0), 44_100, 2, 0);
        assert!((seconds(&forged, None) - 70.0).abs() < 1e-6);
        // It announces 10 s and holds 2: what is there.
        let short = announcing(tone_wav(16_000, 1, 2.0), 16_000, 1, 10);
        let got = seconds(&short, None);
        assert!((1.9..=2.0).contains(&got), "{got}");
    }

    #[test]
    fn metadata_after_the_samples_is_not_sound() {
        let mut wav = tone_wav(16_000, 1, 2.0);
        let info = b"LIST\x0e\0\0\0INFOISFT\x02\0\0\0x\0";
        wav.extend_from_slice(info);
        let riff = u32::try_from(wav.len() - 8).unwrap();
        wav[4..8].copy_from_slice(&riff.to_le_bytes());
        assert_eq!(
            measure_duration(&wav, None).unwrap(),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn what_is_not_audio_has_no_duration() {
        assert_eq!(measure_duration(b"", None), Err(TranscribeError::EmptyFile));
        let noise: Vec<u8> = (0..200_000_u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for (bytes, ext) in [
            (&b"%PDF-1.7 not a recording"[..], Some("wav")),
            (&noise[..], None),
            (&noise[..], Some("mp3")),
        ] {
            match measure_duration(bytes, ext) {
                Err(TranscribeError::NotAudio(_) | TranscribeError::Corrupt(_)) => {}
                other => panic!("{ext:?}: {other:?}"),
            }
        }
        // A header with no sample after it.
        let empty = tone_wav(16_000, 1, 0.0);
        assert!(matches!(
            measure_duration(&empty, None),
            Err(TranscribeError::NotAudio(_))
        ));
    }

    #[test]
    fn a_truncated_upload_measures_what_it_holds() {
        let whole = tone_wav(44_100, 2, 3.0);
        let got = seconds(&whole[..whole.len() / 2], Some("wav"));
        assert!((1.45..=1.5).contains(&got), "{got}");
    }
}
